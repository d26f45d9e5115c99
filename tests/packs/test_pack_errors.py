"""A broken or hostile pack is refused at load time with a located, one-line error and exit 2."""

from __future__ import annotations

import textwrap

import pytest

from compliance.packs import BUNDLED_RULES
from tests.helpers import write_pack, write_plan

RULE = """\
rules:
  - id: test.rule
    title: T
    headline: H
    checks: express_condition
    relies_on: r
    severity: error
    scope: {scope}
    require: {require}
    message: "{message}"
    remediation: r
    citations: [{{source: {source}, pinpoint: "p"}}]
"""


def rule(require="{field: plan.type, eq: '401k'}", scope="plan", message="m", source="erisa-404a"):
    return RULE.format(require=require, scope=scope, message=message, source=source)


CASES = [
    ("unknown-operator", rule("{field: plan.type, equals: '401k'}"),
     "rules[0].require.equals: unknown operator 'equals'; operators are eq, ne, lt, le, gt, ge, in, not_in, exists, "
     "matches, within_days, within_months; combinators are all, any, not"),
    ("unknown-field", rule("{field: plan.typ, eq: '401k'}"),
     "rules[0].require.field: 'plan.typ' is not a field of the plan format; did you mean 'plan.type'?"),
    ("fund-field-in-plan-scope", rule("{field: fund.expense_ratio, lt: 1}"),
     "rules[0].require.field: fund.expense_ratio: 'fund.' fields need scope: fund, or an aggregate's where"),
    ("missing-source", rule(source="no-such-source"),
     "rules[0].citations[0].source: cites 'no-such-source', which is not a source of this pack or of a pack it extends"),
    ("invalid-regex", rule("{field: plan.name, matches: '(unclosed'}"),
     "rules[0].require.matches: invalid regular expression: missing ): (unclosed (patterns use RE2 syntax: no "
     "backreferences or lookaround)"),
    ("backreference", rule("{field: plan.name, matches: '(a)\\1'}"),
     "rules[0].require.matches: invalid regular expression: invalid escape sequence: \\1 (patterns use RE2 syntax: "
     "no backreferences or lookaround)"),
    ("type-mismatch", rule("{field: plan.participants, gt: 'many'}"),
     "rules[0].require.gt: must be a number here (got 'many')"),
    ("parameter-name-not-text", rule("{field: plan.participants, gt: {param: [a]}}"),
     "rules[0].require.gt.param: unknown parameter ['a'] (declared: none declared)"),
    ("in-parameter-name-not-text", rule("{field: plan.type, in: {param: {a: b}}}"),
     "rules[0].require.in.param: unknown parameter {'a': 'b'} (declared: none declared)"),
    ("operand-with-unknown-key", rule("{field: plan.participants, gt: {param: n, bye: fund.name}}"),
     "rules[0].require.gt: an operand is a literal, {param: NAME}, {param: NAME, by: PATH}, {field: PATH} or "
     "{field: PATH, plus_bp: N}"),
    ("parameter-of-the-wrong-kind", "parameters:\n  n: {value: lots, doc: d}\n" + rule(
        "{field: plan.participants, gt: {param: n}}"),
     "parameters.n.value: 'lots' is used by rules[0].require.gt.param in PACK:17, which needs a number"),
    ("table-entry-of-the-wrong-kind", "parameters:\n  t: {value: {default: 0.01, cit: 1%}, doc: d}\n" + rule(
        "{field: fund.expense_ratio, le: {param: t, by: fund.vehicle}}", scope="fund"),
     "parameters.t.value.cit: '1%' is used by rules[0].require.le.param in PACK:17, which needs a number"),
    ("list-parameter-of-the-wrong-kind", "parameters:\n  l: {value: [1, 2], doc: d}\n" + rule(
        "{field: plan.type, in: {param: l}}"),
     "parameters.l.value: [1, 2] is used by rules[0].require.in.param in PACK:17, which needs a non-empty list of "
     "texts"),
    ("within-days-too-long", rule("{field: governance.committee.last_meeting, within_days: 1000000000000}"),
     "rules[0].require.within_days: must be a whole number of days from 0 to 36600 here (got 1000000000000)"),
    ("within-days-negative", rule("{field: governance.committee.last_meeting, within_days: -1}"),
     "rules[0].require.within_days: must be a whole number of days from 0 to 36600 here (got -1)"),
    ("within-days-parameter-too-long", "parameters:\n  d: {value: 99999999, doc: d}\n" + rule(
        "{field: governance.committee.last_meeting, within_days: {param: d}}"),
     "parameters.d.value: 99999999 is used by rules[0].require.within_days.param in PACK:17, which needs a whole "
     "number of days from 0 to 36600"),
    ("within-days-field", rule("{field: governance.committee.last_meeting, within_days: {field: plan.participants}}"),
     "rules[0].require.within_days: within_days takes a number of days or {param: NAME}, not a field"),
    ("compare-a-group-of-fields", rule("{field: governance.committee, eq: 1}"),
     "rules[0].require.eq: eq cannot compare a group of fields; use exists, or name one field inside it"),
    ("in-a-group-of-fields", rule("{field: governance.committee, in: [[1]]}"),
     "rules[0].require.in: in cannot compare a group of fields; use exists, or name one field inside it"),
    ("two-operators", rule("{field: plan.type, eq: '401k', ne: '403b'}"),
     "rules[0].require: a comparison needs exactly one operator of eq, ne, lt, le, gt, ge, in, not_in, exists, "
     "matches, within_days, within_months (found 2)"),
    ("unknown-parameter", rule("{field: plan.participants, gt: {param: nope}}"),
     "rules[0].require.gt.param: unknown parameter 'nope' (declared: none declared)"),
    ("message-field-typo", rule(message="{plan.nam}"),
     "rules[0].message.field: 'plan.nam' is not a field of the plan format; did you mean 'plan.name'?"),
    ("bad-severity", rule().replace("severity: error", "severity: critical"),
     "rules[0].severity: 'critical' is not one of: watch, info, warning, error"),
]


