"""Every construct of the condition language, each with a case that holds and one that does not."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest
import yaml

from compliance import api
from compliance.conditions import Context, EvalScope, compile_condition, field_paths
from compliance.errors import InputError
from compliance.loader import load_bytes
from compliance.run import fails_at
from compliance.schemas.plan import field_catalog
from tests.helpers import TODAY, compile_one, condition_status, memory_plan, write_pack, write_plan

RULE = """\
parameters:
  limit: {{value: 0.001, doc: a number}}
  ceiling: {{value: {{default: 0.01, us_large_cap_equity: 0.0001}}, doc: a table}}
  classes: {{value: [stable_value, money_market], doc: a list}}
  review_by_vehicle: {{value: {{cit: 400}}, doc: a table without a default}}
  review_all: {{value: {{default: 400}}, doc: a table with only a default}}
rules:
  - id: test.rule
    title: Test rule
    headline: H
    checks: express_condition
    relies_on: r
    severity: error
    scope: {scope}
    require: {require}
    message: m
    remediation: r
    citations: [{{source: erisa-404a, pinpoint: "ERISA 404(a)"}}]
"""

# (scope, require condition, plan patch, expected checklist status)
CASES = [
    ("plan", "{field: plan.type, eq: '401k'}", {}, "pass"),
    ("plan", "{field: plan.type, eq: '403b'}", {}, "fail"),
    ("plan", "{field: plan.type, ne: '403b'}", {}, "pass"),
    ("plan", "{field: plan.type, ne: '401k'}", {}, "fail"),
    ("plan", "{field: plan.participants, lt: 1201}", {}, "pass"),
    ("plan", "{field: plan.participants, lt: 1200}", {}, "fail"),
    ("plan", "{field: plan.participants, le: 1200}", {}, "pass"),
    ("plan", "{field: plan.participants, le: 1199}", {}, "fail"),
    ("plan", "{field: plan.participants, gt: 1199}", {}, "pass"),
    ("plan", "{field: plan.participants, gt: 1200}", {}, "fail"),
    ("plan", "{field: plan.participants, ge: 1200}", {}, "pass"),
    ("plan", "{field: plan.participants, ge: 1201}", {}, "fail"),
    ("plan", "{field: plan.type, in: ['401k', '403b']}", {}, "pass"),
    ("plan", "{field: plan.type, in: ['457b']}", {}, "fail"),
    ("plan", "{field: plan.type, not_in: ['457b']}", {}, "pass"),
    ("plan", "{field: plan.type, not_in: ['401k']}", {}, "fail"),
    # a fact the file does not record decides nothing, whatever the operator: the rule waits on it
    ("plan", "{field: plan.sponsor, not_in: ['x']}", {"plan": {"sponsor": None}}, "undetermined"),
    ("plan", "{field: plan.sponsor, ne: 'x'}", {"plan": {"sponsor": None}}, "undetermined"),
    ("plan", "{field: plan.sponsor, eq: 'x'}", {"plan": {"sponsor": None}}, "undetermined"),
    ("plan", "{field: plan.sponsor, exists: true}", {}, "pass"),
    ("plan", "{field: plan.sponsor, exists: true}", {"plan": {"sponsor": None}}, "undetermined"),
    # Kleene: a false part settles all, a true part settles any, whatever the unknown one
    ("plan", "{all: [{field: plan.sponsor, eq: x}, {field: plan.type, eq: '403b'}]}", {"plan": {"sponsor": None}},
     "fail"),
    ("plan", "{all: [{field: plan.sponsor, eq: x}, {field: plan.type, eq: '401k'}]}", {"plan": {"sponsor": None}},
     "undetermined"),
    ("plan", "{any: [{field: plan.sponsor, eq: x}, {field: plan.type, eq: '401k'}]}", {"plan": {"sponsor": None}},
     "pass"),
    ("plan", "{any: [{field: plan.sponsor, eq: x}, {field: plan.type, eq: '403b'}]}", {"plan": {"sponsor": None}},
     "undetermined"),
    ("plan", "{not: {field: plan.sponsor, eq: x}}", {"plan": {"sponsor": None}}, "undetermined"),
    ("plan", "{field: plan.sponsor, exists: false}", {"plan": {"sponsor": None}}, "pass"),
    ("plan", "{field: plan.name, matches: '(?i)^clean'}", {}, "pass"),
    ("plan", "{field: plan.name, matches: 'Dirty'}", {}, "fail"),
    ("plan", "{field: governance.committee.last_meeting, within_days: 90}", {}, "pass"),
    ("plan", "{field: governance.committee.last_meeting, within_days: 30}", {}, "fail"),
    ("plan", "{all: [{field: plan.type, eq: '401k'}, {field: plan.intends_404c, eq: true}]}", {}, "pass"),
    ("plan", "{all: [{field: plan.type, eq: '401k'}, {field: plan.intends_404c, eq: false}]}", {}, "fail"),
    ("plan", "{any: [{field: plan.type, eq: '403b'}, {field: plan.intends_404c, eq: true}]}", {}, "pass"),
    ("plan", "{any: [{field: plan.type, eq: '403b'}, {field: plan.intends_404c, eq: false}]}", {}, "fail"),
    ("plan", "{not: {field: plan.type, eq: '403b'}}", {}, "pass"),
    ("plan", "{not: {field: plan.type, eq: '401k'}}", {}, "fail"),
    ("menu", "{count: funds, eq: 5}", {}, "pass"),
    ("menu", "{count: funds, where: {field: fund.qdia, eq: true}, eq: 2}", {}, "fail"),
    ("menu", "{sum: fund.expense_ratio, le: 0.0049}", {}, "pass"),
    ("menu", "{sum: fund.expense_ratio, le: 0.0048}", {}, "fail"),
    ("menu", "{min: fund.expense_ratio, eq: 0.0002}", {}, "pass"),
    ("menu", "{max: fund.expense_ratio, where: {field: fund.vehicle, eq: cit}, eq: 0.0008}", {}, "pass"),
    ("menu", "{max: fund.expense_ratio, where: {field: fund.vehicle, eq: etf}, exists: true}", {}, "fail"),
    ("fund", "{field: fund.expense_ratio, le: {param: ceiling, by: fund.asset_class}}", {}, "fail"),
    ("fund", "{field: fund.expense_ratio, le: {param: limit}}", {}, "fail"),
    ("plan", "{field: plan.participants, gt: {param: limit}}", {}, "pass"),
    ("fund", "{field: fund.expense_ratio, le: {param: ceiling, by: fund.vehicle}}", {}, "pass"),
    ("fund", "{field: fund.asset_class, not_in: {param: classes}}", {}, "fail"),
    ("fund", "{field: fund.last_reviewed, within_days: {param: review_all, by: fund.vehicle}}", {}, "pass"),
    # the stable-value fund has no entry and there is no default: no window, so its review is not within one
    ("fund", "{field: fund.last_reviewed, within_days: {param: review_by_vehicle, by: fund.vehicle}}", {}, "fail"),
    ("fund", "{count: funds, where: {field: fund.asset_class, eq: {field: selected.asset_class}}, eq: 1}", {}, "pass"),
    ("fund", "{field: fund.last_reviewed, ge: {field: governance.investment_policy.adopted}}", {}, "pass"),
]


# the parameters RULE declares, as a compiled pack holds them (for the conditions compiled in memory)
PARAMETERS = {"limit": 0.001, "ceiling": {"default": 0.01, "us_large_cap_equity": 0.0001},
              "classes": ["stable_value", "money_market"], "review_by_vehicle": {"cit": 400},
              "review_all": {"default": 400}}


@pytest.mark.parametrize("scope,require,patch,expected", CASES, ids=[c[1] + f" -> {c[3]}" for c in CASES])
def test_condition(scope, require, patch, expected):
    """Each case compiled alone and run on the plan in memory: no pack file, no bundled pack compiled."""
    assert condition_status(require, scope, patch, PARAMETERS) == expected


# one case of each scope and status, through a pack file and a full check: the in-memory cases above decide as
# the engine does
ENGINE_CASES = [c for c in CASES if c[1] in (
    "{field: plan.type, eq: '401k'}", "{field: plan.type, eq: '403b'}", "{field: plan.sponsor, eq: 'x'}",
    "{count: funds, where: {field: fund.qdia, eq: true}, eq: 2}", "{field: fund.expense_ratio, le: {param: limit}}",
    "{field: fund.last_reviewed, ge: {field: governance.investment_policy.adopted}}")]


@pytest.mark.parametrize("scope,require,patch,expected", ENGINE_CASES,
                         ids=[c[1] + f" -> {c[3]}" for c in ENGINE_CASES])
def test_condition_status_in_memory_is_the_engine_s(tmp_path, scope, require, patch, expected):
    pack = write_pack(tmp_path, RULE.format(scope=scope, require=require))
    plan = write_plan(tmp_path, patch)
    report = api.check(plan, api.load_rules(["bundled", str(pack)]), TODAY)
    outcome = next(o for o in report.outcomes if o.rule_id == "test.rule")
    assert outcome.status == expected == condition_status(require, scope, patch, PARAMETERS)


def test_engine_cases_cover_every_scope_and_status():
    assert len(ENGINE_CASES) == 6 and {(c[0], c[3]) for c in ENGINE_CASES} >= {("plan", "pass"), ("plan", "fail"), ("plan", "undetermined"),
                                                    ("menu", "fail"), ("fund", "fail"), ("fund", "pass")}


@pytest.mark.parametrize("op", ["eq: x", "ne: x", "in: [x]", "not_in: [x]", "matches: x", "exists: true"])
def test_every_operator_is_undetermined_on_a_missing_field_and_names_it(op):
    predicate = compile_one(f"{{field: plan.sponsor, {op}}}")
    scope = EvalScope(memory_plan({"plan": {"sponsor": None}}), TODAY)
    assert predicate(scope) is None
    assert scope.missing == [("plan.sponsor", None)]
    recorded = EvalScope(memory_plan({"plan": {"sponsor": "x"}}), TODAY)
    assert predicate(recorded) is not None and recorded.missing == []


@pytest.mark.parametrize("op", ["in", "not_in"])
def test_a_list_parameter_names_the_missing_field_not_itself(op):
    """`in: {param: NAME}` once noted the parameter's name as the fact to record, with no fund to place it in."""
    predicate = compile_one(f"{{field: fund.asset_class, {op}: {{param: classes}}}}", fund_scope=True,
                            parameters={"classes": ["private_equity"]})
    fund = {"id": "x"}
    scope = EvalScope(memory_plan(), TODAY, fund)
    assert predicate(scope) is None
    assert scope.missing == [("fund.asset_class", fund)]


