"""Machine-readable report, format version 1 (documented in docs/json-format.md)."""

from __future__ import annotations

from typing import Any

from compliance.model import Finding, Report
from compliance.text import json_text

FORMAT_VERSION = 1


def finding_dict(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule_id, "title": f.title, "headline": f.headline or f.title, "severity": f.severity, "status": f.status, "message": f.message,
        "file": f.location.file, "line": f.location.line, "column": f.location.column, "fund": f.fund_id,
        "citations": [{"source": c.source.id, "pinpoint": c.pinpoint, "url": c.source.url} for c in f.citations],
        "remediation": f.remediation, "fingerprint": f.fingerprint,
    }
    if f.note:
        out["note"] = f.note
    if f.members:
        out["members"] = list(f.members)  # the per-option findings a consolidated watch item stands for
    if f.waiver:
        w = f.waiver
        out["waiver"] = {"approved_by": w.approved_by, "approved_on": w.approved_on.isoformat(),
                         "expires": w.expires.isoformat(), "reason": w.reason, "reference": w.reference}
    return out


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "file": report.plan_file,
        "plan": report.plan_name,
        "as_of": report.as_of.isoformat(),
        "notice": report.ruleset.currency_notice(report.as_of),
        "sha256": report.plan_sha256,
        "counts": report.counts(),
        "checklist": [{"rule": o.rule_id, "status": o.status, "reason": o.reason, "checked": o.checked}
                      for o in report.outcomes],
        "findings": [finding_dict(f) for f in report.findings],
    }


def document(reports: list[Report]) -> dict[str, Any]:
    first = reports[0] if reports else None
    return {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "plan-compliance", "version": first.tool_version if first else None},
        "settings": first.ruleset.settings_file if first else None,
        "packs": [{"id": p.id, "version": p.version, "file": p.file, "sha256": p.sha256, "authority": p.authority,
                   "current_to": p.current_to.isoformat() if p.current_to else None}
                  for p in first.ruleset.packs] if first else [],
        "plans": [report_dict(r) for r in reports],
    }


def render(reports: list[Report], *, color: bool = False) -> str:
    return json_text(document(reports))
