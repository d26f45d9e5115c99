"""A value a fund takes from a YAML anchor (`<<: *core`) is reported at that fund, with the anchor's line."""

from __future__ import annotations

PLAN = """\
schema_version: 1
x-core: &core
  vehicle: cit
  expense_ratio: "0.5%"
  asset_class: us_large_cap_equity
plan:
  name: X
  ein: "12-3456789"
  plan_number: "001"
  type: 401k
menu:
  - <<: *core
    id: a-fund
    name: A
  - <<: *core
    id: b-fund
    name: B
    expense_ratio: 0.7
"""


def test_each_fund_using_an_anchor_is_named_with_the_anchor_line(tmp_path, run_cli):
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    result = run_cli("check", str(plan))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{plan}:12:5: menu[fund a-fund].expense_ratio: must be a number (got '0.5%'; write 0.005) "
        "(the value comes from the anchor on line 4)",
        f"{plan}:18:20: menu[fund b-fund].expense_ratio: must be at most 0.2 (got 0.7); write ratios as fractions "
        "(0.7 looks like a percentage: 0.7% is 0.007)",  # its own value, on its own line: no anchor named
    ]