def test_a_missing_fact_is_named_in_the_finding_and_fails_only_a_run_that_asks_for_complete_records(tmp_path):
    pack = write_pack(tmp_path, RULE.format(scope="plan", require="{field: plan.sponsor, ne: x}"))
    plan = write_plan(tmp_path, {"plan": {"sponsor": None}})
    report = api.check(plan, api.load_rules(["bundled", str(pack)]), TODAY)
    outcome = next(o for o in report.outcomes if o.rule_id == "test.rule")
    assert outcome.status == "undetermined"
    [finding] = outcome.findings
    assert [f.path for f in finding.facts] == ["plan.sponsor"] and finding.status == "undetermined"
    assert not fails_at([report], "info")  # a fact to record never fails a run
    assert fails_at([report], "error", unrecorded=True)  # unless the run asks for complete records


def test_fund_finding_points_at_the_anchor_field_of_that_fund(tmp_path):
    body = RULE.format(scope="fund", require="{field: fund.expense_ratio, lt: 0.0005}").replace(
        "    message: m", "    at: fund.expense_ratio\n    message: '{fund.name} costs {fund.expense_ratio}'")
    pack = write_pack(tmp_path, body)
    plan = write_plan(tmp_path)
    report = api.check(plan, api.load_rules(["bundled", str(pack)]), TODAY)
    found = [f for f in report.findings if f.rule_id == "test.rule"]
    assert [f.fund_id for f in found] == ["target-2045", "intl", "stable"]
    lines = plan.read_text().splitlines()
    for f in found:
        assert lines[f.location.line - 1].strip().startswith("expense_ratio:")
    assert found[0].message == "Index Target 2045 Trust costs 0.0008"


