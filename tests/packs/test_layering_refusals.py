"""Layering refusals: what a pack may not do to the packs it extends, or to packs it does not extend, is bad input
at the entry that tries it (exit 2), through the CLI."""

from __future__ import annotations

import pytest

HEADER = """\
pack:
  id: layered
  title: Layered pack
  version: "1"
  jurisdiction: test
  extends: [{extends}]
"""
SOURCE = """\
sources:
  - id: own-source
    title: T
    issuer: I
    document: D
    kind: {kind}
    date: 2026-01-01
    status:
{status}
"""
IN_FORCE = "      - {status: in_force, since: 2026-01-01}"
CASES = [  # id, what the pack extends, its body, the line and column of the refusal, its message
    ("a base that is not loaded", "us-federal-sources, no-such-pack", "", (6, 33),
     "pack.extends[1]: 'no-such-pack' is not loaded; add its file or directory to the packs (loaded: "
     "dia-selection-2026, digital-assets, erisa-menu, layered, private-markets, us-federal-sources)"),
    ("a parameter declared twice", "us-federal-sources, erisa-menu",
     "parameters:\n  fund_review_days: {value: 30, doc: d}\n", (8, 3),
     "parameters.fund_review_days: already declared by pack erisa-menu"),
    ("an override of a parameter of a pack not extended", "us-federal-sources",
     "overrides:\n  parameters:\n    fund_review_days: 200\n", (9, 5),
     "overrides.parameters.fund_review_days: no pack this one extends declares it"),
    ("a table entry of another kind", "us-federal-sources, erisa-menu",
     "overrides:\n  parameters:\n    expense_ratio_ceiling: {default: high}\n", (9, 38),
     "overrides.parameters.expense_ratio_ceiling.default: must be a number, like the original's entries (got 'high')"),
    ("switching off a rule of a pack not extended", "us-federal-sources",
     "overrides:\n  disable:\n    - {rule: erisa.governance.ips-adopted, reason: r}\n", (9, 14),
     "overrides.disable[0].rule: erisa.governance.ips-adopted belongs to pack erisa-menu, which this pack does not "
     "extend; only a pack that extends erisa-menu may switch its rules off"),
    ("an acknowledgement of nothing", "us-federal-sources, erisa-menu",
     "overrides_federal:\n  - {parameter: fund_review_days, reason: r}\n", (8, 17),
     "overrides_federal[0].parameter: this pack neither changes federal parameter 'fund_review_days'; remove the "
     "entry"),
    ("a cited source with no URL", "us-federal-sources", SOURCE.format(kind="guidance", status=IN_FORCE), (8, 9),
     "sources[0].url: required for a guidance (only a sponsor's own policy may have none)"),
    ("a status history out of order", "us-federal-sources",
     SOURCE.format(kind="policy", status="      - {status: in_force, since: 2026-02-01}\n"
                                         "      - {status: rescinded, since: 2026-01-15}"), (15, 7),
     "sources[0].status: list the changes oldest first"),
    ("a pack that extends itself", "us-federal-sources, layered", "", (6, 12),
     "pack.extends: layering cycle layered -> layered"),
    ("a source another pack defines", "us-federal-sources",
     SOURCE.replace("own-source", "erisa-404a").format(kind="policy", status=IN_FORCE), (8, 9),
     "sources[0].id: 'erisa-404a' is already defined by pack us-federal-sources"),
    ("a status change by a source not loaded", "us-federal-sources",
     SOURCE.format(kind="policy", status="      - {status: in_force, since: 2026-01-01, by: no-such-source}"),
     (15, 51), "sources[0].status[0].by: 'no-such-source' is not a loaded source"),
    ("an acknowledgement naming a rule and a parameter", "us-federal-sources, erisa-menu",
     "overrides_federal:\n  - {rule: erisa.governance.ips-adopted, parameter: fund_review_days, reason: r}\n", (8, 5),
     "overrides_federal[0]: name one rule or one parameter (rule: ID or parameter: NAME), with its reason"),
    ("an override of another kind", "us-federal-sources, erisa-menu",
     "overrides:\n  parameters:\n    fund_review_days: 200 days\n", (9, 23),
     "overrides.parameters.fund_review_days: must be a number, like the original 365 (got '200 days')"),
    ("loosening a federal parameter unacknowledged", "us-federal-sources, erisa-menu",
     "overrides:\n  parameters:\n    qdia_notice_months: 1200\n", (9, 25),
     "overrides.parameters.qdia_notice_months: loosens federal parameter qdia_notice_months of pack erisa-menu from "
     "13 to 1200, used by erisa.qdia.annual-notice (its declaration names no direction to tighten in (tighten: "
     "lower or higher), so any change loosens it); a pack may do that only when it says so "
     "under overrides_federal: [{parameter: qdia_notice_months, reason: ...}]"),
    ("switching off a rule no pack defines", "us-federal-sources",
     "overrides:\n  disable:\n    - {rule: no.such-rule, reason: r}\n", (9, 14),
     "disables 'no.such-rule', but no loaded pack defines that rule"),
    ("switching off a federal rule unacknowledged", "us-federal-sources, erisa-menu",
     "overrides:\n  disable:\n    - {rule: erisa.governance.ips-adopted, reason: r}\n", (9, 14),
     "overrides.disable[0].rule: switches off federal rule erisa.governance.ips-adopted (pack erisa-menu); a pack "
     "may do that only when it says so under overrides_federal: [{rule: erisa.governance.ips-adopted, reason: ...}]"),
]


@pytest.mark.parametrize("extends,body,at,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_layering_refusal_is_located(tmp_path, run_cli, extends, body, at, message):
    pack = tmp_path / "layered.yaml"
    pack.write_text(HEADER.format(extends=extends) + body)
    result = run_cli("rules", "list", "--rules", "bundled", "--rules", str(pack))
    assert result.exit_code == 2
    assert result.stderr == f"{pack}:{at[0]}:{at[1]}: {message}\n"


def test_every_refusal_of_the_layering_code_has_a_case():
    """One case per `raise InputError` in compliance/packs/layering.py: a new refusal comes with its case."""
    from pathlib import Path

    import compliance.packs.layering as layering

    raises = Path(layering.__file__).read_text().count("raise InputError(")
    assert raises == len(CASES) == len({c[-1] for c in CASES})
