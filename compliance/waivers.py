"""Waivers: a committee's dated, reasoned determination that a finding does not apply, for a while."""

from __future__ import annotations

from datetime import date
from typing import Any

from compliance.loader import Document
from compliance.model import Finding, Severity, Waiver

UNMATCHED_RULE_ID = "waiver-unmatched"


def read_waivers(plan: dict[Any, Any], doc: Document) -> tuple[Waiver, ...]:
    """The validated plan's waivers, each located in its file."""
    return tuple(
        Waiver(w["rule"], w.get("fund"), " ".join(w["reason"].split()), w["approved_by"], w["approved_on"], w["expires"],
               w.get("reference"), doc.locate(("waivers", i)))
        for i, w in enumerate(plan.get("waivers") or [])
    )


def apply_waivers(findings: list[Finding], waivers: tuple[Waiver, ...], as_of: date,
                  known_rules: set[str]) -> list[Finding]:
    """Mark covered findings waived (or note an expired waiver) and add a warning for each waiver that matches nothing."""
    used: set[int] = set()
    out = []
    # (rule, fund or None) -> waiver numbers: a plan that waives a rule for each of thousands of funds must not
    # compare every finding with every waiver; a finding's candidates are merged back into file order
    index: dict[tuple[str, str | None], list[int]] = {}
    for n, waiver in enumerate(waivers):
        index.setdefault((waiver.rule, waiver.fund or None), []).append(n)
    for finding in findings:
        candidates = index.get((finding.rule_id, None), [])
        if finding.fund_id:
            candidates = sorted(candidates + index.get((finding.rule_id, finding.fund_id), []))
        for n in candidates:
            waiver = waivers[n]
            used.add(n)
            if waiver.in_effect(as_of):
                finding = finding._replace(status="waived", waiver=waiver)
                break
            when = (f"expired on {waiver.expires.isoformat()}" if waiver.state(as_of) == "expired"
                    else f"takes effect only on {waiver.approved_on.isoformat()}")
            finding = finding._replace(note=f"waiver by {waiver.approved_by} {when}; the finding applies again")
        out.append(finding)
    for n, waiver in enumerate(waivers):
        if n in used:
            continue
        target = f"{waiver.rule}" + (f" for fund {waiver.fund}" if waiver.fund else "")
        why = ("no loaded rule has this id" if waiver.rule not in known_rules
               else "that rule raised no finding here as of " + as_of.isoformat())
        out.append(Finding(
            rule_id=UNMATCHED_RULE_ID, title="Waiver matches no finding", severity=Severity.WARNING, status="fail",
            message=f"The waiver of {target} matches nothing: {why}.", location=waiver.location,
            fund_id=waiver.fund, citations=(),
            remediation="Remove the waiver, or correct its rule or fund id, so the file records only live determinations.",
        ))
    return out
