"""GitHub Actions workflow commands: one `::error|warning|notice file=...,line=...::message` line per finding."""

from __future__ import annotations

from collections.abc import Sequence

from compliance.errors import Problem
from compliance.model import Finding, Report, RuleSet
from compliance.report.base import OutputFormat
from compliance.text import printable

_COMMAND = {"error": "error", "warning": "warning", "info": "notice", "watch": "notice"}
# a fact to record is a notice whatever the rule's severity: it is a question for the file, not a finding


def _escape_data(text: str) -> str:
    """A command's message: percent-encoded line breaks; other controls shown as escapes, never sent to the log."""
    return "\n".join(printable(part) for part in text.split("\n")).replace("%", "%25").replace("\r", "%0D") \
        .replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def problem_line(problem: Problem, command: str = "error", title: str = "invalid input") -> str:
    """A bad-input problem (file:line:column: message) as an error annotation on that line (or another note)."""
    loc = problem.location
    return (f"::{command} file={_escape_property(loc.file)},line={loc.line},col={loc.column},"
            f"title={_escape_property(title)}::{_escape_data(problem.message)}")


class GithubFormat(OutputFormat):
    """Findings as annotations; a broken input file is an error annotation on its line too."""

    name = "github"
    streams = reports_problems = True
    checklist = "none"

    def render(self, reports: Sequence[Report], problems: Sequence[Problem] = (), *, color: bool = False,
               skipped: Sequence[Problem] = ()) -> str:
        start = self.render_start(reports[0].ruleset) if reports else ""
        return start + "".join(self.render_one(r) for r in reports) + self.render_end(len(reports), 0, 0, problems,
                                                                                     skipped)

    def render_start(self, ruleset: RuleSet) -> str:
        return "".join(problem_line(p, "warning", "federal rule changed by a pack") + "\n"
                       for p in ruleset.federal_changes)

    def render_one(self, report: Report, *, color: bool = False) -> str:
        return "".join(_finding_line(f) + "\n" for f in report.findings if f.status != "waived")

    def render_end(self, seen: int, failing: int, broken: int, problems: Sequence[Problem] = (),
                   skipped: Sequence[Problem] = ()) -> str:
        return "".join(problem_line(p) + "\n" for p in problems) + "".join(
            problem_line(p, "notice", "skipped: a rule pack") + "\n" for p in skipped)


def _finding_line(f: Finding) -> str:
    title = f"{f.rule_id}" + (f" ({f.fund_id})" if f.fund_id else "")
    basis = "; ".join(c.pinpoint for c in f.citations)
    message = f.message + (f" [{f.note}]" if f.note else "") + (f"\nBasis: {basis}" if basis else "")
    props = f"file={_escape_property(f.location.file)},line={f.location.line},col={f.location.column}," \
            f"title={_escape_property(title)}"
    command = "notice" if f.status == "undetermined" else _COMMAND[f.severity]
    return f"::{command} {props}::{_escape_data(message)}"


FORMAT = GithubFormat()
