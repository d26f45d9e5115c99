"""Unknown is not a violation: what a plan file does not record is a fact to record, never a finding of breach.

The property: removing any recorded fact from a plan never creates an error, and never turns a legal condition (a
rule with `checks: express_condition`) that passed or did not apply into a failure. Only a rule that checks a
documented process, below error, may find a missing record itself. Any verdict may become "to record".
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance import api
from compliance.errors import InputError
from compliance.loader import load_file
from compliance.waivers import UNMATCHED_RULE_ID
from tests.helpers import EXAMPLE_PLAN, ROOT, TODAY

CASEBOOK = sorted((ROOT / "tests" / "casebook").glob("[0-9]*.yaml"))
PLANS = [EXAMPLE_PLAN, *CASEBOOK]


def _plan_data(path: Path) -> dict:
    data = load_file(path).data
    return data["plan"] if "case" in data else data  # a casebook menu wraps its plan


def _leaves(value: object, path: tuple = ()) -> list[tuple]:
    """Every recorded value's path (mapping keys and list positions), deepest first; a whole option is not a fact."""
    out: list[tuple] = []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _leaves(item, path + (key,))
    elif isinstance(value, list) and path[:1] == ("menu",) and len(path) == 1:
        for i, item in enumerate(value):
            out += _leaves(item, path + (i,))
    # a fact, not an option: removing a whole fund changes the menu, which may rightly change a verdict
    if path and path[0] not in ("schema_version", "waivers") and path[-1] != "id" and path[:1] + path[2:] != ("menu",):
        out.append(path)
    return out


def _without(data: dict, path: tuple) -> dict:
    out = copy.deepcopy(data)
    holder = out
    for part in path[:-1]:
        holder = holder[part]
    del holder[path[-1]]
    return out


def _verdicts(report) -> dict[tuple, tuple[str, str]]:
    """(rule, fund) -> (status, severity) of each finding; passes are implied."""
    return {(f.rule_id, f.fund_id): (f.status, f.severity) for f in report.findings
            if f.rule_id != UNMATCHED_RULE_ID}


def _check(data: dict, folder: Path, bundled, as_of: date):
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return api.check(path, bundled, as_of)


def _generated_plan(seed: int) -> dict:
    """A plan of the benchmark's generator (the variety of a recordkeeper's book), seeded."""
    import importlib.util
    import random

    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.synthetic_plan(random.Random(seed), seed, funds=12)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.integers(min_value=0, max_value=10_000))
def test_removing_a_fact_from_a_generated_plan_never_creates_a_violation(seed, pick, bundled, tmp_path):
    data = _generated_plan(seed)
    leaves = _leaves(data)
    path = leaves[pick % len(leaves)]
    before = _verdicts(_check(data, tmp_path, bundled, TODAY))
    try:
        after = _verdicts(_check(_without(data, path), tmp_path, bundled, TODAY))
    except InputError:
        return
    for key, (status, severity) in after.items():
        if status == "fail" and before.get(key, ("", ""))[0] != "fail":
            rule = bundled.rule(key[0])
            assert severity != "error" and rule is not None and rule.checks != "express_condition", (path, key)


@pytest.mark.slow
@pytest.mark.parametrize("plan_path", PLANS, ids=lambda p: p.stem)
@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.integers(min_value=0, max_value=10_000))
def test_removing_a_recorded_fact_never_creates_a_violation(plan_path, pick, bundled, tmp_path):
    data = _plan_data(plan_path)
    as_of = TODAY
    case = load_file(plan_path).data.get("case") if plan_path in CASEBOOK else None
    if case and case.get("as_of"):
        as_of = case["as_of"] if isinstance(case["as_of"], date) else date.fromisoformat(case["as_of"])
    leaves = _leaves(data)
    path = leaves[pick % len(leaves)]
    before = _verdicts(_check(data, tmp_path, bundled, as_of))
    try:
        after_report = _check(_without(data, path), tmp_path, bundled, as_of)
    except InputError:
        return  # a required field: the plan no longer loads, which is a located input error, not a finding
    for key, (status, severity) in _verdicts(after_report).items():
        if status != "fail" or before.get(key, ("", ""))[0] == "fail":
            continue
        rule = bundled.rule(key[0])
        assert severity != "error", f"removing {path} created an error: {key}"
        # a rule that checks a documented process (below error) may find the missing record itself
        assert rule is not None and rule.checks != "express_condition", (
            f"removing {path} turned the legal condition {key} into a failure")


