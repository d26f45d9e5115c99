"""The starter plan `compliance init` writes: every section, commented, valid as it stands (a test checks it)."""

STARTER_PLAN = """\
# A starter plan file for plan-compliance. Replace the example values with your plan's, then run:
#   compliance check plan.yaml
# Every field is described in docs/plan-format.md; `compliance schema plan` gives a JSON Schema for editors.
schema_version: 1

plan:
  name: Example Company 401(k) Plan      # as on Form 5500
  sponsor: Example Company, Inc.
  ein: "00-0000000"                       # quoted: NN-NNNNNNN
  plan_number: "001"                      # quoted, three digits
  type: 401k                              # 401k, 403b, 457b or 401a
  participants: 250
  intends_404c: true                      # does the plan claim ERISA 404(c) relief?
  transfer_frequency: daily               # how often participants may move money

governance:                               # the evidence of the fiduciary process, as dates
  investment_policy:
    adopted: 2024-01-15                   # an IPS is good practice, not an ERISA requirement
    last_reviewed: 2026-03-01
  committee:
    meeting_frequency: quarterly
    last_meeting: 2026-09-15
    minutes_kept: true
  disclosures:
    participant_fee_disclosure_sent: 2026-08-15       # the 404a-5 chart: at least once in any 14 months
    service_provider_disclosure_received: 2026-07-01  # 408(b)(2)
    service_provider_fees_reviewed: 2026-09-15
    qdia_notice_sent: 2026-10-15

brokerage_window:
  offered: false

default_investment:                       # optional: a plan with no default simply has no QDIA relief
  designation: fund                       # none, fund, series (every vintage listed) or managed_account
  funds: [target-2050]
  qdia_relief: true                       # the plan relies on 29 CFR 2550.404c-5

menu:                                     # the designated investment alternatives
  - id: target-2050                       # a stable id: findings and waivers use it
    name: Example Target Date 2050 Fund
    vehicle: cit                          # mutual_fund, cit, etf, separate_account, stable_value_contract, ...
    asset_class: target_date
    professionally_managed: true
    diversified: true
    liquidity: daily
    expense_ratio: 0.0012                 # a fraction: 0.0012 is 0.12%
    benchmark: S&P Target Date 2050 Index
    last_reviewed: 2026-09-15             # the committee's last review of this option
    due_diligence:                        # documented determinations: a date and where it is recorded
      fees: {date: 2026-09-15, reference: "Committee minutes 2026-09-15, item 3"}
  - id: us-equity-index
    name: Example US Equity Index Fund
    vehicle: mutual_fund
    asset_class: us_large_cap_equity
    management: passive
    diversified: true
    liquidity: daily
    expense_ratio: 0.0004
    benchmark: S&P 500 Index
    last_reviewed: 2026-09-15
  - id: core-bond-index
    name: Example Core Bond Index Fund
    vehicle: mutual_fund
    asset_class: intermediate_bond
    management: passive
    diversified: true
    liquidity: daily
    expense_ratio: 0.0005
    benchmark: Bloomberg US Aggregate Bond Index
    last_reviewed: 2026-09-15

waivers: []                               # the committee's reasoned, dated decisions that a finding does not apply
"""
