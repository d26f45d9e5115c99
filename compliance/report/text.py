"""Human-readable report for terminals and logs: per plan, findings grouped plan-wide then per fund."""

from __future__ import annotations

import click

from compliance.model import Finding, Report, severity_rank
from compliance.text import batch_total, counted, lead, lead_path, printable

STREAMING = True
_COLORS = {"error": "red", "warning": "yellow", "info": "cyan", "waived": "green", "watch": "blue"}


def render_one(report: Report, color: bool = False) -> str:
    return "\n".join(_plan(report, color)) + "\n"


def render_end(reports_seen: int, failing: int, broken: int = 0) -> str:
    if reports_seen + broken <= 1:
        return ""
    return batch_total(reports_seen, failing, broken)


def render(reports: list[Report], *, color: bool = False) -> str:
    failing = sum(1 for r in reports if r.worst())
    return "".join(render_one(r, color) for r in reports) + render_end(len(reports), failing)


def _order(f: Finding) -> tuple:
    """Failing findings first, worst first; then waived; watch items last (a stable sort keeps rule order)."""
    return ({"fail": 0, "waived": 1, "watch": 2}.get(f.status, 3), -severity_rank(f.severity))


def _plan(report: Report, color: bool) -> list[str]:
    style = (lambda text, key: click.style(text, fg=_COLORS[key], bold=key == "error")) if color else (lambda t, k: t)
    lines = [f"{lead_path(report.plan_file)}: {printable(report.plan_name)} (as of {report.as_of.isoformat()})"]
    if notice := report.ruleset.currency_notice(report.as_of):
        lines.append(f"  note: {notice}")
    groups: dict[str | None, list[Finding]] = {}
    for f in report.findings:
        groups.setdefault(f.fund_id, []).append(f)
    for fund_id in sorted(groups, key=lambda k: (k is not None, k or "")):
        lines.append(f"  {'plan' if fund_id is None else 'fund ' + printable(fund_id)}:")
        for f in sorted(groups[fund_id], key=_order):
            label = f.severity if f.status == "fail" else f.status
            lines.append(f"    {style(label.upper().ljust(7), label)} {f.location}  [{printable(f.rule_id)}] "
                         f"{printable(f.headline or f.title)}")
            lines.append(f"            {lead(f.message)}")
            if f.note:
                lines.append(f"            note: {printable(f.note)}")
            if f.waiver:
                w = f.waiver
                lines.append(f"            waived by {printable(w.approved_by)} on {w.approved_on} until {w.expires}: "
                             f"{printable(w.reason)}")
            if f.citations:
                lines.append("            basis: " + "; ".join(printable(c.pinpoint) for c in f.citations))
    statuses: dict[str, int] = {}
    for o in report.outcomes:
        statuses[o.status] = statuses.get(o.status, 0) + 1
    c = report.counts()
    lines.append(
        f"  {counted(c['error'], 'error')}, {counted(c['warning'], 'warning')}, {c['info']} info, {c['waived']} waived,"
        f" {c['watch']} watch"
        f" | checklist: {statuses.get('pass', 0)} pass, {statuses.get('fail', 0)} fail,"
        f" {statuses.get('waived', 0)} waived, {statuses.get('watch', 0)} watch,"
        f" {statuses.get('not_applicable', 0)} not applicable"
    )
    return lines
