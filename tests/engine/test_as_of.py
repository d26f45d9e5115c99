"""A rule applies only inside its effective window and while its basis sources are in force."""

from __future__ import annotations

from datetime import date

import pytest

from compliance import api
from tests.helpers import write_pack, write_plan

PACK = """\
sources:
  - id: test-release
    title: A release later rescinded
    issuer: DOL
    document: Test release
    kind: guidance
    date: 2022-03-10
    url: https://example.invalid/release
    status:
      - {status: in_force, since: 2022-03-10}
      - {status: rescinded, since: 2025-05-28, by: dol-car-2025-01}
  - id: test-proposal
    title: A proposal
    issuer: DOL
    document: Test proposal
    kind: proposal
    date: 2026-03-31
    url: https://example.invalid/proposal
    status:
      - {status: proposed, since: 2026-03-31}
rules:
  - id: test.windowed
    title: Windowed
    headline: H
    checks: express_condition
    relies_on: r
    severity: error
    scope: plan
    effective: {from: 2020-01-01, until: 2021-01-01}
    require: {field: plan.type, eq: '403b'}
    message: m
    remediation: r
    citations: [{source: erisa-404a, pinpoint: "ERISA 404(a)"}]
  - id: test.rescinded
    title: Rests on a rescinded release
    headline: H
    checks: prudence_process
    severity: warning
    scope: plan
    require: {field: plan.type, eq: '403b'}
    message: m
    remediation: r
    citations: [{source: test-release, pinpoint: "Release"}]
  - id: test.pending
    title: Rests on a proposal
    headline: H
    checks: prudence_process
    severity: watch
    scope: plan
    require: {field: plan.type, eq: '403b'}
    message: m
    remediation: r
    citations: [{source: test-proposal, pinpoint: "Proposal"}]
"""


@pytest.fixture
def outcome(tmp_path):
    ruleset = api.load_rules(["bundled", str(write_pack(tmp_path, PACK))])
    plan = write_plan(tmp_path)

    def at(rule_id: str, day: date):
        report = api.check(plan, ruleset, day)
        return next(o for o in report.outcomes if o.rule_id == rule_id), report
    return at


@pytest.mark.parametrize("day,status,reason", [
    (date(2019, 12, 31), "not_applicable", "effective only from 2020-01-01"),
    (date(2020, 6, 30), "fail", ""),
    (date(2021, 1, 1), "not_applicable", "effective only until 2021-01-01"),
])
def test_effective_window(outcome, day, status, reason):
    result, _ = outcome("test.windowed", day)
    assert (result.status, result.reason) == (status, reason)


@pytest.mark.parametrize("day,status,reason", [
    (date(2022, 3, 9), "not_applicable", "test-release did not exist yet (dated 2022-03-10)"),
    (date(2024, 6, 30), "fail", ""),
    (date(2025, 5, 28), "not_applicable", "test-release rescinded since 2025-05-28 by dol-car-2025-01"),
])
def test_rescinded_source(outcome, day, status, reason):
    result, _ = outcome("test.rescinded", day)
    assert (result.status, result.reason) == (status, reason)


def test_pending_source_gives_a_watch_item(outcome):
    result, report = outcome("test.pending", date(2026, 11, 22))
    assert result.status == "watch"
    assert result.reason == "test-proposal proposed since 2026-03-31"
    (finding,) = result.findings
    assert (finding.severity, finding.status) == ("watch", "watch")
    (item,) = [f for f in report.findings if f.rule_id == "watch.test-proposal"]  # consolidated per source
    assert item.members == (finding.fingerprint,)


def test_a_proposal_cannot_carry_a_warning_until_it_is_final(tmp_path, run_cli):
    heavier = PACK.replace("    checks: prudence_process\n    severity: watch", "    checks: prudence_process\n    severity: warning")
    result = run_cli("rules", "list", "--rules", "bundled", "--rules", str(write_pack(tmp_path, heavier)))
    assert result.exit_code == 2
    assert "severity: warning is above what its sources can support (watch): it rests on test-proposal (proposal)" \
        in result.stderr


def test_finalising_the_source_lets_the_same_rule_weigh_more(tmp_path):
    """A final rule is one status line (with the document's new kind) and the rule's own severity."""
    final = PACK.replace("      - {status: proposed, since: 2026-03-31}",
                         "      - {status: proposed, since: 2026-03-31}\n"
                         "      - {status: in_force, since: 2026-10-01, kind: regulation}") \
        .replace("    checks: prudence_process\n    severity: watch", "    checks: prudence_process\n    severity: warning")
    ruleset = api.load_rules(["bundled", str(write_pack(tmp_path, final))])
    report = api.check(write_plan(tmp_path), ruleset, date(2026, 11, 22))
    (finding,) = [f for f in report.findings if f.rule_id == "test.pending"]
    assert (finding.severity, finding.status) == ("warning", "fail")
    before = api.check(write_plan(tmp_path), ruleset, date(2026, 9, 30))
    assert [f.severity for f in before.findings if f.rule_id == "watch.test-proposal"] == ["watch"]
