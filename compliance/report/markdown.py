"""A Markdown summary for $GITHUB_STEP_SUMMARY or a pull-request comment."""

from __future__ import annotations

from collections.abc import Sequence

from compliance.errors import Problem
from compliance.model import Report
from compliance.report.base import OutputFormat
from compliance.text import code, markdown


class MarkdownFormat(OutputFormat):
    name = "markdown"

    def render(self, reports: Sequence[Report], problems: Sequence[Problem] = (), *, color: bool = False) -> str:
        return _render(reports)


def _render(reports: Sequence[Report]) -> str:
    as_of = reports[0].as_of.isoformat() if reports else ""
    lines = [f"## plan-compliance: {len(reports)} plan(s) as of {as_of}", "",
             "| plan | errors | warnings | info | watch | waived | facts to record |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in reports:
        c = r.counts()
        lines.append(f"| {markdown(r.plan_name)} ({code(r.plan_file)}) | {c['error']} | {c['warning']} | {c['info']} | "
                     f"{c['watch']} | {c['waived']} | {c['to_record']} |")
    for r in reports:
        failing = [f for f in r.findings if f.status == "fail" and f.severity != "info"]
        if not failing:
            continue
        lines += ["", f"### {markdown(r.plan_name)}", "", "| severity | rule | fund | finding | where |", "|---|---|---|---|---|"]
        for f in sorted(failing, key=lambda f: (f.severity != "error", f.rule_id)):
            lines.append(f"| {f.severity} | {code(f.rule_id)} | {markdown(f.fund_id or '—')} | {markdown(f.message)} | "
                         f"{code(f'{f.location.file}:{f.location.line}')} |")
    return "\n".join(lines) + "\n"


FORMAT = MarkdownFormat()
