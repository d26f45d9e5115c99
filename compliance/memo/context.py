"""Turns a Report into the plain data the memo template shows, in the order a committee reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compliance.canonical import finding_dict
from compliance.model import Finding, Outcome, PlanReport, Rule, by_fund, severity_rank, worst_first
from compliance.posture import posture_rows
from compliance.text import percent, show


@dataclass(frozen=True)
class MemoOptions:
    prepared_by: str = "Plan consultant"
    committee: str = "Investment Committee"
    command: str = ""


_STATUS_ORDER = {"fail": 0, "watch": 1, "waived": 2, "pass": 3, "not_applicable": 4}


def _percent(value: Any) -> str:
    """A fee as the findings write it (one formatting for text, JSON, Markdown and memo): 0.00015 is 0.015%."""
    return "—" if value is None else percent(value)


def _rule_columns(rule: Rule | None, outcome: Outcome) -> dict[str, str]:
    """Title, citations and pack of a checklist row; engine-level rows (no pack rule) take their finding's title."""
    if rule is None:
        return {"title": outcome.findings[0].title, "citations": "", "pack": "engine"}
    return {"title": rule.title, "citations": "; ".join(c.pinpoint for c in rule.citations), "pack": rule.pack_id}


def _fund_status(findings: list[Finding]) -> str:
    failing = [f for f in findings if f.status == "fail"]
    if failing:
        return max(failing, key=lambda f: severity_rank(f.severity)).severity
    if any(f.status == "watch" for f in findings):
        return "watch"
    if findings:
        return "waived"
    return "pass"


def _finding(f: Finding) -> dict:
    """The JSON format's finding, plus what the template shows: the location as one string, note and waiver."""
    out = finding_dict(f)
    out.setdefault("note", None)
    out.setdefault("waiver", None)
    out["location"] = str(f.location)
    return out


def build_context(report: PlanReport, options: MemoOptions) -> dict:
    plan = report.plan
    counts = report.counts()
    grouped = by_fund(report.findings)
    action = sorted((f for f in report.findings if f.status == "fail" and f.severity != "info"), key=worst_first)
    if counts["error"]:
        overall = (f"The menu review found {counts['error']} error-level item(s) that need the committee's action "
                   f"before the menu can be considered in line with the checklist.")
    elif counts["warning"]:
        overall = f"No error-level items; {counts['warning']} warning(s) call for documentation or follow-up."
    else:
        overall = "No error- or warning-level items: the file shows the documented process the checklist asks for."
    menu = []
    for fund in plan["menu"]:
        exposure = [f"{label} {fund[key]:g}%" for key, label in (("digital_asset_pct", "digital"),
                                                                  ("private_market_pct", "private"))
                    if fund.get(key)]
        menu.append({
            "id": fund["id"], "name": fund["name"], "asset_class": fund["asset_class"].replace("_", " "),
            "vehicle": fund["vehicle"].replace("_", " "), "expense_ratio": _percent(fund.get("expense_ratio")),
            "qdia": "yes" if fund.get("qdia") else "", "exposure": ", ".join(exposure) or "—",
            "status": _fund_status(grouped.get(fund["id"], [])),
        })
    rules = {rule.id: rule for rule in report.ruleset.rules}
    checklist = sorted(
        ({"rule": o.rule_id, "status": o.status, "reason": o.reason} | _rule_columns(rules.get(o.rule_id), o)
         for o in report.outcomes),
        key=lambda row: (_STATUS_ORDER[row["status"]], row["rule"]))
    groups = []
    for label, test in (("Errors", lambda f: f.status == "fail" and f.severity == "error"),
                        ("Warnings", lambda f: f.status == "fail" and f.severity == "warning"),
                        ("Information", lambda f: f.status == "fail" and f.severity == "info"),
                        ("Watch items (pending law)", lambda f: f.status == "watch"),
                        ("Waived by the committee", lambda f: f.status == "waived")):
        by_rule: dict[str, list[dict]] = {}
        for f in report.findings:
            if test(f):
                by_rule.setdefault(f.rule_id, []).append(_finding(f))
        if by_rule:
            # One block per rule: title, remediation and basis once, then one line per fund or plan item.
            groups.append({"label": label, "rules": [{**items[0], "items": items} for items in by_rule.values()]})
    facts = plan["plan"]
    governance = plan.get("governance") or {}
    overview = [
        ("Plan", facts["name"]), ("Sponsor", facts.get("sponsor")), ("EIN / plan number", f"{facts['ein']} / {facts['plan_number']}"),
        ("Type", facts["type"]), ("Participants", f"{facts['participants']:,}" if facts.get("participants") is not None else None),
        ("Assets", f"${facts['assets_usd']:,.0f}" if facts.get("assets_usd") is not None else None),
        ("Intends 404(c)", facts.get("intends_404c")), ("Transfers", facts.get("transfer_frequency")),
        ("Policy statement reviewed", (governance.get("investment_policy") or {}).get("last_reviewed")),
        ("Committee last met", (governance.get("committee") or {}).get("last_meeting")),
        ("Adviser", " ".join(filter(None, [(governance.get("adviser") or {}).get("name"),
                                            (governance.get("adviser") or {}).get("role")])) or None),
        ("Brokerage window", (plan.get("brokerage_window") or {}).get("offered")),
        ("Options on the menu", len(plan["menu"])),
    ]
    return {
        "plan_name": facts["name"], "ein": facts["ein"], "plan_number": facts["plan_number"],
        "as_of": report.as_of.isoformat(), "prepared_by": options.prepared_by, "committee": options.committee,
        "overall": overall, "counts": counts, "action": [_finding(f) for f in action],
        "posture": [row for row in posture_rows(report.ruleset, report.as_of) if row["status"] != "not_yet_issued"],
        "currency_notice": report.ruleset.currency_notice(report.as_of),
        "glyph_notice": None,  # set for PDFs by the writer (compliance.memo.glyphs)
        "overview": [(k, show(v)) for k, v in overview], "menu": menu, "checklist": checklist, "groups": groups,
        "waivers": [{"rule": w.rule, "fund": w.fund or "all funds", "reason": w.reason, "approved_by": w.approved_by,
                     "approved_on": w.approved_on.isoformat(), "expires": w.expires.isoformat(),
                     "reference": w.reference or "—",
                     "state": "in effect" if w.in_effect(report.as_of) else
                              ("expired" if report.as_of >= w.expires else "not yet in effect")}
                    for w in report.waivers],
        "audit": {"tool_version": report.tool_version, "plan_file": report.plan_file, "plan_sha256": report.plan_sha256,
                  "packs": [{"id": p.id, "version": p.version, "file": p.file, "sha256": p.sha256}
                            for p in report.ruleset.packs], "command": options.command},
    }
