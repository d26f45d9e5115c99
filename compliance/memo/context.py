"""Turns a Report into the plain data the memo template shows, in the order a committee reads it."""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.canonical import finding_dict
from compliance.engine import postures
from compliance.model import (
    STATUS_WORDS,
    Finding,
    Outcome,
    PlanReport,
    Rule,
    by_fund,
    fund_name,
    worst_first,
    worst_severity,
)
from compliance.posture import posture_rows
from compliance.schemas.plan import PLACEHOLDERS, field_labels, shown_value
from compliance.text import counted, percent, show


@dataclass(frozen=True)
class MemoOptions:
    prepared_by: str = "Plan consultant"
    committee: str = "Investment Committee"
    command: str = ""
    since: str = ""  # a previous memo (PDF) or a git revision of the plan file: adds "What changed" (since.py)
    cwd: str = ""  # the folder the command ran in, and the checkouts holding its plans: for `repository_name`
    trees: tuple[str, ...] = ()


_STATUS_ORDER = {"fail": 0, "undetermined": 1, "watch": 2, "waived": 3, "pass": 4, "not_applicable": 5}

# Menus with more options than this get the large-plan memo (docs/memo.md): the menu summarised by asset class
# and status, each action item once per rule, and every option and finding as lines of fixed-width text, which
# lays out many times faster than a table row (docs/performance.md).
LARGE_MENU = 200
LINES_PER_BLOCK = 50  # fixed-width lines per block: a page break re-lays out one block, never the whole list
FUND_STATUSES = ("error", "warning", "info", "undetermined", "watch", "waived", "pass")
# the appendix's columns: (menu row key, heading, width in characters, right-aligned)
MENU_COLUMNS = (("name", "Option", 40, False), ("asset_class", "Asset class", 24, False),
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


def _mark(o: Outcome) -> str:
    """A checklist row's badge: a failing row by its severity (an info-level item is never red), else its status."""
    if o.status == "fail" and o.findings:  # all its findings: a waived placeholder leaves an engine row failing
        return max(f.severity for f in o.findings)
    return o.status


def _fund_status(findings: list[Finding]) -> str:
    if worst := worst_severity(findings):
        return worst
    if any(f.status == "undetermined" for f in findings):
        return "undetermined"
    if any(f.status == "watch" for f in findings):
        return "watch"
    if findings:
        return "waived"
    return "pass"


def _finding(f: Finding) -> dict[str, Any]:
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


def _large_plan(menu: list[dict[str, Any]], groups: list[dict[str, Any]]) -> dict[str, Any]:
    """What the large-plan memo shows instead of one table row per option and one list item per finding."""
    classes: dict[str, dict[str, int]] = {}
    for fund in menu:
        row = classes.setdefault(fund["asset_class"], {"options": 0} | {s: 0 for s in FUND_STATUSES})
        row["options"] += 1
        row[fund["status"]] += 1
    total = {key: sum(row[key] for row in classes.values()) for key in ("options", *FUND_STATUSES)}
    header = "  ".join(_cell(name, width, right) for _, name, width, right in MENU_COLUMNS).rstrip()
    rows = ["  ".join(_cell(fund[key], width, right) for key, _, width, right in MENU_COLUMNS).rstrip() for fund in menu]
    for group in groups:
        for rule in group["rules"]:
            lines = []
            for f in rule["items"]:
                line = f"{f['subject']}  line {f['line']}  {f['message']}"
                if f["note"]:
                    line += f" ({f['note']})"
                if f["waiver"]:
                    w = f["waiver"]
                    line += f" Waived by {w['approved_by']} on {w['approved_on']} until {w['expires']}: {w['reason']}"
                lines.append("\n".join(textwrap.wrap(line, FINDING_WIDTH, subsequent_indent="      ",
                                                      break_on_hyphens=False)))
            rule["blocks"] = _blocks(lines)
    return {"classes": sorted(classes.items()), "class_total": total, "menu_header": header, "menu_blocks": _blocks(rows)}


LABELS = field_labels()
LISTED = 8  # funds named on one summary line; more are counted ("and 12 more")
_FIELD_PATH = re.compile(r"(?:menu\[fund [^\]]+\]|plan|governance|brokerage_window|default_investment|fund)"
                         r"((?:\.[a-z0-9_]+)+)")
_SHORT_PATH = re.compile(r"(?<![\w.])[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+(?![\w-])")  # `monitoring.decision`
_SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")


def repository_name(plan_file: str, options: MemoOptions) -> str:
    """The plan file as its repository names it (`examples/acme-401k.yaml`), never relative to the folder the
    command ran in; outside a checkout, its file name. Worked out from strings the CLI gathered (its folder and the
    plans' checkouts), so a worker on a cluster names it exactly as a local run does."""
    name = plan_file.rsplit(":", 1)[-1] if re.match(r"^[^/]+:", plan_file) else plan_file  # `REF:path` (git)
    where = os.path.normpath(os.path.join(options.cwd, name))  # noqa: PTH118 (strings, no file system)
    trees = [t for t in options.trees if where.startswith(t.rstrip("/") + "/")]
    return Path(os.path.relpath(where, max(trees, key=len))).as_posix() if trees else Path(name).name


class Plain:
    """Turns engine text into the committee's words: field paths by their label, rule ids by their title,
    source ids by their document, fund ids by the option's name, coded words (`us_large_cap_equity`) in words."""

    def __init__(self, report: PlanReport):
        self.names = {f["id"]: fund_name(f) for f in report.plan["menu"]}
        self.rules = {r.id: r.title for r in report.ruleset.rules}
        self.sources = {s.id: s.document for s in report.ruleset.sources.values()}
        ids = sorted([*self.rules, *self.sources], key=len, reverse=True)
        self._ids = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, ids)) + r")(?![\w-])") if ids else None

    def __call__(self, text: str) -> str:
        def field(m: re.Match[str]) -> str:
            prefix = "fund" if m.group(0).startswith(("menu[", "fund")) else m.group(0).split(".")[0]
            path = prefix + m.group(1)
            return LABELS.get(path, m.group(1).rsplit(".", 1)[-1].replace("_", " "))

        text = _FIELD_PATH.sub(field, text)
        text = _SHORT_PATH.sub(lambda m: LABELS.get(f"fund.{m.group(0)}") or LABELS.get(m.group(0))
                               or (m.group(0).replace(".", " ") if "_" in m.group(0) else m.group(0)), text)
        if self._ids:
            text = self._ids.sub(lambda m: self.rules.get(m.group(1)) and f'"{self.rules[m.group(1)]}"'
                                 or self.sources[m.group(1)], text)
        return _SNAKE.sub(lambda m: m.group(0).replace("_", " "), text)

    def fund(self, fund_id: str | None) -> str:
        return "The plan" if fund_id is None else self.names.get(fund_id, fund_id)

    def funds(self, fund_ids: list[str]) -> str:
        names = [self.fund(i) for i in dict.fromkeys(fund_ids)]
        shown = ", ".join(names[:LISTED])
        return shown + (f" and {len(names) - LISTED} more" if len(names) > LISTED else "")


