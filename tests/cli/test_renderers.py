"""The text the CLI prints for posture, rules list, rules show and the memo's reproduction command is rendered by
the library modules that own it; the CLI only echoes it. These pin the layout those commands have always had."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compliance import api
from compliance.errors import InputError
from compliance.memo.output import memo_format, memo_targets, names_folder, reproduction_command
from compliance.posture import posture_json, posture_text
from compliance.reference import rule_text, rules_text

AS_OF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def ruleset():
    return api.load_rules(["bundled"])


def test_posture_is_printed_as_posture_renders_it(run_cli, ruleset):
    text = run_cli("posture", "--as-of", "2026-11-22").stdout
    assert text == posture_text(ruleset, AS_OF)
    lines = text.splitlines()
    assert lines[0] == "Regulatory posture as of 2026-11-22"
    assert lines[1].startswith("  note: rule packs current to ")
    assert lines[2] == "  1974-09-02  erisa-404a                 in force since 1974-09-02"
    assert lines[3].startswith("              ") and lines[3].endswith(")")
    assert len(lines) == 2 + 2 * len(ruleset.sources)
    assert run_cli("posture", "--as-of", "2026-11-22", "--format", "JSON").stdout == posture_json(ruleset, AS_OF)
    assert json.loads(posture_json(ruleset, AS_OF))["as_of"] == "2026-11-22"


def test_rules_list_and_show_are_printed_as_reference_renders_them(run_cli, ruleset):
    listed = run_cli("rules", "list", "--as-of", "2026-11-22").stdout
    assert listed == rules_text(ruleset, AS_OF)
    assert listed.splitlines()[-2] == f"{len(ruleset.rules)} rules in {len(ruleset.packs)} packs, as of 2026-11-22"
    rule = api.find_rule(ruleset, "digital.car2022.extreme-care")
    shown = run_cli("rules", "show", rule.id, "--as-of", "2026-11-22").stdout
    assert shown == rule_text(rule, AS_OF)
    lines = shown.splitlines()
    assert lines[0].startswith("digital.car2022.extreme-care: CAR 2022-01: ")
    assert lines[1] == "  pack: digital-assets (rules/digital-assets.yaml:23:5)"
    assert lines[2] == "  severity: warning, scope: fund, effective: always .. open"
    assert lines[3] == "  on 2026-11-22: not_applicable (dol-car-2022-01 rescinded since 2025-05-28 by dol-car-2025-01)"
    assert lines[4] == "" and lines[6] == "" and lines[7].startswith("Message: ") and lines[8].startswith("Remediation: ")
    assert lines[9:11] == ["", "Citations:"] and lines[-1].startswith("    https://")


def test_an_unknown_rule_id_suggests_the_nearest(ruleset):
    with pytest.raises(InputError, match="did you mean 'digital.car2022.extreme-care'"):
        api.find_rule(ruleset, "digital.car2022.extreme")


def test_the_memo_records_what_reproduces_it():
    assert reproduction_command(AS_OF, ["bundled"], None, None) == "compliance memo --as-of 2026-11-22"
    assert reproduction_command(AS_OF, ["bundled", "ours.yaml"], "HEAD~1", ".compliance.yaml") == (
        "compliance memo --as-of 2026-11-22 --rules bundled --rules ours.yaml --since HEAD~1 "
        "(settings: .compliance.yaml)")


def test_memo_outputs_are_named_from_the_output_and_mirror_the_plans_folders(tmp_path):
    assert names_folder(Path("memos/")) and names_folder(Path("memos")) and not names_folder(Path("memo.pdf"))
    assert not names_folder(Path("-"))
    assert memo_format(Path("memo.HTM"), None, False) == "html" and memo_format(Path("out"), None, True) == "pdf"
    with pytest.raises(InputError, match="not .txt"):
        memo_format(Path("memo.txt"), None, False)
    with pytest.raises(InputError, match="--format html writes HTML"):
        memo_format(Path("memo.pdf"), "html", False)
    plans = [str(tmp_path / "a" / "plan.yaml"), str(tmp_path / "b" / "plan.yaml")]
    assert memo_targets(plans, Path("memos"), "pdf") == [(plans[0], Path("memos/a/plan.pdf")),
                                                         (plans[1], Path("memos/b/plan.pdf"))]
    with pytest.raises(InputError, match="rename one of them"):
        memo_targets([plans[0], str(tmp_path / "a" / "plan.yml")], Path("memos"), "pdf")
