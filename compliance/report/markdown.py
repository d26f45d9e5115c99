"""A Markdown summary for $GITHUB_STEP_SUMMARY or a pull-request comment."""

from __future__ import annotations

from collections.abc import Sequence

from compliance.errors import Problem
from compliance.model import Report
from compliance.report.base import OutputFormat
from compliance.text import code, markdown


class MarkdownFormat(OutputFormat):
    name = "markdown"
    checklist = "none"
    reports_problems = True

    def render(self, reports: Sequence[Report], problems: Sequence[Problem] = (), *, color: bool = False,
               skipped: Sequence[Problem] = ()) -> str:
        changes = reports[0].ruleset.federal_changes if reports else ()
        return (_render(reports) + _files(changes, "Federal rules changed by packs")
                + _files(problems, "Input errors (exit 2)") + _files(skipped, "Skipped: rule packs, not plans"))


def _files(problems: Sequence[Problem], heading: str) -> str:
    """Located notes as a table: a federal rule a pack changed, a broken input, or a file a folder run skipped."""
    if not problems:
        return ""
    rows = [f"| {code(f'{p.location.file}:{p.location.line}')} | {markdown(p.message)} |" for p in problems]
    return "\n".join(["", f"### {heading}", "", "| file | message |", "|---|---|", *rows]) + "\n"


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
