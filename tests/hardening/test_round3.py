"""Hardening, round 3 (issue 27): each hazard an independent attack found, as a test that failed before its fix."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import ROOT

AS_OF = ("--as-of", "2026-11-22")


@pytest.fixture
def plan_repo(tmp_path: Path) -> Path:
    """The example plan repository as a checkout: config, a policy pack in a folder, a plan."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "plan-repo", repo)
    (repo / ".git").mkdir()
    return repo


@pytest.mark.parametrize("args", [
    ("-o", "policy/northwind-ips.yaml"),
    ("--also", "sarif=.compliance.yaml"),
    ("--write-baseline", ".compliance.yaml"),
    ("--also", "markdown=policy/northwind-ips.yaml"),
])
def test_an_output_that_is_a_config_or_a_pack_found_in_a_folder_is_refused(plan_repo, run_cli, args):
    before = {p: p.read_bytes() for p in (plan_repo / ".compliance.yaml", plan_repo / "policy" / "northwind-ips.yaml")}
    result = run_cli("check", *AS_OF, *args, cwd=plan_repo)
    assert result.exit_code == 2, result.output
    assert f"{args[1].partition('=')[2] or args[1]}: cannot write: this file is also an input of the run" in result.stderr
    assert all(p.read_bytes() == data for p, data in before.items())


def test_rules_docs_refuses_to_write_over_a_pack_found_in_a_folder(plan_repo, run_cli):
    pack = plan_repo / "policy" / "northwind-ips.yaml"
    before = pack.read_bytes()
    result = run_cli("rules", "docs", "-o", "policy/northwind-ips.yaml", cwd=plan_repo)
    assert result.exit_code == 2 and "also an input of the run" in result.stderr, result.output
    assert pack.read_bytes() == before


@pytest.mark.parametrize("command", [
    ("memo", "plans/", "-o", "memos/", "--format", "html"),
    ("memo", "plans/northwind-401k.yaml", "-o", "memos/northwind.html", "--format", "html"),
    ("check", "-o", "memos/report.sarif", "--format", "sarif"),
    ("check", "--also", "markdown=memos/sub/summary.md"),
    ("rules", "docs", "-o", "memos/rules.md"),
])
def test_an_output_never_follows_a_committed_symlink_out_of_the_checkout(plan_repo, run_cli, command):
    elsewhere = plan_repo.parent / "elsewhere"
    elsewhere.mkdir()
    (plan_repo / "memos").symlink_to("../elsewhere")
    result = run_cli(*command, *AS_OF, cwd=plan_repo)
    assert result.exit_code == 2, result.output
    assert "leads out of the checkout through a symbolic link" in result.stderr
    assert list(elsewhere.rglob("*")) == []


def test_an_output_named_outside_the_checkout_is_still_written(plan_repo, run_cli, tmp_path):
    result = run_cli("check", *AS_OF, "--also", f"sarif={tmp_path / 'runner-temp.sarif'}", cwd=plan_repo)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runner-temp.sarif").is_file()


def _hostile_plan(folder: Path) -> Path:
    """The attack: a failing plan given a top-level `pack:` and its `menu:` renamed, so it is neither a plan nor a
    pack; it used to be skipped as a rule pack, and the run passed."""
    text = (ROOT / "examples" / "acme-401k.yaml").read_text().replace("\nmenu:", "\nmenu_renamed:")
    path = folder / "acme.yaml"
    path.write_text("pack: {id: acme}\n" + text)
    return path


FORMAT_SAYS = {  # how each format shows a file it was given: (an input error, a skipped rule pack)
    "text": (None, "skipped plans/starter-pack.yaml: is a rule pack"),
    "summary": (None, "skipped plans/starter-pack.yaml: is a rule pack"),
    "json": ('"input_errors": [\n    {\n      "file": "plans/acme.yaml"', '"skipped": [\n    {\n      "file": '
                                                                         '"plans/starter-pack.yaml"'),
    "sarif": ('"ruleId": "input-error"', '"ruleId": "skipped-rule-pack"'),
    "junit": ('<error message="plans/acme.yaml:', '<skipped message="plans/starter-pack.yaml: is a rule pack'),
    "github": ("::error file=plans/acme.yaml,", "::notice file=plans/starter-pack.yaml,"),
    "markdown": ("### Input errors (exit 2)", "### Skipped: rule packs, not plans"),
}


