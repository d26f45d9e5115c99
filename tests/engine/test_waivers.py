"""Waivers: active ones waive, expired ones say so and fail again, unmatched ones are a warning."""

from __future__ import annotations

from datetime import date

from compliance import api
from tests.helpers import write_pack, write_plan

EXPENSIVE = {"default_investment": None, "menu": [{"id": "pricey", "name": "Pricey Fund", "vehicle": "mutual_fund",
                       "asset_class": "us_large_cap_equity", "expense_ratio": 0.0090, "diversified": True,
                       "benchmark": "S&P 500", "last_reviewed": date(2026, 9, 1)},
                      {"id": "td", "name": "TD", "vehicle": "cit", "asset_class": "target_date", "qdia": True,
                       "diversified": True, "liquidity": "daily", "expense_ratio": 0.001, "benchmark": "X",
                       "last_reviewed": date(2026, 9, 1)}],
             "plan": {"intends_404c": False}}


def waiver(**overrides):
    """A waiver mapping; an override of None drops the key."""
    base = {"rule": "erisa.fees.expense-ratio-screen", "fund": "pricey", "reason": "Reviewed against peers",
            "approved_by": "Investment Committee", "approved_on": date(2026, 1, 15), "expires": date(2027, 1, 15)}
    return {k: v for k, v in (base | overrides).items() if v is not None}


def findings(tmp_path, bundled, waivers, day=date(2026, 11, 22)):
    plan = write_plan(tmp_path, EXPENSIVE | {"waivers": waivers})
    report = api.check(plan, bundled, day)
    return [f for f in report.findings if f.rule_id in ("erisa.fees.expense-ratio-screen", "waiver-unmatched")]


def test_active_waiver_waives_and_keeps_reason(tmp_path, bundled):
    (f,) = findings(tmp_path, bundled, [waiver()])
    assert f.status == "waived" and f.waiver.reason == "Reviewed against peers"


def test_waived_finding_does_not_fail_the_run(tmp_path, run_cli):
    """An error-level finding fails the run (exit 1); waived, the same run passes (exit 0) and shows it waived."""
    from tests.packs.test_pack_errors import rule

    pack = write_pack(tmp_path, rule("{field: fund.expense_ratio, le: 0.005}", scope="fund",
                                     message="{fund.name} costs too much"))
    runs = {}
    for waivers in ([], [waiver(rule="test.rule")]):
        plan = write_plan(tmp_path, EXPENSIVE | {"waivers": waivers})
        runs[len(waivers)] = run_cli("check", str(plan), "--as-of", "2026-11-22", "--rules", "bundled", "--rules",
                                     str(pack))
    def statuses(result):
        return [line.split()[0] for line in result.output.splitlines() if "[test.rule]" in line]

    assert (runs[0].exit_code, statuses(runs[0])) == (1, ["ERROR"])
    assert (runs[1].exit_code, statuses(runs[1])) == (0, ["WAIVED"])


def test_expired_waiver_fires_again_and_says_so(tmp_path, bundled):
    (f,) = findings(tmp_path, bundled, [waiver(expires=date(2026, 6, 30))])
    assert f.status == "fail"
    assert f.note == "waiver by Investment Committee expired on 2026-06-30; the finding applies again"


def test_waiver_not_yet_approved_on_the_as_of_date(tmp_path, bundled):
    (f,) = findings(tmp_path, bundled, [waiver()], day=date(2025, 12, 1))
    assert f.status == "fail" and "takes effect only on 2026-01-15" in f.note


def test_unmatched_waiver_is_a_located_warning(tmp_path, bundled):
    result = findings(tmp_path, bundled, [waiver(), waiver(rule="no.such-rule", fund=None)])
    unmatched = [f for f in result if f.rule_id == "waiver-unmatched"]
    assert len(unmatched) == 1
    assert unmatched[0].severity == "warning"
    assert unmatched[0].message == "The waiver of no.such-rule matches nothing: no loaded rule has this id."
    assert unmatched[0].location.line > 0


def test_plan_wide_and_per_fund_waivers_apply_in_file_order(tmp_path, bundled):
    """A finding meets the waivers that name its fund and those that name no fund, in the order of the file: an
    expired plan-wide one leaves its note before a later per-fund one waives, and each counts as used."""
    expired = waiver(fund=None, reason="Old plan-wide review", approved_on=date(2025, 1, 1), expires=date(2026, 1, 1))
    other_fund = waiver(fund="td", reason="Another option")
    (f, unmatched) = findings(tmp_path, bundled, [expired, other_fund, waiver()])
    assert f.status == "waived" and f.waiver.reason == "Reviewed against peers"
    assert f.note == "waiver by Investment Committee expired on 2026-01-01; the finding applies again"
    assert unmatched.rule_id == "waiver-unmatched" and "for fund td" in unmatched.message