@pytest.mark.parametrize("name,body,message", CASES, ids=[c[0] for c in CASES])
def test_broken_pack_is_refused(tmp_path, run_cli, name, body, message):
    pack = write_pack(tmp_path, body)
    result = run_cli("check", str(write_plan(tmp_path)), "--rules", "bundled", "--rules", str(pack))
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"{pack}:")
    assert line.split(": ", 1)[1] == message.replace("PACK", str(pack))
    assert int(line.split(":")[1]) > 0


def test_layering_cycle_is_refused(tmp_path, run_cli):
    for me, other in (("a-pack", "b-pack"), ("b-pack", "a-pack")):
        (tmp_path / f"{me}.yaml").write_text(textwrap.dedent(f"""\
            pack: {{id: {me}, title: T, version: "1", jurisdiction: t, extends: [{other}]}}
            """))
    result = run_cli("rules", "list", "--rules", str(tmp_path))
    assert result.exit_code == 2
    assert "pack.extends: layering cycle a-pack -> b-pack -> a-pack" in result.stderr


def test_extending_a_pack_that_is_not_loaded_is_refused(tmp_path, run_cli):
    pack = tmp_path / "p.yaml"
    pack.write_text('pack: {id: lonely, title: T, version: "1", jurisdiction: t, extends: [erisa-menu]}\n')
    result = run_cli("rules", "list", "--rules", str(pack))
    assert result.exit_code == 2
    assert "pack.extends[0]: 'erisa-menu' is not loaded" in result.stderr


def test_disabling_an_unknown_rule_is_refused(tmp_path, run_cli):
    pack = write_pack(tmp_path, "overrides:\n  disable:\n    - {rule: no.such-rule, reason: because}\n")
    result = run_cli("rules", "list", "--rules", "bundled", "--rules", str(pack))
    assert result.exit_code == 2
    assert "disables 'no.such-rule', but no loaded pack defines that rule" in result.stderr


def test_duplicate_rule_id_is_refused(tmp_path, run_cli):
    pack = write_pack(tmp_path, rule().replace("id: test.rule", "id: erisa.qdia.qualifying-type"))
    result = run_cli("rules", "list", "--rules", "bundled", "--rules", str(pack))
    assert result.exit_code == 2
    assert "'erisa.qdia.qualifying-type' is already defined in rules/erisa-menu.yaml" in result.stderr


