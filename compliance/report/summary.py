"""One line per plan and a total: the view for a directory of hundreds or thousands of plans."""

from __future__ import annotations

from collections.abc import Sequence

from compliance.errors import Problem
from compliance.model import Report, Severity
from compliance.report.base import OutputFormat
from compliance.text import batch_total, count_line, printable, skipped_lines

_STATUS: dict[Severity | None, str] = {Severity.ERROR: "FAIL", Severity.WARNING: "WARN"}  # by the plan's worst


class SummaryFormat(OutputFormat):
    name = "summary"
    streams = True
    checklist = "none"

    def render(self, reports: Sequence[Report], problems: Sequence[Problem] = (), *, color: bool = False,
               skipped: Sequence[Problem] = ()) -> str:
        return self.render_streamed(reports, skipped=skipped)

    def render_one(self, report: Report, *, color: bool = False) -> str:
        status = _STATUS.get(report.worst(), "ok")
        return f"{status:<4} {printable(report.plan_file)}: {count_line(report.counts())}\n"

    def render_end(self, seen: int, failing: int, broken: int, problems: Sequence[Problem] = (),
                   skipped: Sequence[Problem] = ()) -> str:
        return skipped_lines(skipped) + batch_total(seen, failing, broken)


FORMAT = SummaryFormat()
