"""Human-readable report for terminals and logs: per plan, findings grouped plan-wide then per fund."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from compliance.errors import Problem
from compliance.model import STATUS_WORDS, Finding, Report, by_fund
from compliance.report.base import OutputFormat
from compliance.schemas.plan import shown_value
from compliance.text import batch_total, count_line, counted, lead, lead_path, printable, skipped_lines

if TYPE_CHECKING:
    from compliance.diff import PlanDiff

# ANSI SGR colour codes (red, yellow, cyan, green, blue, magenta); the CLI decides whether to colour at all
_COLORS = {"error": 31, "warning": 33, "info": 36, "waived": 32, "watch": 34, "to record": 35}


def _style(text: str, key: str) -> str:
    return f"\x1b[{_COLORS[key]}m" + ("\x1b[1m" if key == "error" else "\x1b[22m") + f"{text}\x1b[0m"


class TextFormat(OutputFormat):
    name = "text"
    streams = colours = compares = True
    checklist = "statuses"

    def render(self, reports: Sequence[Report], problems: Sequence[Problem] = (), *, color: bool = False,
               skipped: Sequence[Problem] = ()) -> str:
        return self.render_streamed(reports, color=color, skipped=skipped)

    def render_one(self, report: Report, *, color: bool = False) -> str:
        return "\n".join(_plan(report, color)) + "\n"

    def render_end(self, seen: int, failing: int, broken: int, problems: Sequence[Problem] = (),
                   skipped: Sequence[Problem] = ()) -> str:
        return skipped_lines(skipped) + ("" if seen + broken <= 1 else batch_total(seen, failing, broken))

    def render_diff(self, diff: PlanDiff) -> str:
        return _diff(diff)


FORMAT = TextFormat()


def _order(f: Finding) -> tuple[Any, ...]:
    """Failing findings first, worst first; then waived; watch items last (a stable sort keeps rule order)."""
    return ({"fail": 0, "waived": 1, "undetermined": 2, "watch": 3}.get(f.status, 4), -f.severity.rank)


def _plan(report: Report, color: bool) -> list[str]:
    style = _style if color else (lambda text, key: text)
    lines = [f"{lead_path(report.plan_file)}: {printable(report.plan_name)} (as of {report.as_of.isoformat()})"]
    if notice := report.ruleset.currency_notice(report.as_of):
        lines.append(f"  note: {notice}")
    lines += [f"  federal rule changed: {printable(c.message)} ({c.location})" for c in report.ruleset.federal_changes]
    for fund_id, group in by_fund(report.findings).items():
        lines.append(f"  {'plan' if fund_id is None else 'fund ' + printable(fund_id)}:")
        for f in sorted(group, key=_order):
            label = f.severity if f.status == "fail" else STATUS_WORDS[f.status]
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
    statuses: Counter[str] = Counter(o.status for o in report.outcomes)
    changed = len(report.ruleset.federal_changes)
    lines.append(f"  {count_line(report.counts())} | checklist: "
                 + ", ".join(f"{statuses[s]} {STATUS_WORDS[s]}" for s in STATUS_WORDS)
                 + (f" | {counted(changed, 'federal rule change')} by packs (listed above)" if changed else ""))
    return lines


def _diff(d: PlanDiff) -> str:
    from compliance.diff import summary  # only for `compliance diff`: a check's text does not load the diff module

    lines = [f"{lead_path(d.base.plan_file)} -> {printable(d.new.plan_file)} (as of {d.new.as_of.isoformat()})",
             f"Funds: {len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed"]
    lines += [f"  + {printable(c.fund_id)}  {printable(c.name)}" for c in d.added]
    lines += [f"  - {printable(c.fund_id)}  {printable(c.name)}" for c in d.removed]
    for c in d.changed:
        changes = "; ".join(f"{printable(k)}: {printable(shown_value('fund.' + k, a))} -> "
                            f"{printable(shown_value('fund.' + k, b))}" for k, a, b in c.fields)
        lines.append(f"  ~ {printable(c.fund_id)}  {changes}")
    lines.append(f"Findings: {len(d.new_findings)} new, {len(d.resolved)} resolved, {len(d.unchanged)} unchanged"
                 + (f", {len(d.newly_waived)} newly waived" if d.newly_waived else ""))
    for label, group in (("NEW", d.new_findings), ("RESOLVED", d.resolved)):
        for f in group:
            what = f.severity if f.status == "fail" else f.status
            fund = f" ({f.fund_id})" if f.fund_id else ""
            lines.append(f"  {label:<8} {what.upper():<7} {printable(f.rule_id)}{printable(fund)}  {f.location}")
            lines.append(f"           {lead(f.message)}")
    for f in d.newly_waived:
        w = f.waiver
        fund = f" ({f.fund_id})" if f.fund_id else ""
        lines.append(f"  WAIVED   {f.severity.upper():<7} {printable(f.rule_id)}{printable(fund)}  {f.location}")
        if w is not None:
            lines.append(f"           waived by {printable(w.approved_by)} on {w.approved_on} until {w.expires}: "
                         f"{printable(w.reason)}")
    lines.append(summary(d))
    return "\n".join(lines) + "\n"
