"""A broken or hostile pack is refused at load time with a located, one-line error and exit 2."""

from __future__ import annotations

import textwrap

import pytest

from tests.conftest import write_pack, write_plan

RULE = """\
rules:
  - id: test.rule
    title: T
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
     "matches, within_days; combinators are all, any, not"),
    ("unknown-field", rule("{field: plan.typ, eq: '401k'}"),
     "rules[0].require.field: 'plan.typ' is not a field of the plan format; did you mean 'plan.type'?"),
    ("fund-field-in-plan-scope", rule("{field: fund.expense_ratio, lt: 1}"),
     "rules[0].require.field: fund.expense_ratio: 'fund.' fields need scope: fund, or an aggregate's where"),
    ("missing-source", rule(source="no-such-source"),
     "rules[0].citations[0].source: cites 'no-such-source', which is not a source of this pack or of a pack it extends"),
    ("catastrophic-regex", rule("{field: plan.name, matches: '(a+)+$'}"),
     "rules[0].require.matches: regular expression nests a repeat inside a repeat (such as (a+)+), which can take "
     "exponential time; rewrite it without the nesting"),
    ("invalid-regex", rule("{field: plan.name, matches: '(unclosed'}"),
     "rules[0].require.matches: invalid regular expression: missing ), unterminated subpattern at position 0"),
    ("type-mismatch", rule("{field: plan.participants, gt: 'many'}"),
     "rules[0].require.gt: compares a integer field with 'many'"),
    ("two-operators", rule("{field: plan.type, eq: '401k', ne: '403b'}"),
     "rules[0].require: a comparison needs exactly one operator of eq, ne, lt, le, gt, ge, in, not_in, exists, "
     "matches, within_days (found 2)"),
    ("unknown-parameter", rule("{field: plan.participants, gt: {param: nope}}"),
     "rules[0].require.gt.param: unknown parameter 'nope' (declared: none declared)"),
    ("message-field-typo", rule(message="{plan.nam}"),
     "rules[0].message.field: 'plan.nam' is not a field of the plan format; did you mean 'plan.name'?"),
    ("bad-severity", rule().replace("severity: error", "severity: critical"),
     "rules[0].severity: 'critical' is not one of ['info', 'warning', 'error']"),
]


@pytest.mark.parametrize("name,body,message", CASES, ids=[c[0] for c in CASES])
def test_broken_pack_is_refused(tmp_path, run_cli, name, body, message):
    pack = write_pack(tmp_path, body)
    result = run_cli("check", str(write_plan(tmp_path)), "--rules", "bundled", "--rules", str(pack))
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"{pack}:")
    assert line.split(": ", 1)[1] == message
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
    pack = write_pack(tmp_path, rule().replace("id: test.rule", "id: erisa.qdia.exactly-one"))
    result = run_cli("rules", "list", "--rules", "bundled", "--rules", str(pack))
    assert result.exit_code == 2
    assert "'erisa.qdia.exactly-one' is already defined in rules/erisa-menu.yaml" in result.stderr
