"""The bundled regulatory packs: tested rule by rule, cited, dated, and documented."""

from __future__ import annotations

from datetime import date

import pytest

from compliance import api
from compliance.packtest import run_rule_tests
from compliance.reference import rules_markdown
from tests.helpers import EXAMPLE_PLAN, ROOT, TODAY, write_plan

BUNDLED = api.load_rules(["bundled"])
EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize("rule", BUNDLED.rules, ids=[r.id for r in BUNDLED.rules])
def test_every_rule_has_a_firing_and_a_non_firing_case(rule):
    expectations = {t.expect for t in rule.tests}
    # a rule whose requirement asks for facts that are not evidence of a process raises them as facts to record:
    # that is its firing case (an express condition never fails on an absence)
    assert expectations & {"fail", "watch", "undetermined"}, "no case that fires"
    assert expectations & {"pass", "not_applicable"}, "no case that does not fire"


@pytest.mark.parametrize("packs", [["bundled"], ["bundled", str(EXAMPLES / "sponsor-policy.yaml")],
                                   ["bundled", str(EXAMPLES / "starter-pack.yaml")]], ids=["bundled", "sponsor", "starter"])
def test_every_rule_case_passes(packs):
    ruleset = api.load_rules(packs)
    results = run_rule_tests(ruleset)
    failures = [f"{r.rule_id}: {r.name}: expected {r.expected}, got {r.actual}" for r in results if not r.passed]
    assert not failures
    # every case of every loaded rule ran, the added pack's rules with them
    assert sorted((r.rule_id, r.name) for r in results) == sorted((rule.id, case.name) for rule in ruleset.rules
                                                                   for case in rule.tests)
    added = {rule.id for rule in ruleset.rules} - {rule.id for rule in BUNDLED.rules}
    assert bool(added) is (packs != ["bundled"])
    assert added <= {r.rule_id for r in results}


def test_a_wrong_expectation_is_reported(tmp_path, run_cli):
    """The pack test runner can fail: flip one expectation and it must say so."""
    text = (ROOT / "rules" / "erisa-menu.yaml").read_text().replace(
        "      - name: no policy recorded\n        expect: fail", "      - name: no policy recorded\n        expect: pass")
    broken = tmp_path / "erisa-menu.yaml"
    broken.write_text(text)
    result = run_cli("rules", "test", "--rules", str(ROOT / "rules" / "sources.yaml"), "--rules", str(broken))
    assert result.exit_code == 1
    assert "erisa.governance.ips-adopted: no policy recorded: expected pass, got fail" in result.stderr


def test_every_source_has_a_date_a_url_and_history():
    for source in BUNDLED.sources.values():
        assert source.url.startswith("https://")
        assert isinstance(source.dated, date)
        assert source.history and source.history[0].since <= TODAY


def test_rescinded_sources_match_the_primer():
    assert BUNDLED.sources["dol-car-2022-01"].status_on(TODAY).describe() == "rescinded since 2025-05-28 by dol-car-2025-01"
    assert BUNDLED.sources["dol-car-2022-01"].status_on(date(2024, 6, 30)).status == "in_force"
    assert BUNDLED.sources["dol-pe-statement-2021"].status_on(TODAY).status == "rescinded"
    assert BUNDLED.sources["dol-dia-proposal-2026"].status_on(TODAY).status == "proposed"
    assert BUNDLED.sources["anderson-intel"].status_on(TODAY).status == "pending_review"


def test_clean_plan_has_no_error_level_finding(tmp_path, bundled):
    report = api.check(write_plan(tmp_path), bundled, TODAY)
    assert [f for f in report.findings if f.status == "fail" and f.severity == "error"] == []
    assert report.counts()["warning"] == 0


def test_example_plan_today_versus_2024(bundled):
    today = {f.rule_id for f in api.check(EXAMPLE_PLAN, bundled, TODAY).findings}
    then = {f.rule_id for f in api.check(EXAMPLE_PLAN, bundled, date(2024, 6, 30)).findings}
    assert {"digital.car2022.extreme-care", "digital.car2022.brokerage-window"} <= then - today
    assert {"digital.prudence.prompts", "watch.eo-14330", "watch.dol-dia-proposal-2026"} <= today - then


def test_sponsor_layer_tightens_disables_and_adds(bundled):
    layered = api.load_rules(["bundled", str(EXAMPLES / "sponsor-policy.yaml")])
    assert layered.parameters["max_menu_options"] == 25
    assert layered.parameters["expense_ratio_ceiling"]["us_large_cap_equity"] == 0.0050
    assert layered.parameters["expense_ratio_ceiling"]["target_date"] == bundled.parameters["expense_ratio_ceiling"]["target_date"]
    assert layered.rule("digital.window.cap-recorded").disabled_reason.startswith("disabled by pack acme-ips: The window")
    report = api.check(EXAMPLE_PLAN, layered, TODAY)
    outcome = next(o for o in report.outcomes if o.rule_id == "digital.window.cap-recorded")
    assert outcome.status == "not_applicable" and "acme-ips" in outcome.reason
    assert any(o.rule_id == "acme.digital.contribution-cap" and o.status == "pass" for o in report.outcomes)


def test_docs_rules_md_is_current():
    assert (ROOT / "docs" / "rules.md").read_text() == rules_markdown(BUNDLED), \
        "docs/rules.md is stale: run `compliance rules docs -o docs/rules.md`"


def test_docs_plan_fields_md_is_current():
    from compliance.reference import plan_fields_markdown

    assert (ROOT / "docs" / "plan-fields.md").read_text() == plan_fields_markdown(), \
        "docs/plan-fields.md is stale: run `compliance schema plan --format markdown -o docs/plan-fields.md`"


def test_engine_knows_no_asset_class_words():
    """Law is data: the engine source names no asset classes or documents."""
    words = ("bitcoin", "crypto", "private_equity", "car-2022", "tibble")
    for path in (ROOT / "compliance").rglob("*.py"):
        text = path.read_text().lower()
        if path.relative_to(ROOT).as_posix() == "compliance/schemas/plan.py":
            continue  # the plan format lists asset classes as vocabulary, not as rules
        assert not any(w in text for w in words), path
