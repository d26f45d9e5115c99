"""The canonical data shape of findings, reports and plan comparisons (docs/json-format.md, version 1).

The JSON format prints it, the memo attaches it, and a diff is written in it: one definition, so they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from compliance.diff import PlanDiff, summary
from compliance.errors import Problem
from compliance.model import Finding, Outcome, Report
from compliance.schemas.plan import shown_value

FORMAT_VERSION = 1


def finding_dict(f: Finding) -> dict[str, Any]:
    """One finding, with its location, citations, fingerprint and any waiver."""
    out: dict[str, Any] = {
        "rule": f.rule_id, "title": f.title, "headline": f.headline or f.title, "severity": f.severity, "status": f.status, "message": f.message,
        "file": f.location.file, "line": f.location.line, "column": f.location.column, "fund": f.fund_id,
        "citations": [{"source": c.source.id, "pinpoint": c.pinpoint, "url": c.source.url} for c in f.citations],
        "remediation": f.remediation, "fingerprint": f.fingerprint,
    }
    if f.note:
        out["note"] = f.note
    if f.facts:  # an undetermined item: the facts to record that would decide it
        out["facts_to_record"] = [{"path": x.path, "field": x.field, "label": x.label, "fund": x.fund_id}
                                  for x in f.facts]
    if f.members:
        out["members"] = list(f.members)  # the per-option findings a consolidated watch item stands for
    if f.waiver:
        w = f.waiver
        out["waiver"] = {"approved_by": w.approved_by, "approved_on": w.approved_on.isoformat(),
                         "expires": w.expires.isoformat(), "reason": w.reason, "reference": w.reference}
    return out


def report_dict(report: Report) -> dict[str, Any]:
    """One plan's result: counts, the whole checklist and the findings."""
    return {
        "file": report.plan_file,
        "plan": report.plan_name,
        "as_of": report.as_of.isoformat(),
        "notice": report.ruleset.currency_notice(report.as_of),
        "sha256": report.plan_sha256,
        "counts": report.counts(),
        "checklist": [_row(o) for o in report.outcomes],
        "facts_to_record": [{"path": fact.path, "field": fact.field, "label": fact.label, "fund": fact.fund_id,
                             "rules": list(dict.fromkeys(f.rule_id for f in waiting))}
                            for fact, waiting in report.facts_to_record().values()],
        "findings": [finding_dict(f) for f in report.findings],
    }


def _row(o: Outcome) -> dict[str, Any]:
    """A checklist row; a pass names the recorded facts it rests on, an undetermined row the facts it waits on."""
    row: dict[str, Any] = {"rule": o.rule_id, "status": o.status, "reason": o.reason, "checked": o.checked}
    if o.evidence:
        row["satisfied_by"] = list(o.evidence)
    if o.status == "undetermined":
        row["missing"] = list(dict.fromkeys(x.path for f in o.findings for x in f.facts))
    return row


def problem_dict(problem: Problem) -> dict[str, Any]:
    loc = problem.location
    return {"file": loc.file, "line": loc.line, "column": loc.column, "message": problem.message}


def document(reports: Sequence[Report], problems: Sequence[Problem] = (), skipped: Sequence[Problem] = ()
             ) -> dict[str, Any]:
    """A whole run: tool, settings, packs (with their hashes), every plan's report, the input errors and the files
    skipped as rule packs."""
    first = reports[0] if reports else None
    return {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "plan-compliance", "version": first.tool_version if first else None},
        "settings": first.ruleset.settings_file if first else None,
        "packs": [{"id": p.id, "version": p.version, "file": p.file, "sha256": p.sha256, "authority": p.authority,
                   "current_to": p.current_to.isoformat() if p.current_to else None}
                  for p in first.ruleset.packs] if first else [],
        "federal_changes": [problem_dict(c) for c in first.ruleset.federal_changes] if first else [],
        "plans": [report_dict(r) for r in reports],
        "input_errors": [problem_dict(p) for p in problems],
        "skipped": [problem_dict(p) for p in skipped],
    }


def diff_document(d: PlanDiff) -> dict[str, Any]:
    """Two versions of a plan compared: funds added, removed, changed, and findings new, resolved, unchanged."""
    return {
        "format_version": FORMAT_VERSION, "base": d.base.plan_file, "new": d.new.plan_file,
        "as_of": d.new.as_of.isoformat(),
        "funds": {"added": [c.fund_id for c in d.added], "removed": [c.fund_id for c in d.removed],
                  "changed": {c.fund_id: [{"field": k, "before": shown_value(f"fund.{k}", a),
                                         "after": shown_value(f"fund.{k}", b)} for k, a, b in c.fields]
                              for c in d.changed}},
        "findings": {"new": [finding_dict(f) for f in d.new_findings],
                     "resolved": [finding_dict(f) for f in d.resolved],
                     "unchanged": [finding_dict(f) for f in d.unchanged],
                     "newly_waived": [finding_dict(f) for f in d.newly_waived]},
        "summary": summary(d),
    }
