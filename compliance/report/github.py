"""GitHub Actions workflow commands: one `::error|warning|notice file=...,line=...::message` line per finding."""

from __future__ import annotations

from compliance.errors import Problem
from compliance.model import Report
from compliance.text import printable

STREAMING = True
_COMMAND = {"error": "error", "warning": "warning", "info": "notice", "watch": "notice"}


def _escape_data(text: str) -> str:
    """A command's message: percent-encoded line breaks; other controls shown as escapes, never sent to the log."""
    return "\n".join(printable(part) for part in text.split("\n")).replace("%", "%25").replace("\r", "%0D") \
        .replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def problem_line(problem: Problem) -> str:
    """A bad-input problem (file:line:column: message) as an error annotation on that line."""
    loc = problem.location
    return (f"::error file={_escape_property(loc.file)},line={loc.line},col={loc.column},"
            f"title=invalid input::{_escape_data(problem.message)}")


def render_one(report: Report, color: bool = False) -> str:
    return render([report])


def render_end(reports_seen: int, failing: int, broken: int = 0) -> str:
    return ""


def render(reports: list[Report], *, color: bool = False) -> str:
    lines = []
    for report in reports:
        for f in report.findings:
            if f.status == "waived":
                continue
            title = f"{f.rule_id}" + (f" ({f.fund_id})" if f.fund_id else "")
            basis = "; ".join(c.pinpoint for c in f.citations)
            message = f.message + (f" [{f.note}]" if f.note else "") + (f"\nBasis: {basis}" if basis else "")
            props = f"file={_escape_property(f.location.file)},line={f.location.line},col={f.location.column}," \
                    f"title={_escape_property(title)}"
            lines.append(f"::{_COMMAND[f.severity]} {props}::{_escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
