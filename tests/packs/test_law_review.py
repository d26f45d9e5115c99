"""Issue 25, the third law review: facts checked against the primary sources, pinned where a rule case cannot
pin them (pinpoints, source records, the screen's table, what a 2014 review applies). Each assertion failed on the
packs as they stood before the review."""

from __future__ import annotations

from datetime import date

import pytest

from compliance import api
from compliance.schemas.plan import ASSET_CLASSES
from tests.helpers import EXAMPLE_PLAN

BUNDLED = api.load_rules(["bundled"])

PINPOINTS = [  # item 4: each QDIA rule cites its paragraph of 29 CFR 2550.404c-5
    ("erisa.qdia.annual-notice", "(c)(3)(ii)"),
    ("erisa.qdia.initial-notice", "(c)(3)(i)(A)"),
    ("erisa.qdia.initial-notice", "(c)(3)(i)(B)"),
    ("erisa.qdia.transfers", "(c)(5)(i)"),
    ("erisa.qdia.transfers", "(c)(5)(ii)"),
    ("erisa.qdia.exit-fees", "(c)(5)(ii)"),
    ("erisa.qdia.manager", "(e)(3)"),
    ("erisa.qdia.employer-securities", "(e)(1)"),
    ("erisa.qdia.capital-preservation-120-days", "(e)(4)(iv)"),
    ("erisa.qdia.capital-preservation-120-days", "(e)(4)(v)"),
    ("erisa.qdia.diversified", "(e)(4)(i)-(iii)"),
    ("erisa.qdia.qualifying-type", "(e)(4)(i)-(vi)"),
]


@pytest.mark.parametrize("rule_id,paragraph", PINPOINTS, ids=[f"{r} {p}" for r, p in PINPOINTS])
def test_each_qdia_rule_is_pinpointed_to_its_paragraph(rule_id, paragraph):
    assert any(paragraph in c.pinpoint for c in BUNDLED.rule(rule_id).citations)


def test_the_qdia_texts_say_what_the_regulation_says():
    text = {r.id: r.message + r.remediation for r in BUNDLED.rules}
    assert "first elective contribution" in text["erisa.qdia.capital-preservation-120-days"]  # item 4, 414(w)(2)(B)
    assert "plan trustee that meets ERISA 3(38)(A)-(C)" in text["erisa.qdia.manager"]
    assert not any("not verified" in r.description.lower() + r.message.lower() for r in BUNDLED.rules)  # item 1


def test_the_expense_screen_names_a_ceiling_that_exists():
    """Item 11: 'the ceiling for emerging_markets_equity' was the 1.00% default; every class now has its entry."""
    ceilings = BUNDLED.parameters["expense_ratio_ceiling"]
    assert set(ASSET_CLASSES) <= set(ceilings)
    assert BUNDLED.rule("erisa.fees.expense-ratio-screen").severity == "info"


def test_a_2014_review_applies_the_annual_rule_and_never_the_2015_amendment():
    """Item 13: the 14-month standard applies to disclosures on or after 2015-06-17 (80 FR 14301)."""
    report = api.check(EXAMPLE_PLAN, BUNDLED, date(2014, 11, 30))
    rows = {o.rule_id: o.status for o in report.outcomes}
    assert rows["erisa.disclosure.participant-fee-disclosure"] == "not_applicable"
    assert rows["erisa.disclosure.fee-disclosure-12-months"] in ("pass", "fail")
    cited = {c.pinpoint for f in report.findings for c in f.citations}
    assert not any("as amended" in p for p in cited)


def test_sources_as_checked_against_the_primary_pages():
    s = BUNDLED.sources
    assert s["tibble-9th-cir-2016"].dated == date(2016, 12, 16) and "justia" in s["tibble-9th-cir-2016"].url
    assert "729 F.3d 1110" in s["tibble-9th-cir-2016"].summary
    ao = s["ao-2025-04a"]
    assert ao.kind == "advisory_opinion" and ao.status_on(date(2026, 11, 25)).describe().startswith("issued")
    assert ao.url.endswith("/advisory-opinions") and ao.ceiling() == "info"
    assert s["sec-btc-etp-2024"].kind == "agency_order"
    assert s["fab-2008-03"].dated == date(2008, 4, 29)
    assert s["qdia-2008-amendment"].dated == date(2008, 4, 30)
    assert s["dol-404a-5-amendment-2015"].status_on(date(2015, 6, 16)) is None
    for watch in ("anderson-intel", "parker-hannifin", "hr-2544-s-1222"):
        assert s[watch].weight_on(date(2026, 11, 25)) == "watch"


def test_current_to_is_the_date_sources_were_checked():
    assert {p.current_to for p in BUNDLED.packs} == {date(2026, 7, 3)}
    assert BUNDLED.currency_notice(date(2026, 11, 25)) == ("rule packs current to 2026-07-03; later developments are "
                                                          "not reflected")


def test_the_benchmark_rationale_rests_on_monitoring_not_on_pending_law():
    """Item 7: its old citations were a rule not yet issued and a pending case."""
    rule = BUNDLED.rule("private.benchmark-rationale")
    assert {c.source.id for c in rule.citations} == {"erisa-404a", "tibble-2015"}


def test_the_example_bitcoin_etp_documents_its_review():
    """Item 6: seven dated determinations are a documented review; the missing prompts are information."""
    report = api.check(EXAMPLE_PLAN, BUNDLED, date(2026, 11, 22))
    rows = {o.rule_id: o.status for o in report.outcomes}
    assert rows["digital.prudence.documented-review"] == "pass"
    assert rows["digital.prudence.prompts"] == "fail"
    assert not any(f.rule_id == "digital.prudence.documented-review" for f in report.findings)


def test_the_shareholder_fee_message_asserts_nothing_unrecorded():
    """'Facts the format records': the message had '(not recorded)' placeholders inside a sentence."""
    from compliance.text import placeholders

    assert placeholders(BUNDLED.rule("erisa.disclosure.shareholder-fees").message) == ["fund.name"]


FIELDS_NOW_READ = ["performance_fee", "hedge_fund_pct", "commodity_pct", "contribution_cap_pct", "transfer_cap_pct",
                   "lifetime_income_pct", "liquidity_sleeve_pct", "private_valuation", "leverage_multiple"]


@pytest.mark.parametrize("name", FIELDS_NOW_READ)
def test_a_rule_reads_each_recorded_fact(name):
    from pathlib import Path

    text = "\n".join(p.read_text() for p in Path(__file__).parents[2].joinpath("rules").glob("*.yaml"))
    assert f"field: fund.{name}" in text
