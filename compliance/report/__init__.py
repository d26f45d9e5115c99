"""Output formats, found by name. Each module defines `FORMAT`, an `OutputFormat` (see `base`) that declares what
it supports; adding one is one line in `FORMATS`, and the CLI's `--format`, `--also` and `diff --format` choices
follow (the diff formats are those that declare `compares`).

Modules are imported only when their format is used, so a check that prints text never loads XML or JSON code.
"""

from __future__ import annotations

import importlib
from functools import cache

from compliance.report.base import OutputFormat

FORMATS = {
    "text": "compliance.report.text_format",
    "json": "compliance.report.json_format",
    "sarif": "compliance.report.sarif",
    "junit": "compliance.report.junit",
    "github": "compliance.report.github",
    "markdown": "compliance.report.markdown",
    "summary": "compliance.report.summary",
}


def get_format(name: str) -> OutputFormat:
    """The format called `name` (any case)."""
    fmt: OutputFormat = importlib.import_module(FORMATS[name.lower()]).FORMAT
    return fmt


@cache
def diff_formats() -> tuple[str, ...]:
    """The formats that declare `compares` (they render `compliance diff`), in registry order. It imports every
    format module, so the CLI asks only when `diff` parses its options or shows its help."""
    return tuple(name for name in FORMATS if get_format(name).compares)