def test_when_and_select_that_match_nothing_say_why(tmp_path):
    body = RULE.format(scope="plan", require="{field: plan.type, eq: '403b'}").replace(
        "    require:", "    when: {field: plan.intends_404c, eq: false}\n    require:")
    body += RULE.format(scope="fund", require="{field: fund.qdia, eq: true}").split("rules:\n", 1)[1].replace(
        "id: test.rule", "id: test.fund-rule").replace(
        "    require:", "    select: {field: fund.asset_class, eq: digital_assets}\n    require:")
    report = api.check(write_plan(tmp_path), api.load_rules(["bundled", str(write_pack(tmp_path, body))]), TODAY)
    reasons = {o.rule_id: (o.status, o.reason) for o in report.outcomes}
    assert reasons["test.rule"] == ("not_applicable", "as the file records the plan, the situation it covers does not arise")
    assert reasons["test.fund-rule"] == ("not_applicable", "as the file records the menu, no option is of the kind it covers")


def test_within_days_near_the_first_date_there_is(tmp_path):
    """A review date in year 1 has no date a year before it; the window starts at the first date instead."""
    source = textwrap.dedent("""\
        sources:
          - id: ancient
            title: A source in force from the start of the calendar
            issuer: Test
            document: Test
            kind: statute
            date: 0001-01-01
            url: https://example.invalid/ancient
            status:
              - {status: in_force, since: 0001-01-01}
        """)
    body = source + RULE.format(scope="plan", require="{field: governance.committee.last_meeting, within_days: 365}")
    ruleset = api.load_rules(["bundled", str(write_pack(tmp_path, body.replace("source: erisa-404a", "source: ancient")))])
    met = write_plan(tmp_path, {"governance": {"committee": {"last_meeting": date(1, 1, 10)}}}, name="met.yaml")
    stale = write_plan(tmp_path, {"governance": {"committee": {"last_meeting": date(2, 1, 10)}}}, name="late.yaml")
    statuses = [next(o for o in api.check(plan, ruleset, date(1, 3, 1)).outcomes if o.rule_id == "test.rule").status
                for plan in (met, stale)]
    assert statuses == ["pass", "fail"]


