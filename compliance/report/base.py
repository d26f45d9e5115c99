"""The interface every output format implements, so the CLI and the library handle all of them one way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar, Literal, get_args

from compliance.errors import Problem
from compliance.model import Report, RuleSet, failing_count

if TYPE_CHECKING:
    from compliance.diff import PlanDiff

Checklist = Literal["none", "statuses", "rows"]  # in the order of how much a format reads


class OutputFormat:
    """One output format for check results, and what it declares it supports.

    `render` writes a whole run. A format that `streams` also writes plan by plan (`render_one`, then
    `render_end` once), so a batch of thousands of plans keeps flat memory. Input problems (a broken plan
    file) are passed to the format too: one that `reports_problems` shows them among its results, as a
    code-scanning or CI view needs. Every format shows the files a folder run `skipped` as rule packs. A format
    that also `compares` renders a `diff` of two plan versions.

    The flags are each format's declarations: the registry (`report.FORMATS`) derives its lists from them, such
    as `diff_formats()`, and tests/report/test_formats.py holds every format to what it declares. A class, not
    a Protocol: the defaults are part of the interface (a format that declares nothing supports nothing beyond
    `render`, and its `render_one` and `render_diff` refuse).
    """

    name: ClassVar[str]
    streams: ClassVar[bool] = False
    colours: ClassVar[bool] = False  # honours --color (ANSI styles for a terminal)
    reports_problems: ClassVar[bool] = False
    compares: ClassVar[bool] = False
    # what it reads of each report's checklist (`Report.outcomes`): the rows with their findings, the statuses
    # only, or nothing. Worker processes send back only that much (`batch.trimmed`); a test holds each format to it.
    checklist: ClassVar[Checklist] = "rows"

    def render(self, reports: Sequence[Report], problems: Sequence[Problem] = (), *, color: bool = False,
               skipped: Sequence[Problem] = ()) -> str:
        raise NotImplementedError

    def render_streamed(self, reports: Sequence[Report], *, color: bool = False,
                        skipped: Sequence[Problem] = ()) -> str:
        """A streaming format's whole run, the same text as the run streams: each plan, then the end."""
        return "".join(self.render_one(r, color=color) for r in reports) + self.render_end(
            len(reports), failing_count(reports), 0, skipped=skipped)

    def render_start(self, ruleset: RuleSet) -> str:
        """What a streaming format writes once, before the first plan: what the loaded packs change."""
        return ""

    def render_one(self, report: Report, *, color: bool = False) -> str:
        raise NotImplementedError(f"the {self.name} format does not stream")

    def render_end(self, seen: int, failing: int, broken: int, problems: Sequence[Problem] = (),
                   skipped: Sequence[Problem] = ()) -> str:
        return ""

    def render_diff(self, diff: PlanDiff) -> str:
        raise NotImplementedError(f"the {self.name} format does not compare plan versions")


def checklist_read(formats: Iterable[OutputFormat]) -> Checklist:
    """The most of each report's checklist any of `formats` reads: what a run's workers send back."""
    return max((f.checklist for f in formats), key=get_args(Checklist).index, default="none")
