"""The reviewer's casebook: realistic menus built from cited public facts, each with the findings a careful ERISA
reviewer expects, written down before the tool was run (see each case's `reviewer` block and its sources).

A case fails when the tool raises an error or warning the reviewer did not expect, misses one the reviewer did,
misses an expected info item, or raises a rule the reviewer would dismiss. Clean menus (no error, no warning
expected) are the guard against false errors, the worst defect a compliance tool can have.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from compliance import api
from compliance.engine import WATCH_PREFIX

CASES = sorted(Path(__file__).parent.glob("[0-9][0-9]-*.yaml"))


def _rules_at(report, severity: str) -> set[str]:
    return {f.rule_id for f in report.findings if f.status == "fail" and f.severity == severity}


def _fired(report) -> set[str]:
    """Every rule id that raised a finding, with consolidated watch items counted under their member rules (a fact
    to record is a question for the file, not a finding)."""
    fired = {f.rule_id for f in report.findings if f.status != "undetermined"}
    fired |= {m.split("|", 1)[0] for f in report.findings for m in f.members}
    return fired


@pytest.fixture(scope="module")
def bundled():
    return api.load_rules(["bundled"])


def test_the_casebook_has_twenty_cases_and_five_clean_menus():
    assert len(CASES) >= 20
    clean = [c for c in CASES if not (r := yaml.safe_load(c.read_text())["case"]["reviewer"])["expect_errors"]
             and not r["expect_warnings"]]
    assert len(clean) >= 5, [c.name for c in clean]


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_gets_exactly_the_findings_a_reviewer_expects(path, bundled, tmp_path):
    case = yaml.safe_load(path.read_text())
    meta, reviewer = case["case"], case["case"]["reviewer"]
    assert meta["sources"], "a case names its sources"
    plan = tmp_path / f"{path.stem}.yaml"
    plan.write_text(yaml.safe_dump(case["plan"], sort_keys=False))
    as_of = meta.get("as_of") or date(2026, 11, 25)
    report = api.check(plan, bundled, as_of if isinstance(as_of, date) else date.fromisoformat(as_of))
    assert _rules_at(report, "error") == set(reviewer["expect_errors"] or ())
    assert _rules_at(report, "warning") == set(reviewer["expect_warnings"] or ())
    # good practice the review asks about: a finding, or a fact to record when the file is silent
    asked = _rules_at(report, "info") | {f.rule_id for f in report.findings if f.status == "undetermined"}
    assert set(reviewer.get("expect_info") or ()) <= asked
    undetermined = {f.rule_id for f in report.findings if f.status == "undetermined"}
    assert set(reviewer.get("expect_to_record") or ()) <= undetermined
    dismissed = set(reviewer.get("must_not_fire") or ()) & _fired(report)
    assert not dismissed, f"rules a reviewer would dismiss fired: {sorted(dismissed)}"
    assert not any(f.rule_id.startswith(WATCH_PREFIX) and f.severity != "watch" for f in report.findings)