def _grouped(findings: list[Finding], plain: Plain) -> list[dict[str, Any]]:
    """One line per problem (a rule), with the options it concerns named: a rule failing on eight funds, or on
    eight hundred, is one line."""
    by_rule: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=worst_first):
        by_rule.setdefault(f.rule_id, []).append(f)
    out = []
    for items in by_rule.values():
        funds = [f.fund_id for f in items if f.fund_id]
        plan = any(f.fund_id is None for f in items)
        # a problem of the plan as a whole needs no "for whom"; one of options names them
        who = ", ".join(filter(None, ["the plan" if plan and funds else "", plain.funds(funds) if funds else ""]))
        out.append({"severity": items[0].severity, "status": items[0].status,
                    "headline": plain(items[0].headline or items[0].title), "who": who,
                    "options": len(set(funds))})
    return out


def _shared(items: list[dict[str, Any]]) -> str:
    """What several options' items say alike ("nothing in the plan file shows that ..."), so it is said once
    above the list of options; empty when any item says something of its own (a note, a waiver, other words)."""
    if len(items) < 2 or any(i.get("note") or i.get("waiver") or i["subject"] == "The plan" for i in items):
        return ""
    tails = {i["message"][len(i["subject"]) + 2:] if i["subject"] and i["message"].startswith(i["subject"] + ": ")
             else None for i in items}
    if len(tails) != 1 or None in tails:
        return ""
    tail = tails.pop() or ""
    return tail[:1].upper() + tail[1:]


