"""`compliance impact`: a scenario judged like a hand-edited pack, located refusals, dates, workers, exit codes."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from compliance import api
from compliance.scenario import apply, load_scenario
from tests.helpers import ROOT, clean_plan

SCENARIOS = ROOT / "rules" / "scenarios"
DIA = SCENARIOS / "dia-final-2027.yaml"
HR2988 = SCENARIOS / "hr-2988-enacted.yaml"
PLANS = [ROOT / "examples" / "plan-repo" / "plans" / "northwind-401k.yaml", ROOT / "examples" / "acme-401k.yaml"]
EFFECTIVE = date(2027, 7, 1)


def _hand_edited(tmp_path: Path) -> Path:
    """The packs as a maintainer would edit them when the DIA rule is final (docs/rule-packs.md)."""
    folder = tmp_path / "rules"
    folder.mkdir()
    for pack in (ROOT / "rules").glob("*.yaml"):
        shutil.copy(pack, folder / pack.name)
    sources = (folder / "sources.yaml").read_text()
    line = '      - {status: proposed, since: 2026-03-31, note: "comments closed 2026-06-01; no final rule found as of 2026-11-25"}\n'
    assert line in sources
    (folder / "sources.yaml").write_text(sources.replace(line, line + (
        '      - {status: in_force, since: 2027-07-01, kind: regulation, note: "hypothetical final rule, effective '
        '2027-07-01 (scenario dia-final-2027)"}\n')))
    dia = (folder / "dia-selection-2026.yaml").read_text()
    assert dia.count("    severity: watch\n") == 6
    (folder / "dia-selection-2026.yaml").write_text(dia.replace("    severity: watch\n", "    severity: warning\n"))
    return folder


def _book(folder: Path) -> list[Path]:
    """The example plans, and plans with undocumented options, a brokerage window and a default with a sleeve."""
    folder.mkdir()
    plans = [Path(shutil.copy(p, folder / p.name)) for p in PLANS]
    for name, change in (("undocumented", lambda p: p["menu"][0].pop("due_diligence")),
                         ("window", lambda p: p.update(brokerage_window={"offered": True, "fees_disclosed": True})),
                         ("sleeve", lambda p: p["menu"][0].update(private_market_pct=10, due_diligence={}))):
        plan = clean_plan()
        change(plan)
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(plan, sort_keys=False))
        plans.append(path)
    return plans


def _items(report) -> list[tuple]:
    return sorted((f.rule_id, f.fund_id or "", f.severity, f.status, f.message, f.headline, f.facts,
                   tuple((c.pinpoint, c.source.history) for c in f.citations))
                  for o in report.outcomes for f in o.findings)


def test_a_scenario_judges_every_plan_as_the_pack_edited_by_hand(tmp_path, run_cli):
    edited = api.load_rules([_hand_edited(tmp_path)])
    bundled = api.load_rules(["bundled"])
    supposed = apply(bundled, load_scenario(DIA))
    moved = 0
    plans = _book(tmp_path / "book")
    for plan in plans:
        by_hand = api.check(plan, edited, EFFECTIVE)
        assert _items(api.check(plan, supposed, EFFECTIVE)) == _items(by_hand), plan
        assert [f.severity for f in by_hand.findings] == [f.severity for f in api.check(plan, supposed, EFFECTIVE).findings]
        moved += _items(by_hand) != _items(api.check(plan, bundled, EFFECTIVE))
    assert moved >= 2  # the scenario changes something in most of these plans
    # the command's after-counts are `check`'s counts under the hand-edited packs, plan by plan
    result = run_cli("impact", *map(str, plans), "--scenario", str(DIA), "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["after"]["as_of"] == "2027-07-01" and out["after"]["scenario"]["id"] == "dia-final-2027"
    checked = run_cli("check", *map(str, plans), "--rules", str(tmp_path / "rules"), "--as-of", "2027-07-01",
                      "--format", "json", "--fail-on", "never")
    counts = {p["file"]: p["counts"] for p in json.loads(checked.stdout)["plans"]}
    assert {p["file"]: p["counts"]["after"] for p in out["plans"]} == counts
    before = run_cli("check", *map(str, plans), "--as-of", "2027-07-01", "--format", "json", "--fail-on", "never")
    assert {p["file"]: p["counts"]["before"] for p in out["plans"]} == {
        p["file"]: p["counts"] for p in json.loads(before.stdout)["plans"]}
    # the proposal's watch items become warnings on the options they concern
    changes = [c for p in out["plans"] for c in p["changes"] if c["rule"].startswith("dia2026.")]
    assert changes and all(c["before"]["severity"] == "watch" and c["after"]["severity"] == "warning"
                           for c in changes if c["change"] == "changes")
    assert out["summary"]["affected"] == sum(p["affected"] for p in out["plans"]) >= 2
    assert {r["rule"] for r in out["rules"]} >= {"dia2026.performance", "dia2026.fees"}


def _scenario(tmp_path: Path, change: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text("scenario:\n  id: test\n  title: A test\n  hypothetical: Hypothetical.\n  basis: None.\n"
                    f"changes:\n  - {change}\n")
    return path


@pytest.mark.parametrize(("change", "field", "words"), [
    ("{source: dol-dia-final-2027, status: in_force, since: 2027-07-01, kind: regulation}", "source",
     "is not a loaded source"),
    ("{source: dol-dia-proposal-2026, status: in_force, since: 2027-07-01, kind: statute}", "kind",
     "cannot become a statute"),
    ("{source: dol-dia-proposal-2026, status: in_force, since: 2027-07-01}", "status",
     "record what it becomes (kind: regulation)"),
    ("{source: hr-2988-2026, status: precedent, since: 2027-07-01, kind: statute}", "status",
     "a statute in effect is in force"),
    ("{source: dol-dia-proposal-2026, status: in_force, since: 2026-06-01, kind: regulation}", "since",
     "inside the period the packs were checked through"),
    ("{source: anderson-intel, status: precedent, since: 2025-01-01}", "since", "is not after the last change"),
    ("{source: anderson-intel, status: precedent, since: 2027-06-30, kind: regulation}", "kind",
     "it keeps its kind"),
])
def test_a_scenario_the_doctrine_refuses_is_a_located_error(tmp_path, run_cli, change, field, words):
    path = _scenario(tmp_path, change)
    result = run_cli("impact", str(PLANS[0]), "--scenario", str(path))
    assert result.exit_code == 2
    assert re.match(rf"{re.escape(str(path))}:7:\d+: changes\[0\]\.{field}: ", result.stderr), result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr


def test_a_scenario_must_say_it_is_hypothetical(tmp_path, run_cli):
    path = tmp_path / "s.yaml"
    path.write_text("scenario:\n  id: test\n  title: A test\n  basis: None.\n"
                    "changes:\n  - {source: hr-2988-2026, status: in_force, since: 2027-07-01, kind: statute}\n")
    result = run_cli("impact", str(PLANS[0]), "--scenario", str(path))
    assert result.exit_code == 2 and f"{path}:1:1: scenario.hypothetical: " in result.stderr, result.stderr


def test_two_dates_show_pending_law_arriving(run_cli):
    result = run_cli("impact", str(PLANS[1]), "--as-of", "2025-12-31", "--to", "2026-11-22", "--format", "json")
    out = json.loads(result.stdout)
    assert out["before"]["as_of"] == "2025-12-31" and out["after"] == {"as_of": "2026-11-22", "scenario": None}
    appeared = {c["rule"] for c in out["plans"][0]["changes"] if c["change"] == "appears"}
    assert "erisa.pending.hr2988-default-pecuniary" in appeared  # the bill passed the House on 2026-01-15
    assert result.exit_code == (1 if out["summary"]["new_error"] else 0)


def test_workers_give_the_same_bytes_and_fail_on_judges_new_findings(tmp_path, run_cli):
    book = tmp_path / "book"
    _book(book)
    one = run_cli("impact", str(book), "--scenario", str(DIA))
    two = run_cli("impact", str(book), "--scenario", str(DIA), "--jobs", "2")
    assert one.stdout == two.stdout and one.exit_code == two.exit_code == 0
    assert "Hypothetical: This has not happened. The DOL has not finalised this rule" in one.stdout
    assert run_cli("impact", str(book), "--scenario", str(DIA), "--fail-on", "warning").exit_code == 1
    md = run_cli("impact", str(book), "--scenario", str(DIA), "--format", "markdown").stdout
    assert md.startswith("## Impact: The 2026 DIA selection rule is final") and "### By rule" in md


def test_an_enacted_bill_weighs_what_its_rules_check(run_cli):
    out = json.loads(run_cli("impact", str(PLANS[1]), "--scenario", str(HR2988), "--format", "json").stdout)
    moved = {c["rule"]: c for c in out["plans"][0]["changes"]}
    assert moved["erisa.pending.hr2988-default-pecuniary"]["after"]["severity"] == "info"  # a practice: info at most
    assert yaml.safe_load(HR2988.read_text())["scenario"]["hypothetical"].startswith("This has not happened.")