def test_every_plan_stripped_to_a_line_up_gets_no_error(bundled, tmp_path):
    """Names, classes and fees only (what a recordkeeper's line-up gives): facts to record, never an error."""
    for plan_path in PLANS:
        data = _plan_data(plan_path)
        keep = ("id", "name", "ticker", "share_class", "asset_class", "expense_ratio", "qdia")
        stripped = {"schema_version": 1, "plan": {k: v for k, v in data["plan"].items() if k in ("name", "type")},
                    "menu": [{k: v for k, v in f.items() if k in keep} for f in data["menu"]]}
        if "default_investment" in data:
            stripped["default_investment"] = {k: v for k, v in data["default_investment"].items()
                                              if k in ("designation", "funds")}
        report = _check(stripped, tmp_path, bundled, TODAY)
        errors = [f.rule_id for f in report.findings if f.status == "fail" and f.severity == "error"]
        assert errors == [], (plan_path.stem, errors)
        assert report.counts()["to_record"] > 0


def test_an_error_level_rule_cannot_fail_from_an_absence_whatever_the_pack_says(tmp_path, bundled):
    """A pack that writes an express condition as `exists: true` still gets a fact to record, not an error."""
    pack = tmp_path / "pack.yaml"
    pack.write_text(yaml.safe_dump({
        "pack": {"id": "absence", "title": "t", "version": "1", "jurisdiction": "t", "extends": ["us-federal-sources"]},
        "rules": [{"id": "t.absence", "title": "The default is diversified", "headline": "h",
                   "checks": "express_condition", "relies_on": "r", "severity": "error", "scope": "fund",
                   "require": {"any": [{"field": "fund.diversified", "exists": True},
                                       {"not": {"field": "fund.benchmark", "exists": True}}]},
                   "message": "m", "remediation": "r",
                   "citations": [{"source": "dol-404c-5", "pinpoint": "29 CFR 2550.404c-5"}]}],
    }))
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"schema_version": 1, "plan": {"name": "P", "type": "401k"},
                                    "menu": [{"id": "a", "name": "A", "asset_class": "balanced",
                                              "expense_ratio": 0.001}]}))
    report = api.check(plan, api.load_rules(["bundled", str(pack)]), TODAY)
    [finding] = [f for f in report.findings if f.rule_id == "t.absence"]
    assert (finding.status, [x.path for x in finding.facts]) == ("undetermined", ["menu[fund a].diversified",
                                                                                   "menu[fund a].benchmark"])
    assert finding.headline.startswith("Record ")


def test_a_process_rule_says_no_documented_record_never_that_it_was_not_done(bundled, tmp_path):
    data = _plan_data(EXAMPLE_PLAN)
    fund = data["menu"][0]
    fund.pop("last_reviewed", None)
    report = _check(data, tmp_path, bundled, TODAY)
    [finding] = [f for f in report.findings if f.rule_id == "erisa.monitoring.option-reviewed"
                 and f.fund_id == fund["id"]]
    assert finding.status == "fail" and finding.severity == "warning"
    assert finding.headline == "No documented record: date the committee last reviewed this option"
    assert "nothing in the plan file shows that each option was reviewed" in finding.message
    assert "not reviewed" not in finding.message.lower() and "was not" not in finding.message.lower()
    assert [x.path for x in finding.facts] == [f"menu[fund {fund['id']}].last_reviewed"]


def test_qdia_relief_is_a_fact_to_record_not_an_assumption(bundled, tmp_path):
    data = _plan_data(EXAMPLE_PLAN)
    data.setdefault("default_investment", {}).pop("qdia_relief", None)
    for fund in data["menu"]:
        fund.pop("diversified", None)
    report = _check(data, tmp_path, bundled, TODAY)
    qdia = [f for f in report.findings if f.rule_id == "erisa.qdia.diversified"]
    assert qdia and all(f.status == "undetermined" for f in qdia)
    assert all("default_investment.qdia_relief" in [x.path for x in f.facts] for f in qdia)