def _a_kind(kind: str) -> str:
    """A source's kind as a sentence begins it: "A bill", "An executive order", "Guidance"."""
    words = kind.replace("_", " ")
    if words in ("guidance", "policy"):
        return words.capitalize()
    return f"{'An' if words[0] in 'aeiou' else 'A'} {words}"


GRID_ROWS = 60  # options a pending-law item's options x checks table shows one by one; more are counted per check


def _pending_law(watch: list[Finding], plain: Plain, report: PlanReport) -> list[dict[str, Any]]:
    """Each watch item headed by what it means for this plan, with its options x checks table and the citation
    once (a consolidated item names its member findings as `rule|file|fund`)."""
    out = []
    for f in watch:
        members = [m.split("|") for m in f.members] or [[f.rule_id, "", f.fund_id or "-"]]
        checks = list(dict.fromkeys(rule_id for rule_id, *_ in members))
        rules = {r.id: r for r in report.ruleset.rules}
        titles = [plain(rules[c].headline or rules[c].title) if c in rules else plain(f.title) for c in checks]
        funds = list(dict.fromkeys(fund for *_, fund in members if fund != "-"))
        source = f.citations[0].source if f.citations else None
        status = source.status_on(report.as_of) if source else None
        kind = f"{_a_kind(source.kind)}, {status.describe().split(' by ')[0]}." if source and status else ""
        lacking = {(m[0], m[-1]) for m in members}  # (check, option) pairs: one lookup per cell, at any menu size
        if funds and len(checks) > 1:
            every = all((c, fund) in lacking for c in checks for fund in funds)
            meaning = (f"It would ask for {len(checks)} documented determinations; {counted(len(funds), 'option')} "
                       f"lack{'s' if len(funds) == 1 else ''} {'all' if every else 'some'} of them.")
        elif funds:
            meaning = (f"It concerns {counted(len(funds), 'option')} ({plain.funds(funds)}): "
                       f"{titles[0][:1].lower()}{titles[0][1:]}.")
        else:
            meaning = f"It concerns the plan: {'; '.join(t[:1].lower() + t[1:] for t in titles)}."
        grid = [{"fund": plain.fund(fund), "cells": [(c, fund) in lacking for c in checks]} for fund in funds] \
            if funds and len(checks) > 1 and len(funds) <= GRID_ROWS else []
        # past GRID_ROWS options, one row per check with the options it lacks counted (a table row per option
        # is what makes a large memo slow to lay out, and no committee reads thousands of rows)
        tally = [{"check": title, "options": sum((c, fund) in lacking for fund in funds)}
                 for c, title in zip(checks, titles, strict=True)] \
            if funds and len(checks) > 1 and len(funds) > GRID_ROWS else []
        basis = list(dict.fromkeys(f"{c.source.title} ({c.source.document}), {c.source.url}" for c in f.citations))
        out.append({"title": plain(f.title), "kind": kind, "meaning": meaning, "checks": titles, "grid": grid,
                    "tally": tally,
                    "remediation": plain(f.remediation), "basis": basis,
                    "line": f"{plain(f.title)}: {meaning}"})
    return out


def _facts(report: PlanReport, plain: Plain) -> list[dict[str, Any]]:
    """The facts to record, by topic (the fact), each with the options it is missing for and the checks waiting."""
    topics: dict[str, dict[str, Any]] = {}
    for fact, waiting in report.facts_to_record().values():
        row = topics.setdefault(fact.label, {"label": fact.label[:1].upper() + fact.label[1:], "plan": False,
                                             "funds": [], "checks": []})
        if fact.fund_id:
            row["funds"].append(fact.fund_id)
        else:
            row["plan"] = True
        row["checks"] += [plain(f.title) for f in waiting]
    out = []
    for row in sorted(topics.values(), key=lambda r: (not r["plan"], r["label"])):
        who = ", ".join(filter(None, ["the plan" if row["plan"] else "", plain.funds(row["funds"])]))
        out.append({"label": row["label"], "who": who, "checks": "; ".join(dict.fromkeys(row["checks"]))})
    return out


def _rules_in_state(report: PlanReport, wanted: str) -> set[str]:
    """The ids of the rules in one posture state on the review date: "active" (binding law) or "watch" (pending)."""
    states = postures(report.ruleset, report.as_of)
    return {rule.id for rule, (state, _, _) in zip(report.ruleset.rules, states, strict=True) if state == wanted}


