"""What changed since the last review: funds, findings, facts recorded and waivers, against a previous memo (the
plan and findings it carries as PDF/A-3 attachments, checked against the hash in its audit trail) or against a
git revision of the plan file."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from compliance import api
from compliance.canonical import FORMAT_VERSION, report_dict
from compliance.diff import diff_reports, git_show
from compliance.errors import InputError
from compliance.memo.context import LABELS, Plain
from compliance.model import PlanReport, RuleSet, Waiver
from compliance.schemas.plan import shown_value
from compliance.text import counted


def since_section(report: PlanReport, since: str, ruleset: RuleSet) -> dict[str, Any]:
    """The "What changed since the last review" section for the memo context."""
    if Path(since).is_file():
        base, previous, label = _from_memo(Path(since), ruleset)
    else:
        text = git_show(since, Path(report.plan_file))
        base = api.check(report.plan_file, ruleset, report.as_of, text=text, display_name=f"{since}:{report.plan_file}")
        previous, label = report_dict(base), f"revision {since} of the plan file"
    return _compare(base, previous, report, label)


def _from_memo(path: Path, ruleset: RuleSet) -> tuple[PlanReport, dict[str, Any], str]:
    import pypdf

    where = str(path)
    try:
        reader = pypdf.PdfReader(path)
        attached = reader.attachments
        pages = "".join("".join(page.extract_text().split()) for page in reader.pages[-3:])
    except (pypdf.errors.PyPdfError, OSError, ValueError) as exc:
        raise InputError.at(where, 0, 0, f"is not a memo this tool can read ({exc})") from None
    if "plan.yaml" not in attached or "findings.json" not in attached:
        raise InputError.at(where, 0, 0, "carries no attached plan.yaml and findings.json: it is not a memo written by "
                                         "`compliance memo`, or its attachments were removed; use --since REF with "
                                         "the plan file's git revision instead")
    plan_text, findings = attached["plan.yaml"][0], attached["findings.json"][0]
    try:
        doc = json.loads(findings)
        previous = doc["plans"][0]
        version = doc["format_version"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise InputError.at(where, 0, 0, "its attached findings.json is not in this tool's format: the memo was "
                                         "altered or written by an older version") from None
    if version != FORMAT_VERSION:
        raise InputError.at(where, 0, 0, f"was written by an older version (findings format {version}, this version "
                                         f"reads {FORMAT_VERSION}); use --since REF with the plan file's git revision")
    digest = hashlib.sha256(plan_text).hexdigest()
    if previous.get("sha256") != digest or digest not in pages:
        raise InputError.at(where, 0, 0, "its attached plan.yaml does not match the SHA-256 in its audit trail: the "
                                         "memo was altered; compare with the signed original")
    base = api.check(f"{path.name}:plan.yaml", ruleset, _date(previous["as_of"], where), text=plan_text)
    return base, previous, f"the memo of {previous['as_of']}"


def _date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError.at(where, 0, 0, f"its findings give no review date ({text!r}): the memo was altered") from None


def _waiver_key(w: Waiver) -> tuple[str, str | None, date]:
    return w.rule, w.fund, w.approved_on


def _compare(base: PlanReport, previous: dict[str, Any], report: PlanReport, label: str) -> dict[str, Any]:
    plain = Plain(report)
    funds = diff_reports(base, report)
    fund_rows = [f"Added: {c.name}" for c in funds.added] + [f"Removed: {c.name}" for c in funds.removed]
    for c in funds.changed:
        what = "; ".join(f"{LABELS.get('fund.' + k, k.replace('_', ' '))} {shown_value('fund.' + k, a)} → "
                         f"{shown_value('fund.' + k, b)}" for k, a, b in c.fields)
        fund_rows.append(f"Changed: {c.name}: {what}")

    def active(findings: list[dict[str, Any]]) -> dict[tuple[str, str | None], dict[str, Any]]:
        return {(f["rule"], f["fund"]): f for f in findings if f["status"] == "fail"}

    before, now = active(previous["findings"]), active(report_dict(report)["findings"])

    def lines(findings: list[dict[str, Any]]) -> list[str]:
        """One line per problem, its options named (a check resolved on twenty options is one line)."""
        by_check: dict[tuple[str, str], list[str | None]] = {}
        for f in findings:
            by_check.setdefault((f["severity"], plain(f["headline"])), []).append(f["fund"])
        return [f"{severity}: {headline}: " + ", ".join(filter(None, ["the plan" if None in who else "",
                                                                     plain.funds([w for w in who if w])]))
                for (severity, headline), who in by_check.items()]

    new = lines([f for k, f in now.items() if k not in before])
    resolved = lines([f for k, f in before.items() if k not in now])
    still = {x["path"] for x in report_dict(report)["facts_to_record"]}
    recorded = [f"{x['label'][:1].upper()}{x['label'][1:]} ({plain.fund(x['fund'])})"
                for x in previous["facts_to_record"] if x["path"] not in still]
    old_waivers = {_waiver_key(w): w for w in base.waivers}
    titles = {r.id: r.title for r in report.ruleset.rules}
    added = [f"Added: {plain(titles.get(w.rule, w.rule))} "
             f"({plain.fund(w.fund)}), until {w.expires}" for w in report.waivers if _waiver_key(w) not in old_waivers]
    expired = [f"Expired: {plain(titles.get(w.rule, w.rule))} "
               f"({plain.fund(w.fund)}), on {w.expires}" for w in report.waivers
               if not w.in_effect(report.as_of) and w.in_effect(base.as_of)]
    parts = [("Funds added, removed and changed", fund_rows), ("New findings", new), ("Resolved findings", resolved),
             ("Facts recorded since", recorded), ("Waivers added and expired", added + expired)]
    summary = (f"{counted(len(funds.added), 'fund')} added, {len(funds.removed)} removed, {len(funds.changed)} "
               f"changed; {counted(len(new), 'new problem')}, {len(resolved)} resolved; "
               f"{counted(len(recorded), 'fact')} recorded; {counted(len(added), 'waiver')} added, "
               f"{len(expired)} expired.")
    return {"label": label, "line": summary, "parts": parts}