def test_the_plan_transfer_frequency_answers_for_a_fund_that_records_none(bundled, tmp_path):
    data = _plan_data(EXAMPLE_PLAN)
    data["default_investment"]["qdia_relief"] = True
    data["plan"]["transfer_frequency"] = "daily"
    for fund in data["menu"]:
        fund.pop("liquidity", None)
        fund["transfer_fee_first_90_days"] = False
    report = _check(data, tmp_path, bundled, TODAY)
    outcome = next(o for o in report.outcomes if o.rule_id == "erisa.qdia.transfers")
    assert outcome.status == "pass", [f.message for f in outcome.findings]
    data["menu"][0]["liquidity"] = "annually"  # a fund that records a restriction answers for itself
    data["default_investment"]["funds"] = [data["menu"][0]["id"]]
    data["default_investment"]["designation"] = "fund"
    for fund in data["menu"]:
        fund.pop("qdia", None)
    report = _check(data, tmp_path, bundled, TODAY)
    assert next(o for o in report.outcomes if o.rule_id == "erisa.qdia.transfers").status == "fail"


def test_a_placeholder_is_a_fact_to_record_never_a_fact(bundled, tmp_path):
    data = _plan_data(EXAMPLE_PLAN)
    data["plan"]["name"] = "TODO: plan name as on Form 5500"
    data["plan"]["ein"] = "00-0000000"
    report = _check(data, tmp_path, bundled, TODAY)
    placeholders = {x.path for f in report.findings if f.rule_id == "plan-file.placeholder" for x in f.facts}
    assert placeholders == {"plan.name", "plan.ein"}
    assert "TODO" not in report.plan_name


def test_an_option_whose_name_is_a_placeholder_is_named_by_its_id_everywhere(bundled, tmp_path, run_cli):
    """A placeholder name is dropped like any placeholder: check, memo and diff then name the option by its id
    (they once read its name and ended with a KeyError traceback)."""
    data = _plan_data(EXAMPLE_PLAN)
    fund = data["menu"][0]
    fund["name"] = "TODO: name as shown to participants"
    report = _check(data, tmp_path, bundled, TODAY)
    assert {x.path for f in report.findings if f.rule_id == "plan-file.placeholder" for x in f.facts} == {
        f"menu[fund {fund['id']}].name"}
    mine = [f for f in report.findings if f.fund_id == fund["id"] and f.rule_id != "plan-file.placeholder"]
    assert mine and all(not f.message.startswith("The plan") for f in mine)
    assert any(fund["id"] in line for o in report.outcomes for line in o.evidence)  # a pass names it by its id
    plan = tmp_path / "plan.yaml"
    memo = run_cli("memo", str(plan), "--as-of", TODAY.isoformat(), "-o", str(tmp_path / "memo.html"))
    assert memo.exit_code == 0, memo.stderr
    assert fund["id"] in (tmp_path / "memo.html").read_text()
    assert run_cli("diff", str(EXAMPLE_PLAN), str(plan), "--as-of", TODAY.isoformat()).exit_code in (0, 1)


def test_an_option_id_that_reads_as_a_placeholder_stays_its_id(bundled, tmp_path):
    """`id: todo` is the option's key, not a fact: dropping it as a placeholder left a fund with no id (KeyError)."""
    data = _plan_data(EXAMPLE_PLAN)
    text = EXAMPLE_PLAN.read_text()
    fund = next(f for f in data["menu"] if text.count(f["id"]) == 1)  # an option nothing else names
    fund["id"] = "todo"
    report = _check(data, tmp_path, bundled, TODAY)
    assert not [f for f in report.findings if f.rule_id == "plan-file.placeholder"]
    assert "todo" in {f.fund_id for f in report.findings}


@pytest.mark.parametrize("spelled", ['"TODO: custodian"', "todo", '"\\x54ODO: custodian"', '"\\u0074odo"'])
def test_a_placeholder_is_found_however_the_file_spells_it(bundled, tmp_path, spelled):
    """The placeholder walk is skipped only for a file whose bytes cannot hold one: an escape can spell one too."""
    text = EXAMPLE_PLAN.read_text()
    assert "TODO" not in text.upper() and "00-0000000" not in text  # so only the value below is a placeholder
    path = tmp_path / "plan.yaml"
    path.write_text(text.replace("  name: Acme Manufacturing 401(k) Savings Plan", f"  name: {spelled}", 1))
    report = api.check(path, bundled, TODAY)
    assert {x.path for f in report.findings if f.rule_id == "plan-file.placeholder" for x in f.facts} == {"plan.name"}
    assert api.check(EXAMPLE_PLAN, bundled, TODAY).plan_name == "Acme Manufacturing 401(k) Savings Plan"