def _satisfied(report: PlanReport, plain: Plain) -> list[dict[str, Any]]:
    """Passed checks of binding law only: a check resting on a proposal is pending law, not something satisfied."""
    rules = {r.id: r for r in report.ruleset.rules}
    binding = _rules_in_state(report, "active")
    return [{"title": plain(rules[o.rule_id].title if o.rule_id in rules else o.rule_id),
             "evidence": list(dict.fromkeys(plain(e) for e in o.evidence))}
            for o in report.outcomes if o.status == "pass" and o.evidence and o.rule_id in binding]


def _posture(report: PlanReport, plain: Plain) -> list[dict[str, Any]]:
    rows = []
    for row in posture_rows(report.ruleset, report.as_of):
        if row["status"] != "not_yet_issued":
            rows.append(row | {"status_text": plain(row["status_text"]), "note": plain(row["note"])})
    return rows


def build_context(report: PlanReport, options: MemoOptions, since: dict[str, Any] | None = None) -> dict[str, Any]:
    plan = report.plan
    plain = Plain(report)
    counts = report.counts()
    grouped = by_fund(report.findings)
    failing = [f for f in report.findings if f.status == "fail"]
    action = sorted((f for f in failing if f.severity != "info"), key=worst_first)
    watch = [f for f in report.findings if f.status == "watch"]
    parts = []
    if counts["error"] or counts["warning"]:
        parts.append(f"{counted(counts['error'], 'error')} and {counted(counts['warning'], 'warning')} "
                     f"need the committee's action")
    else:
        parts.append("No error or warning needs the committee's action")
    if counts["to_record"]:
        parts.append(f"{counted(counts['to_record'], 'fact')} remain{'s' if counts['to_record'] == 1 else ''} to "
                     f"record before {'it' if counts['undetermined'] == 1 else 'some checks'} can be decided")
    if watch:
        parts.append(f"{counted(len(watch), 'pending change')} in the law to watch")
    overall = "; ".join(parts) + "."
    placeholders = {".".join(map(str, p)) for p in plan.get(PLACEHOLDERS, ())}
    menu = []
    for fund in plan["menu"]:
        exposure = [f"{label} {shown_value('fund.' + key, fund[key])}" for key, label in
                    (("digital_asset_pct", "digital assets"), ("private_market_pct", "private markets")) if fund.get(key)]
        menu.append({
            "id": fund["id"], "name": fund_name(fund),
            "asset_class": shown_value("fund.asset_class", fund.get("asset_class") or TO_RECORD),
            "vehicle": shown_value("fund.vehicle", fund.get("vehicle") or TO_RECORD),
            "expense_ratio": _percent(fund.get("expense_ratio")),
            "qdia": "yes" if fund.get("qdia") else "—", "exposure": ", ".join(exposure) or "—",
            "status": _fund_status(grouped.get(fund["id"], [])),
        })
    rules = {rule.id: rule for rule in report.ruleset.rules}
    pending = _rules_in_state(report, "watch")
    checklist = sorted(
        # a check of pending law that the plan would meet is pending law too, never a plain "pass"
        ({"rule": o.rule_id, "status": o.status, "reason": plain(o.reason),
          "mark": "watch" if o.rule_id in pending and o.status == "pass" else _mark(o),
          "status_word": ("pending law, met" if o.rule_id in pending and o.status == "pass" else
                          _mark(o) if o.status == "fail" else STATUS_WORDS[o.status])}
         | _rule_columns(rules.get(o.rule_id), o) for o in report.outcomes),
        key=lambda row: (_STATUS_ORDER[row["status"]], row["rule"]))
    groups = []
    sections: tuple[tuple[str, Callable[[Finding], bool]], ...] = (
        ("Errors", lambda f: f.status == "fail" and f.severity == "error"),
        ("Warnings", lambda f: f.status == "fail" and f.severity == "warning"),
        ("Information", lambda f: f.status == "fail" and f.severity == "info"),
        ("Waived by the committee", lambda f: f.status == "waived"))
    for label, test in sections:
        by_rule: dict[str, list[dict[str, Any]]] = {}
        for f in report.findings:
            if test(f):
                item = _finding(f) | {"message": plain(f.message), "subject": plain.fund(f.fund_id),
                                      "line": f.location.line}
                by_rule.setdefault(f.rule_id, []).append(item)
        if by_rule:
            # One block per rule: headline, remediation and basis once, then one line per fund or plan item.
            groups.append({"label": label, "rules": [{**items[0], "headline": plain(items[0]["headline"]),
                                                      "remediation": plain(items[0]["remediation"]),
                                                      "items": items, "shared": _shared(items)}
                                                     for items in by_rule.values()]})
    facts = plan["plan"]
    governance = plan.get("governance") or {}

    def recorded(path: str, value: Any) -> Any:
        return TO_RECORD if path in placeholders or value is None else value

    # The running header and the Re line name the plan; an unrecorded name says what is missing, not a bare "to record".
    plan_name = "Plan name to record" if "plan.name" in placeholders or not facts.get("name") else report.plan_name
    overview = [
        ("Plan", plan_name), ("Plan file", repository_name(report.plan_file, options)), ("Sponsor", facts.get("sponsor")),
        ("EIN / plan number", f"{recorded('plan.ein', facts.get('ein'))} / "
                              f"{recorded('plan.plan_number', facts.get('plan_number'))}"),
        ("Type", shown_value("plan.type", facts["type"]) if facts.get("type") else None),
        ("Participants", f"{facts['participants']:,}" if facts.get("participants") is not None else None),
        ("Assets", f"${facts['assets_usd']:,.0f}" if facts.get("assets_usd") is not None else None),
        ("Intends 404(c)", facts.get("intends_404c")),
        ("Transfers", shown_value("plan.transfer_frequency", facts.get("transfer_frequency"))
         if facts.get("transfer_frequency") else None),
        ("Policy statement reviewed", (governance.get("investment_policy") or {}).get("last_reviewed")),
        ("Committee last met", (governance.get("committee") or {}).get("last_meeting")),
        ("Adviser", " ".join(filter(None, [(governance.get("adviser") or {}).get("name"),
                                            shown_value("governance.adviser.role",
                                                        (governance.get("adviser") or {}).get("role") or "")]))
         or None),
        ("Brokerage window", (plan.get("brokerage_window") or {}).get("offered")),
        ("Options on the menu", len(plan["menu"])),
    ]
    large = len(menu) > LARGE_MENU
    context: dict[str, Any] = {
        "large": _large_plan(menu, groups) if large else None,
        "plan_name": plan_name, "ein": recorded("plan.ein", facts.get("ein")),
        "plan_number": recorded("plan.plan_number", facts.get("plan_number")),
        "plan_file": repository_name(report.plan_file, options),
        "as_of": report.as_of.isoformat(), "as_of_long": f"{report.as_of:%B} {report.as_of.day}, {report.as_of.year}",
        "prepared_by": options.prepared_by, "committee": options.committee,
        "overall": overall, "counts": counts, "problems": _grouped(action, plain),
        "information": _grouped([f for f in failing if f.severity == "info"], plain),
        "pending": _pending_law(watch, plain, report), "facts": _facts(report, plain),
        "satisfied": _satisfied(report, plain), "since": since,
        "undecided": len({f.rule_id for f in report.findings if f.status == "undetermined"}),
        "posture": _posture(report, plain),
        "currency_notice": report.ruleset.currency_notice(report.as_of),
        "glyph_notice": None,  # set for PDFs by the writer (compliance.memo.glyphs)
        "overview": [(k, show(v)) for k, v in overview], "menu": menu,
        "checklist": [row for row in checklist if row["status"] != "not_applicable"],
        "not_applicable": [row for row in checklist if row["status"] == "not_applicable"], "groups": groups,
        "waivers": [{"rule": w.rule, "title": plain(rules[w.rule].title) if w.rule in rules else w.rule,
                     "fund": plain.fund(w.fund) if w.fund else "all options", "reason": w.reason,
                     "approved_by": w.approved_by,
                     "approved_on": w.approved_on.isoformat(), "expires": w.expires.isoformat(),
                     "reference": w.reference or "—",
                     "state": w.state(report.as_of)}
                    for w in report.waivers],
        "audit": {"tool_version": report.tool_version, "plan_file": repository_name(report.plan_file, options),
                  "plan_sha256": report.plan_sha256,
                  "packs": [{"id": p.id, "version": p.version, "file": p.file, "sha256": p.sha256}
                            for p in report.ruleset.packs], "command": options.command,
                  "federal_changes": [f"{c.message} ({c.location})" for c in report.ruleset.federal_changes]},
    }
    return context
