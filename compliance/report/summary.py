"""One line per plan and a total: the view for a directory of hundreds or thousands of plans."""

from __future__ import annotations

from compliance.model import Report
from compliance.text import batch_total, counted, printable

STREAMING = True


def render_one(report: Report, color: bool = False) -> str:
    c = report.counts()
    status = "FAIL" if c["error"] else ("WARN" if c["warning"] else "ok")
    return (f"{status:<4} {printable(report.plan_file)}: {counted(c['error'], 'error')}, "
            f"{counted(c['warning'], 'warning')}, {c['info']} info, "
            f"{c['watch']} watch, {c['waived']} waived\n")


def render_end(reports_seen: int, failing: int, broken: int = 0) -> str:
    return batch_total(reports_seen, failing, broken)


def render(reports: list[Report], *, color: bool = False) -> str:
    failing = sum(1 for r in reports if r.worst())
    return "".join(render_one(r) for r in reports) + render_end(len(reports), failing)
