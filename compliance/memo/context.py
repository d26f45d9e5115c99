"""Turns a Report into the plain data the memo template shows, in the order a committee reads it."""

from __future__ import annotations

import textwrap
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


_STATUS_ORDER = {"fail": 0, "undetermined": 1, "watch": 2, "waived": 3, "pass": 4, "not_applicable": 5}

# Menus with more options than this get the large-plan memo (docs/memo.md): the menu summarised by asset class
# and status, each action item once per rule, and every option and finding as lines of fixed-width text, which
# lays out at about 1 ms a line where a table row takes about 20 ms.
LARGE_MENU = 200
LINES_PER_BLOCK = 50  # fixed-width lines per block: a page break re-lays out one block, never the whole list
FUND_STATUSES = ("error", "warning", "info", "undetermined", "watch", "waived", "pass")
# the appendix's columns: (menu row key, heading, width in characters, right-aligned)
MENU_COLUMNS = (("id", "Option", 14, False), ("name", "Name", 32, False), ("asset_class", "Asset class", 24, False),
                ("vehicle", "Vehicle", 12, False), ("expense_ratio", "Expense", 8, True), ("qdia", "QDIA", 4, False),
                ("exposure", "Alternatives", 12, False), ("status", "Status", 7, False))
FINDING_WIDTH = 120  # characters of 6.5pt DejaVu Sans Mono across a finding block (memo-large.css)

TO_RECORD = "to record"  # a plan fact the file does not record: shown as such, never as a placeholder


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
    if any(f.status == "undetermined" for f in findings):
        return "undetermined"
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


def _cell(value: str, width: int, right: bool) -> str:
    """One fixed-width cell: whitespace runs made one space, cut with an ellipsis when longer than the column."""
    text = " ".join(value.split())
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text.rjust(width) if right else text.ljust(width)


def _blocks(lines: list[str]) -> list[list[str]]:
    return [lines[i:i + LINES_PER_BLOCK] for i in range(0, len(lines), LINES_PER_BLOCK)]


def _large_plan(menu: list[dict], action: list[Finding], groups: list[dict]) -> dict:
    """What the large-plan memo shows instead of one table row per option and one list item per finding."""
    classes: dict[str, dict[str, int]] = {}
    for fund in menu:
        row = classes.setdefault(fund["asset_class"], {"options": 0} | {s: 0 for s in FUND_STATUSES})
        row["options"] += 1
        row[fund["status"]] += 1
    total = {key: sum(row[key] for row in classes.values()) for key in ("options", *FUND_STATUSES)}
    by_rule: dict[tuple[str, str], dict] = {}
    for f in action:
        item = by_rule.setdefault((f.severity, f.rule_id), {"severity": f.severity, "headline": f.headline or f.title,
                                                            "rule": f.rule_id, "options": 0, "plan": False})
        if f.fund_id:
            item["options"] += 1
        else:
            item["plan"] = True
    header = "  ".join(_cell(name, width, right) for _, name, width, right in MENU_COLUMNS).rstrip()
    rows = ["  ".join(_cell(fund[key], width, right) for key, _, width, right in MENU_COLUMNS).rstrip() for fund in menu]
    for group in groups:
        for rule in group["rules"]:
            lines = []
            for f in rule["items"]:
                line = f"{f['fund'] or 'plan'}  {f['location']}  {f['message']}"
                if f["note"]:
                    line += f" ({f['note']})"
                if f["waiver"]:
                    w = f["waiver"]
                    line += f" Waived by {w['approved_by']} on {w['approved_on']} until {w['expires']}: {w['reason']}"
                lines.append("\n".join(textwrap.wrap(line, FINDING_WIDTH, subsequent_indent="      ",
                                                      break_on_hyphens=False)))
            rule["blocks"] = _blocks(lines)
    return {"classes": sorted(classes.items()), "class_total": total, "action_rules": list(by_rule.values()),
            "menu_header": header, "menu_blocks": _blocks(rows)}


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
            "id": fund["id"], "name": fund["name"], "asset_class": (fund.get("asset_class") or TO_RECORD).replace("_", " "),
            "vehicle": (fund.get("vehicle") or TO_RECORD).replace("_", " "), "expense_ratio": _percent(fund.get("expense_ratio")),
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
                        ("Facts to record (the file does not say; nothing is found until it does)",
                         lambda f: f.status == "undetermined"),
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
        ("Plan", report.plan_name), ("Sponsor", facts.get("sponsor")),
        ("EIN / plan number", f"{facts.get('ein') or TO_RECORD} / {facts.get('plan_number') or TO_RECORD}"), ("Type", facts.get("type")),
        ("Participants", f"{facts['participants']:,}" if facts.get("participants") is not None else None),
        ("Assets", f"${facts['assets_usd']:,.0f}" if facts.get("assets_usd") is not None else None),
        ("Intends 404(c)", facts.get("intends_404c")), ("Transfers", facts.get("transfer_frequency")),
        ("Policy statement reviewed", (governance.get("investment_policy") or {}).get("last_reviewed")),
        ("Committee last met", (governance.get("committee") or {}).get("last_meeting")),
        ("Adviser", " ".join(filter(None, [(governance.get("adviser") or {}).get("name"),
                                            (governance.get("adviser") or {}).get("role")])) or None),
        ("Brokerage window", (plan.get("brokerage_window") or {}).get("offered")),
        ("Options on the menu", len(plan["menu"])),
    ]
    large = len(menu) > LARGE_MENU
    return {
        "large": _large_plan(menu, action, groups) if large else None,
        "plan_name": report.plan_name, "ein": facts.get("ein") or TO_RECORD, "plan_number": facts.get("plan_number") or TO_RECORD,
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
                            for p in report.ruleset.packs], "command": options.command,
                  "federal_changes": [f"{c.message} ({c.location})" for c in report.ruleset.federal_changes]},
    }