def test_a_condition_compiled_without_pack_origins_reports_an_unfit_parameter_at_its_use():
    """The fuzz harness compiles conditions on the bundled parameters with no record of where each was set;
    an unfit parameter is then reported at the condition that uses it (it used to raise KeyError)."""
    doc = load_bytes(b"{field: plan.name, eq: {param: fund_review_days}}\n", "condition.yaml")
    ctx = Context(doc, field_catalog(), api.load_rules(["bundled"]).parameters, fund_scope=False)
    with pytest.raises(InputError) as caught:
        compile_condition(doc.data, (), ctx)
    [problem] = caught.value.problems
    assert (problem.location.file, problem.location.line) == ("condition.yaml", 1)
    assert "parameter 'fund_review_days' is" in problem.message and "\n" not in problem.message


# (condition, every plan field it reads)
READS = [
    ("{field: fund.benchmark, exists: true}", ("fund.benchmark",)),
    ("{not: {field: fund.share_class, ne: Investor}}", ("fund.share_class",)),
    ("{field: fund.expense_ratio, lt: {field: fund.lowest_cost_share_class.expense_ratio, plus_bp: 10}}",
     ("fund.expense_ratio", "fund.lowest_cost_share_class.expense_ratio")),
    ("{any: [{field: governance.adviser.role, eq: '3(38)'}, {field: fund.last_reviewed, within_days: 30}]}",
     ("governance.adviser.role", "fund.last_reviewed")),
    ("{count: funds, where: {field: fund.benchmark, eq: {field: selected.benchmark}}, distinct: fund.asset_class, "
     "ge: 1}", ("fund.benchmark", "fund.asset_class")),
]