@pytest.mark.parametrize("fmt", FORMAT_SAYS)
def test_a_file_that_is_neither_plan_nor_pack_is_an_input_error_in_every_format(tmp_path, run_cli, fmt):
    (tmp_path / "plans").mkdir()
    _hostile_plan(tmp_path / "plans")
    for target in ("plans/", "plans/acme.yaml"):  # in a folder, and named on its own
        result = run_cli("check", target, *AS_OF, "--format", fmt, cwd=tmp_path)
        assert result.exit_code == 2, result.output
        assert "plans/acme.yaml:1:1: pack: unknown field" in result.stderr
        if FORMAT_SAYS[fmt][0]:
            assert FORMAT_SAYS[fmt][0] in result.stdout


@pytest.mark.parametrize("fmt", FORMAT_SAYS)
def test_a_rule_pack_is_skipped_in_a_folder_run_and_every_format_says_so(tmp_path, run_cli, fmt):
    (tmp_path / "plans").mkdir()
    shutil.copy(ROOT / "examples" / "acme-401k.yaml", tmp_path / "plans")
    shutil.copy(ROOT / "examples" / "starter-pack.yaml", tmp_path / "plans")
    result = run_cli("check", "plans/", *AS_OF, "--format", fmt, cwd=tmp_path)
    assert result.exit_code == 1, result.output
    assert FORMAT_SAYS[fmt][1] in result.stdout


def test_a_valid_rule_pack_named_on_its_own_is_never_skipped(tmp_path, run_cli):
    shutil.copy(ROOT / "examples" / "acme-401k.yaml", tmp_path)
    shutil.copy(ROOT / "examples" / "starter-pack.yaml", tmp_path)
    result = run_cli("check", "acme-401k.yaml", "starter-pack.yaml", *AS_OF, "--format", "github", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "starter-pack.yaml: is a rule pack, not a plan file: load it with --rules" in result.stderr
    assert "::error file=starter-pack.yaml," in result.stdout


@pytest.mark.parametrize("broken,where", [
    ("policy/northwind-ips.yaml", "policy/northwind-ips.yaml,line=29,col=15"),
    (".compliance.yaml", ".compliance.yaml,line=3,col=10"),
])
def test_a_broken_pack_or_config_is_an_annotation_and_a_sarif_result(plan_repo, run_cli, tmp_path, broken, where):
    path = plan_repo / broken
    path.write_text(path.read_text().replace("severity: error", "severity: fatal").replace("fail_on: error",
                                                                                          "fail_on: sometimes"))
    sarif = tmp_path / "out.sarif"
    result = run_cli("check", *AS_OF, "--format", "github", "--also", f"sarif={sarif}", cwd=plan_repo)
    assert result.exit_code == 2, result.output
    assert f"::error file={where},title=invalid input::" in result.stdout
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results] == \
        [("input-error", broken)]


def test_the_settings_note_names_fail_on_and_as_of_when_the_config_sets_them(plan_repo, run_cli):
    config = plan_repo / ".compliance.yaml"
    config.write_text(config.read_text().replace("fail_on: error", "fail_on: never\nas_of: 2026-01-02"))
    result = run_cli("check", cwd=plan_repo)
    assert result.exit_code == 0, result.output
    assert "(packs: bundled, policy; fail_on: never; as_of: 2026-01-02)" in result.stderr


EVIL = r'x\n::error::owned \e]52;c;ZXZpbA==\a \e[2J ##[error]bad ![i](https://evil.example/p.png) [l](https://evil.example) @octocat'
HOSTILE_PACK = f"""\
pack: {{id: evil, title: "{EVIL}", version: "1", jurisdiction: "{EVIL}", extends: [us-federal-sources],
       authority: sponsor_policy, test_as_of: 2026-11-22}}
sources:
  - {{id: evil-ips, title: "{EVIL}", issuer: "{EVIL}", document: "{EVIL}", kind: policy, date: 2026-01-01,
     status: [{{status: in_force, since: 2026-01-01}}]}}
overrides:
  disable: [{{rule: evil.off, reason: "{EVIL}"}}]
rules:
  - id: evil.rule
    title: "{EVIL}"
    description: "{EVIL}"
    severity: info
    scope: plan
    require: {{field: plan.name, eq: nobody}}
    message: "{EVIL}"
    remediation: "{EVIL}"
    citations: [{{source: evil-ips, pinpoint: "{EVIL}"}}]
    tests: [{{name: "{EVIL}", expect: pass}}]
  - id: evil.off
    title: switched off
    severity: info
    scope: plan
    require: {{field: plan.name, exists: true}}
    message: switched off
    remediation: none
    citations: [{{source: evil-ips, pinpoint: "{EVIL}"}}]
"""


