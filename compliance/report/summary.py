"""One line per plan and a total: the view for a directory of hundreds or thousands of plans."""

from __future__ import annotations

from collections.abc import Sequence

from compliance.errors import Problem
from compliance.model import Report
from compliance.report.base import OutputFormat
from compliance.text import batch_total, count_line, printable, skipped_lines


class SummaryFormat(OutputFormat):
    name = "summary"
    streams = True

    def render(self, reports: Sequence[Report], problems: Sequence[Problem] = (), *, color: bool = False,
               skipped: Sequence[Problem] = ()) -> str:
        return self.render_streamed(reports, skipped=skipped)

    def render_one(self, report: Report, *, color: bool = False) -> str:
        c = report.counts()
        status = "FAIL" if c["error"] else ("WARN" if c["warning"] else "ok")
        return f"{status:<4} {printable(report.plan_file)}: {count_line(c)}\n"

    def render_end(self, seen: int, failing: int, broken: int, problems: Sequence[Problem] = (),
                   skipped: Sequence[Problem] = ()) -> str:
        return skipped_lines(skipped) + batch_total(seen, failing, broken)


FORMAT = SummaryFormat()
