"""Severity follows the weight of the source: the loader refuses a federal rule heavier than what it checks and
what it rests on. Each case below is a defect found in the bundled packs on 2026-11-25, as the rule stood then
(with the `checks` a reviewer reading it would declare); the loader now refuses it. Defects that the doctrine
cannot see are pinned by rule cases in the packs and by the casebook (tests/casebook/).
"""

from __future__ import annotations

from datetime import date

import pytest

from compliance import api
from tests.helpers import ROOT, write_pack

OLD_RULE = """\
rules:
  - id: test.old-rule
    title: T
    headline: H
    checks: {checks}
    severity: {severity}
    scope: fund
    require: {{field: fund.benchmark, exists: true}}
    message: m
    remediation: r
    citations: [{citations}]
"""

# (defect, checks, severity, citations, the refusal)
DEFECTS = [
    ("4 digital.prudence.documented-review at error", "prudence_process", "error",
     "{source: erisa-404a, pinpoint: p}, {source: dol-car-2025-01, pinpoint: p}",
     "error is above the ceiling for a rule that checks a prudence process (warning)"),
    ("5 digital.leveraged-or-inverse: a ban at error", "prudence_process", "error",
     "{source: erisa-404a, pinpoint: p}, {source: dol-404a-1, pinpoint: p}",
     "error is above the ceiling for a rule that checks a prudence process (warning)"),
    ("7 private.standalone-option: proposal factors at error", "prudence_process", "error",
     "{source: erisa-404a, pinpoint: p}, {source: dol-pe-letter-2020, pinpoint: p}",
     "error is above the ceiling for a rule that checks a prudence process (warning)"),
    ("8 private.qdia-illiquid-sleeve: a missing memo at error", "prudence_process", "error",
     "{source: dol-404c-5, pinpoint: p}", "error is above the ceiling for a rule that checks a prudence process"),
    ("9 erisa.fees.lower-cost-share-class at error", "prudence_process", "error",
     "{source: tibble-2015, pinpoint: p}, {source: erisa-404a, pinpoint: p}",
     "error is above the ceiling for a rule that checks a prudence process (warning)"),
    ("11 digital.custody as a warning prompt", "practice", "warning",
     "{source: erisa-404a, pinpoint: p}", "warning is above the ceiling for a rule that checks a practice (info)"),
    ("12 erisa.governance.ips-adopted at warning", "practice", "warning",
     "{source: erisa-404a, pinpoint: p}, {source: dol-404a-1, pinpoint: p}",
     "warning is above the ceiling for a rule that checks a practice (info)"),
    ("13 erisa.fees.service-provider-review at error", "prudence_process", "error",
     "{source: dol-408b-2, pinpoint: p}, {source: cunningham-2025, pinpoint: p}",
     "error is above the ceiling for a rule that checks a prudence process (warning)"),
    ("14 private.eo14330.pending-review at warning", "prudence_process", "warning",
     "{source: eo-14330, pinpoint: p}",
     "warning is above what its sources can support (watch): it rests on eo-14330 (executive_order)"),
    ("15 dia2026 factors at warning while proposed", "prudence_process", "warning",
     "{source: dol-dia-proposal-2026, pinpoint: p}",
     "warning is above what its sources can support (watch): it rests on dol-dia-proposal-2026 (proposal)"),
    ("an express condition resting on guidance alone", "express_condition", "error",
     "{source: dol-car-2025-01, pinpoint: p}",
     "error is above what its sources can support (warning)"),
]


@pytest.mark.parametrize("defect,checks,severity,citations,refusal", DEFECTS, ids=[d[0] for d in DEFECTS])
def test_each_defect_as_it_was_is_refused(tmp_path, run_cli, defect, checks, severity, citations, refusal):
    pack = write_pack(tmp_path, OLD_RULE.format(checks=checks, severity=severity, citations=citations))
    result = run_cli("rules", "list", "--rules", "bundled", "--rules", str(pack))
    assert result.exit_code == 2
    assert f"pack.yaml:12:15: rules[0].severity: {refusal}" in result.stderr