@pytest.mark.parametrize("command", [
    ("rules", "list"), ("rules", "show", "evil.rule"), ("rules", "show", "evil.off"), ("rules", "test"),
    ("posture",), ("posture", "--format", "json"), ("rules", "docs"), ("check", "plan.yaml", "--format", "sarif"),
])
def test_pack_text_never_reaches_any_command_output_live(tmp_path, run_cli, command):
    (tmp_path / "evil.yaml").write_text(HOSTILE_PACK)
    shutil.copy(ROOT / "examples" / "acme-401k.yaml", tmp_path / "plan.yaml")
    result = run_cli(*command, "--rules", "bundled", "--rules", "evil.yaml", *AS_OF, cwd=tmp_path)
    assert result.exit_code in (0, 1), result.output
    out = result.stdout + result.stderr
    assert "owned" in out  # the text is shown, as text
    assert "\x1b" not in out and "\x07" not in out and "##[" not in out
    assert not [line for line in out.splitlines() if line.lstrip().startswith("::")]


def test_sarif_help_markdown_makes_pack_markdown_inert(tmp_path, run_cli):
    (tmp_path / "evil.yaml").write_text(HOSTILE_PACK)
    shutil.copy(ROOT / "examples" / "acme-401k.yaml", tmp_path / "plan.yaml")
    result = run_cli("check", "plan.yaml", "--rules", "bundled", "--rules", "evil.yaml", "--format", "sarif",
                     *AS_OF, cwd=tmp_path)
    rules = json.loads(result.stdout)["runs"][0]["tool"]["driver"]["rules"]
    help_md = next(r for r in rules if r["id"] == "evil.rule")["help"]["markdown"]
    assert "owned" in help_md
    for live in ("![", "https://", "@octocat", "\n::"):
        assert live not in help_md, live
    assert not re.search(r"(?<!\\)\]\(", help_md)  # no link: every `](` is escaped


PACK_HEAD = """\
pack: {id: local, title: Local policy, version: "1", jurisdiction: test%s}
"""


def _check_with(tmp_path: Path, run_cli, pack: str, *args: str, packs: str = "bundled"):
    (tmp_path / "local.yaml").write_text(pack)
    return run_cli("check", str(ROOT / "examples" / "acme-401k.yaml"), "--rules", packs, "--rules", "local.yaml",
                   *AS_OF, *args, cwd=tmp_path)


def test_a_pack_that_extends_nothing_cannot_switch_a_federal_rule_off(tmp_path, run_cli):
    pack = PACK_HEAD % "" + ("overrides:\n  disable: [{rule: erisa.disclosure.participant-fee-disclosure, "
                             "reason: n/a}]\n")
    result = _check_with(tmp_path, run_cli, pack)
    assert result.exit_code == 2, result.output
    assert ("local.yaml:3:20: overrides.disable[0].rule: erisa.disclosure.participant-fee-disclosure belongs to "
            "pack erisa-menu, which this pack does not extend") in result.stderr


def test_switching_a_federal_rule_off_needs_overrides_federal(tmp_path, run_cli):
    pack = PACK_HEAD % ", extends: [erisa-menu]" + (
        "overrides:\n  disable: [{rule: erisa.disclosure.participant-fee-disclosure, reason: n/a}]\n")
    result = _check_with(tmp_path, run_cli, pack)
    assert result.exit_code == 2, result.output
    assert "switches off federal rule erisa.disclosure.participant-fee-disclosure (pack erisa-menu); a pack may do " \
           "that only when it says so under overrides_federal" in result.stderr