def test_a_json_plan_writes_dates_as_its_published_schema_says_and_they_count(bundled, tmp_path, run_cli):
    import json

    import jsonschema

    plan = {"schema_version": 1, "plan": {"name": "JSON Plan", "type": "401k"},
            "governance": {"disclosures": {"participant_fee_disclosure_sent": "2026-08-01"}},
            "menu": [{"id": "a", "name": "A", "asset_class": "us_large_cap_equity", "expense_ratio": 0.0004,
                      "last_reviewed": "2026-09-01"}]}
    schema = json.loads(run_cli("schema", "plan").stdout)
    jsonschema.validate(plan, schema, format_checker=jsonschema.FormatChecker())
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    report = api.check(path, bundled, TODAY)
    status = {o.rule_id: o.status for o in report.outcomes}
    assert status["erisa.disclosure.participant-fee-disclosure"] == "pass"
    assert status["erisa.monitoring.option-reviewed"] == "pass"
    plan["menu"][0]["last_reviewed"] = "2026-02-30"  # no such day: refused where it stands
    path.write_text(json.dumps(plan))
    with pytest.raises(InputError) as caught:
        api.check(path, bundled, TODAY)
    assert "last_reviewed" in str(caught.value)


def test_every_field_label_reads_inside_a_sentence():
    """Labels continue sentences ("the file does not record {label}", "to record: {label}"): a yes/no fact reads as
    "whether ...", and no label is cut off mid-clause or names a field path."""
    from compliance.schemas.plan import _fields, field_labels

    labels = field_labels()
    for path, _, entry, _ in _fields():
        label = labels[path]
        assert label and label == label.strip() and "_" not in label, (path, label)
        assert not label.endswith((",", ":", ";")) and label.split()[-1] not in ("as", "of", "the", "a", "to"), \
            (path, label)
        if isinstance(entry, dict) and entry.get("type") == "boolean":
            assert label.startswith("whether "), (path, label)


def test_a_missing_process_record_keeps_the_packs_own_sentence_when_it_names_only_recorded_values(bundled):
    """The watch-list and screen rules were written for a missing decision: their sentences name recorded values
    (returns, dates), so they are kept, with the fact to record after them; one that would print an unrecorded
    value falls back to a sentence that states no more than the file shows."""
    report = api.check(EXAMPLE_PLAN, bundled, TODAY)
    [screen] = [f for f in report.findings if f.rule_id == "erisa.monitoring.screen-benchmark"]
    assert screen.headline == "Behind its benchmark beyond the monitoring screen"
    assert "trails its benchmark by more than the screen allows" in screen.message
    assert screen.message.endswith("(To record: the committee's decision to keep or replace the option.)")
    assert "(not recorded)" not in " ".join(f.message for f in report.findings)


@pytest.mark.parametrize("written", ['"2026-09-01"', "'2026-09-01'", "!!str 2026-09-01", ">-\n    2026-09-01",
                                     '"2026-\\x309-01"'])
def test_a_date_written_as_text_in_yaml_counts_as_a_date_however_it_is_quoted(bundled, tmp_path, written):
    """The loader notes whether any text value has a date's shape, so plans without one skip the walk that reads
    them as dates; every way YAML writes text must be noted (quotes, a tag, a folded block, an escape)."""
    from compliance.loader import load_bytes

    text = ("schema_version: 1\nplan: {name: P, type: 401k}\nmenu:\n- id: a\n  name: A\n"
            "  asset_class: us_large_cap_equity\n  expense_ratio: 0.0004\n  last_reviewed: " + written + "\n")
    assert load_bytes(text.encode(), "p.yaml").date_shaped_text
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    status = {o.rule_id: o.status for o in api.check(path, bundled, TODAY).outcomes}
    assert status["erisa.monitoring.option-reviewed"] == "pass"


def test_a_plan_with_no_date_shaped_text_is_noted_so():
    from compliance.loader import load_file

    assert not load_file(EXAMPLE_PLAN).date_shaped_text  # its dates are plain YAML dates, read as dates already