def test_a_federal_rule_must_declare_what_it_checks_and_an_error_its_reliance(tmp_path, run_cli):
    undeclared = OLD_RULE.replace("    checks: {checks}\n", "").format(severity="info", citations="{source: erisa-404a, "
                                                                                               "pinpoint: p}")
    result = run_cli("rules", "list", "--rules", "bundled", "--rules", str(write_pack(tmp_path, undeclared)))
    assert result.exit_code == 2 and "a federal rule declares what it checks" in result.stderr
    ungated = OLD_RULE.format(checks="express_condition", severity="error", citations="{source: dol-404c-5, pinpoint: p}")
    result = run_cli("rules", "list", "--rules", "bundled", "--rules", str(write_pack(tmp_path, ungated, "b.yaml")))
    assert result.exit_code == 2 and "states what reliance gates it (relies_on" in result.stderr


def test_a_sponsor_policy_may_be_stricter_but_rests_on_its_own_policy(tmp_path, run_cli):
    header = ("pack:\n  id: sponsor\n  title: S\n  version: '1'\n  jurisdiction: s\n  extends: [us-federal-sources]\n"
              "  authority: sponsor_policy\nsources:\n  - {id: ips, title: IPS, issuer: Committee, document: IPS, "
              "kind: policy, date: 2026-01-01, status: [{status: in_force, since: 2026-01-01}]}\n")
    rule = ("rules:\n  - {id: s.rule, title: T, severity: error, scope: plan, require: {field: plan.type, eq: '401k'},"
            " message: m, remediation: r, citations: [{source: %s, pinpoint: p}]}\n")
    ok = tmp_path / "ok.yaml"
    ok.write_text(header + rule % "ips")
    assert run_cli("rules", "list", "--rules", "bundled", "--rules", str(ok)).exit_code == 0
    statute = tmp_path / "statute.yaml"
    statute.write_text(header + rule % "erisa-404a")
    result = run_cli("rules", "list", "--rules", "bundled", "--rules", str(statute))
    assert result.exit_code == 2 and "cites the sponsor's own policy as its basis, never erisa-404a" in result.stderr


def test_no_bundled_rule_bans_an_asset_or_rests_an_error_on_less_than_law(bundled):
    for rule in bundled.rules:
        if rule.severity == "error":
            assert rule.checks == "express_condition" and rule.relies_on, rule.id
            assert any(s.kind in ("statute", "regulation") for s in rule.basis), rule.id
        if rule.checks == "practice":
            assert rule.severity in ("info", "watch"), rule.id
        assert rule.headline and rule.headline != rule.title, rule.id


def test_fixed_citations_and_source_dates():
    """Defects 10, 14 and 17: the sources as the corrected primer gives them."""
    text = "\n".join(p.read_text() for p in (ROOT / "rules").glob("*.yaml"))
    assert "Q&A 30\"" not in text and "Q&A 30)" not in text  # withdrawn by the revised bulletin
    sources = api.load_rules(["bundled"]).sources
    assert sources["erisa-404a"].dated == date(1974, 9, 2)
    assert sources["dol-404c-5"].history[0].since == date(2007, 12, 24)
    assert sources["dol-404a-5"].history[0].since == date(2010, 12, 20)
    assert sources["dol-408b-2"].history[0].since == date(2012, 7, 1)
    assert sources["eo-14330"].status_on(date(2026, 11, 25)).status == "in_force"
    assert sources["eo-14330"].weight_on(date(2026, 11, 25)) == "watch"  # binds agencies, not plans
    assert sources["secure2-318"].status_on(date(2026, 11, 25)).status == "in_force"
    assert "overdue" in sources["secure2-318"].summary
    for source in sources.values():
        assert source.url.rstrip("/") not in ("https://www.dol.gov", "https://www.federalregister.gov",
                                              "https://www.supremecourt.gov", "https://www.reginfo.gov") \
            or source.id == "ao-2025-04a", f"{source.id}: host-only URL"