def test_loosening_a_federal_parameter_is_refused(tmp_path, run_cli):
    pack = PACK_HEAD % ", extends: [erisa-menu]" + "overrides:\n  parameters: {qdia_notice_months: 1200}\n"
    result = _check_with(tmp_path, run_cli, pack)
    assert result.exit_code == 2, result.output
    assert ("local.yaml:3:36: overrides.parameters.qdia_notice_months: loosens federal parameter qdia_notice_months "
            "of pack erisa-menu from 13 to 1200") in result.stderr


@pytest.fixture
def directed_rules(tmp_path: Path) -> Path:
    """The bundled packs, with qdia_notice_months declaring that lower is stricter."""
    rules = tmp_path / "federal"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("testing"))
    erisa = rules / "erisa-menu.yaml"
    erisa.write_text(erisa.read_text().replace("  qdia_notice_months:\n    value: 13\n",
                                               "  qdia_notice_months:\n    value: 13\n    tighten: lower\n"))
    return rules


def test_loosening_against_a_declared_direction_is_refused_and_tightening_is_reported(tmp_path, run_cli,
                                                                                     directed_rules):
    pack = PACK_HEAD % ", extends: [erisa-menu]" + "overrides:\n  parameters: {qdia_notice_months: %s}\n"
    loose = _check_with(tmp_path, run_cli, pack % 1200, packs=str(directed_rules))
    assert loose.exit_code == 2 and "(lower is stricter)" in loose.stderr, loose.output
    tight = _check_with(tmp_path, run_cli, pack % 6, packs=str(directed_rules))
    assert tight.exit_code == 1, tight.output
    assert ("federal rule changed: pack local tightens federal parameter qdia_notice_months of pack erisa-menu from "
            "13 to 6, used by erisa.qdia.annual-notice") in tight.stdout


OVERRIDDEN = PACK_HEAD % ", extends: [erisa-menu]" + """\
overrides:
  parameters: {qdia_notice_months: 1200}
  disable: [{rule: erisa.disclosure.participant-fee-disclosure, reason: n/a}]
overrides_federal:
  - {rule: erisa.disclosure.participant-fee-disclosure, reason: "Committee minutes 2026-11-01, item 4."}
  - {parameter: qdia_notice_months, reason: "Committee minutes 2026-11-01, item 5."}
"""
CHANGE = "pack local switches off federal rule erisa.disclosure.participant-fee-disclosure of pack erisa-menu"


@pytest.mark.parametrize("fmt,says", [
    ("text", f"federal rule changed: {CHANGE}: Committee minutes 2026-11-01, item 4. (local.yaml:6:5)"),
    ("text", "| 2 federal rule changes by packs (listed above)"),
    ("json", f'"federal_changes": [\n    {{\n      "file": "local.yaml",\n      "line": 6,\n      "column": 5,\n'
             f'      "message": "{CHANGE}: Committee minutes 2026-11-01, item 4."'),
    ("sarif", f'"federalChanges": [\n          {{\n            "message": "{CHANGE}: Committee'),
    ("github", "::warning file=local.yaml,line=6,col=5,title=federal rule changed by a pack::pack local switches"),
    ("markdown", "### Federal rules changed by packs"),
])
def test_a_reviewed_change_to_federal_rules_is_named_in_every_output(tmp_path, run_cli, fmt, says):
    result = _check_with(tmp_path, run_cli, OVERRIDDEN, "--format", fmt)
    assert result.exit_code == 0, result.output  # the example's one error is switched off, and every output says so
    assert says in result.stdout


def test_the_memo_names_the_federal_rules_a_pack_changed(tmp_path, run_cli):
    (tmp_path / "local.yaml").write_text(OVERRIDDEN)
    result = run_cli("memo", str(ROOT / "examples" / "acme-401k.yaml"), "-o", "memo.html", "--format", "html",
                     "--rules", "bundled", "--rules", "local.yaml", *AS_OF, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "memo.html").read_text()
    assert "Federal rules changed by the packs above" in html and CHANGE in html


def test_an_overrides_federal_entry_must_match_a_change(tmp_path, run_cli):
    pack = PACK_HEAD % ", extends: [erisa-menu]" + "overrides_federal:\n  - {rule: erisa.qdia.annual-notice, reason: x}\n"
    result = _check_with(tmp_path, run_cli, pack)
    assert result.exit_code == 2
    assert "overrides_federal[0].rule: this pack neither switches off federal rule 'erisa.qdia.annual-notice'" \
        in result.stderr