@pytest.mark.parametrize("condition,reads", READS)
def test_a_condition_names_every_field_it_reads(condition, reads):
    assert field_paths(yaml.safe_load(condition)) == reads


def test_every_bundled_rule_reads_only_fields_of_the_plan_format(bundled):
    catalog = field_catalog()
    assert all(p in catalog for rule in bundled.rules for p in rule.reads)
    rule = next(r for r in bundled.rules if r.id == "erisa.qdia.diversified")
    assert rule.require_reads == ("fund.diversified",) and "default_investment.qdia_relief" in rule.reads


def test_the_operator_table_in_the_docs_is_the_registry():
    from compliance.conditions import operator_table
    from tests.helpers import ROOT

    assert operator_table() in (ROOT / "docs" / "rule-packs.md").read_text()


@pytest.mark.parametrize("condition", [
    "{field: governance.committee.last_meeting, ge: 2025-01-01T09:00:00}",
    "{field: governance.committee.last_meeting, in: [2025-01-01T09:00:00]}",
])
def test_a_timestamp_is_not_a_date_to_compare_with(condition):
    """A date field compared with a timestamp could never hold (Python cannot order a date against a datetime, and
    they are never equal), so the rule failed every plan; it is refused where it is written, as the plan format
    refuses a timestamp in a date field."""
    doc = load_bytes(condition.encode() + b"\n", "condition.yaml")
    ctx = Context(doc, field_catalog(), {}, fund_scope=False)
    with pytest.raises(InputError) as caught:
        compile_condition(doc.data, (), ctx)
    [problem] = caught.value.problems
    assert "must be a date here (got datetime.datetime(2025, 1, 1, 9, 0))" in problem.message


# A fund's own field against a fixed value is read inline (conditions._own_field); the same comparison with the
# value in another field takes the general path. Both must give the same verdict and note the same facts.
_INLINE_VALUES = [None, 0, 0.0025, 0.01, 1, -1, float("nan")]


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists"])
@pytest.mark.parametrize("fixed", [0.0025, 1, "{param: limit}"])
@pytest.mark.parametrize("in_require", [True, False])
def test_an_own_field_read_inline_decides_as_the_general_path(op, fixed, in_require):
    parameters = {"limit": 0.0025}
    value = parameters["limit"] if fixed == "{param: limit}" else fixed
    if op in ("in", "not_in"):
        inline = f"{{field: fund.expense_ratio, {op}: [{value}]}}"
        general = f"{{field: fund.monitoring.excess_return_3y, {op}: [{value}]}}"  # two steps: no inline read
    elif op == "exists":
        inline = "{field: fund.expense_ratio, exists: true}"
        general = "{field: fund.monitoring.excess_return_3y, exists: true}"
    else:
        inline = f"{{field: fund.expense_ratio, {op}: {fixed}}}"
        general = f"{{field: fund.expense_ratio, {op}: {{field: fund.revenue_sharing}}}}"  # the value in a field
    fast = compile_one(inline, fund_scope=True, parameters=parameters, require=in_require)
    slow = compile_one(general, fund_scope=True, parameters=parameters, require=in_require)
    plan = memory_plan()
    for recorded in _INLINE_VALUES:
        fund = {"id": "x", "revenue_sharing": value}
        other = {"id": "x", "revenue_sharing": value, "monitoring": {}}
        if recorded is not None:
            fund["expense_ratio"] = recorded
            other["monitoring"]["excess_return_3y"] = recorded
        a = EvalScope(plan, TODAY, fund)
        b = EvalScope(plan, TODAY, fund if "monitoring" not in general else other)
        assert fast(a) is slow(b), (inline, recorded)
        assert [(p.replace("monitoring.excess_return_3y", "expense_ratio"), f is b.fund) for p, f in b.missing] == \
            [(p, f is a.fund) for p, f in a.missing], (inline, recorded)
