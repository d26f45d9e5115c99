"""A batch check as one library call: results in, a report written plan by plan, the verdict out.

The CLI's `check`, and any program that checks a book of plans, share it: baseline filtering, the severity
floor, streaming or collecting for the chosen format, fingerprints for a new baseline, and whether anything
fails at the chosen level. Where the results come from (this process, worker processes) is the caller's choice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace

from compliance.baseline import filter_new
from compliance.errors import InputError, NotAPlan, Problem
from compliance.model import Report, Severity, failing_count
from compliance.report.base import OutputFormat


@dataclass
class RunResult:
    """What a batch check found: counts for the summary line, input problems, and the verdict."""

    seen: int = 0
    failing: int = 0  # plans with a failing finding at any severity
    broken: int = 0  # plan files refused as bad input
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)  # rule packs found in folders of plans
    reports: list[Report] = field(default_factory=list)  # kept only when asked (non-streaming or extra outputs)
    fingerprints: dict[str, str] = field(default_factory=dict)  # for --write-baseline: fingerprint -> severity
    fails: bool = False  # a finding at or above the fail-on level


def fails_at(reports: Sequence[Report], fail_on: str, unrecorded: bool = False) -> bool:
    """Whether any failing finding reaches `fail_on` (a severity, or `never`). A fact to record never fails a
    run, unless the run wants complete records (`unrecorded`): then an undetermined item at that level does."""
    if fail_on == "never":
        return False
    threshold = Severity(fail_on)
    statuses = ("fail", "undetermined") if unrecorded else ("fail",)
    return any(f.status in statuses and f.severity >= threshold for r in reports for f in r.findings)


def run_checks(results: Iterable[Report | InputError], fmt: OutputFormat, write: Callable[[str], object], *,
               fail_on: str = "error", fail_on_unrecorded: bool = False, known: dict[str, str | None] | None = None, min_severity: str = "watch",
               keep_reports: bool = False, record_fingerprints: bool = False, color: bool = False,
               each: Callable[[], object] = lambda: None, named: Collection[str] = (),
               broken: Callable[[Problem], object] = lambda problem: None) -> RunResult:
    """Consume check results in order and write `fmt` through `write`; return the counts and the verdict.

    `broken` is told each input problem as its file is reached, so a run stopped by a time limit has shown them.

    The verdict is judged before `min_severity` hides findings (hiding is for reading, not for passing), and
    after a baseline (`known`) removes what was already recorded. A rule pack found in a folder of plans is
    skipped, and every format says so; a file `named` on its own is never skipped, so a pack there is bad input.
    """
    run = RunResult()
    floor = Severity(min_severity)
    keep = keep_reports or not fmt.streams
    for item in results:
        each()
        if isinstance(item, NotAPlan) and item.problems[0].location.file not in named:
            run.skipped += item.problems
            continue
        if isinstance(item, InputError):
            run.problems += item.problems
            run.broken += 1
            for problem in item.problems:
                broken(problem)
            continue
        if record_fingerprints:
            run.fingerprints |= {f.fingerprint: f.severity for f in item.findings if f.status in ("fail", "watch", "undetermined")}
        if known is not None:
            item = filter_new([item], known)[0]
        run.seen += 1
        run.failing += failing_count([item])
        run.fails = run.fails or fails_at([item], fail_on, fail_on_unrecorded)
        if floor:
            item = replace(item, findings=tuple(f for f in item.findings if f.severity >= floor))
        if fmt.streams:
            if run.seen == 1:
                write(fmt.render_start(item.ruleset))
            write(fmt.render_one(item, color=color))
        if keep:
            run.reports.append(item)
    problems = run.problems if fmt.reports_problems else []
    write(fmt.render_end(run.seen, run.failing, run.broken, problems, run.skipped) if fmt.streams
          else fmt.render(run.reports, problems, color=color, skipped=run.skipped))
    return run