OVERRIDE_CASES = [
    ("fund_review_days: 200 days",
     "overrides.parameters.fund_review_days: must be a number, like the original 365 (got '200 days')"),
    ("fund_review_days: [200]",
     "overrides.parameters.fund_review_days: must be a number, like the original 365 (got [200])"),
    ("fund_review_days: true",
     "overrides.parameters.fund_review_days: must be a number, like the original 365 (got True)"),
    ("expense_ratio_ceiling: {us_large_cap_equity: 0.5%}",
     "overrides.parameters.expense_ratio_ceiling.us_large_cap_equity: must be a number, like the original's "
     "entries (got '0.5%')"),
    ("expense_ratio_ceiling: 0.005",
     "overrides.parameters.expense_ratio_ceiling: must be a table, like the original {"),
    # a number, but not one the rules using it can take: reported here, not at the rule in the bundled pack
    ("fund_review_days: 180.5",
     "overrides.parameters.fund_review_days: 180.5 is used by rules["),
    ("fund_review_days: -30",
     "overrides.parameters.fund_review_days: -30 is used by rules["),
]


@pytest.mark.parametrize("override,message", OVERRIDE_CASES, ids=[c[0] for c in OVERRIDE_CASES])
def test_an_override_keeps_the_kind_of_the_original(tmp_path, run_cli, override, message):
    pack = tmp_path / "policy.yaml"
    pack.write_text(textwrap.dedent(f"""\
        pack: {{id: policy, title: T, version: "1", jurisdiction: t, extends: [erisa-menu]}}
        overrides:
          parameters:
            {override}
        overrides_federal: [{{parameter: {override.split(":")[0]}, reason: reviewed}}]
        """))
    result = run_cli("check", str(write_plan(tmp_path)), "--rules", "bundled", "--rules", str(pack))
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"{pack}:4:")
    assert line.split(": ", 1)[1].startswith(message)
    if "is used by" in message:
        menu = (BUNDLED_RULES / "erisa-menu.yaml").read_text().splitlines()
        use = next(n for n, text in enumerate(menu, 1) if "within_days: {param: fund_review_days}" in text)
        assert line.endswith(f"erisa-menu.yaml:{use}, which needs a whole number of days from 0 to 36600")


def test_an_override_of_the_same_kind_is_taken(tmp_path, run_cli):
    pack = tmp_path / "policy.yaml"
    pack.write_text(textwrap.dedent("""\
        pack: {id: policy, title: T, version: "1", jurisdiction: t, extends: [erisa-menu]}
        overrides:
          parameters:
            fund_review_days: 180
            expense_ratio_ceiling: {us_large_cap_equity: 1, brand_new_class: 0.002}
        overrides_federal:
          - {parameter: fund_review_days, reason: reviewed}
          - {parameter: expense_ratio_ceiling, reason: reviewed}
        """))
    result = run_cli("rules", "list", "--rules", "bundled", "--rules", str(pack))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("pattern", ["^(a|a)*$", "^(a|aa)*b$", "^a*a*a*a*a*a*a*a*b$", "(a+)+$"])
def test_patterns_that_backtrack_for_ever_elsewhere_run_in_linear_time(tmp_path, run_cli, pattern):
    """Each ran past 30 s on a long name with Python's backtracking engine; RE2 matches in linear time, and refuses
    what needs backtracking (the backreference case above)."""
    import json

    pack = write_pack(tmp_path, rule(f"{{not: {{field: plan.name, matches: '{pattern}'}}}}"))
    plan = write_plan(tmp_path, {"plan": {"name": "a" * 1999 + "!"}})
    result = run_cli("check", str(plan), "--rules", "bundled", "--rules", str(pack), "--as-of", "2026-11-22",
                     "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    [checked] = json.loads(result.output)["plans"]
    assert not [f for f in checked["findings"] if f["rule"] == "test.rule"]  # no pattern matches: `not` holds


def test_a_rule_case_without_a_review_date_fails_instead_of_following_the_calendar(tmp_path, run_cli):
    dated = rule() + "    tests:\n      - {name: dated, expect: pass, as_of: 2026-11-22}\n"
    pack = write_pack(tmp_path, dated + "      - {name: undated, expect: pass}\n")
    result = run_cli("rules", "test", "--rules", "bundled", "--rules", str(pack))
    assert result.exit_code == 1
    assert result.stderr == (f"{pack}:21:9: test.rule: undated: expected pass, got no review date (give the case an "
                             "as_of, or the pack a test_as_of)\n")
    assert " passed, 1 failed (" in result.output  # the dated case passes with the bundled ones
