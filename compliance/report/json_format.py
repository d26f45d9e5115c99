"""Machine-readable report, format version 1 (documented in docs/json-format.md); its shape is `canonical`'s."""

from __future__ import annotations

from collections.abc import Sequence

from compliance.canonical import diff_document, document
from compliance.diff import PlanDiff
from compliance.errors import Problem
from compliance.model import Report
from compliance.report.base import OutputFormat
from compliance.text import json_text


class JsonFormat(OutputFormat):
    name = "json"
    compares = reports_problems = True

    def render(self, reports: Sequence[Report], problems: Sequence[Problem] = (), *, color: bool = False,
               skipped: Sequence[Problem] = ()) -> str:
        return json_text(document(reports, problems, skipped))

    def render_diff(self, diff: PlanDiff) -> str:
        return json_text(diff_document(diff))


FORMAT = JsonFormat()
