"""Output formats, found by name. Each module defines `FORMAT`, an `OutputFormat` (see `base`); adding one is
one line in `FORMATS`, and the CLI's `--format` and `--also` choices follow.

Modules are imported only when their format is used, so a check that prints text never loads XML or JSON code.
"""

from __future__ import annotations

import importlib

from compliance.report.base import OutputFormat

FORMATS = {
    "text": "compliance.report.text",
    "json": "compliance.report.json_format",
    "sarif": "compliance.report.sarif",
    "junit": "compliance.report.junit",
    "github": "compliance.report.github",
    "markdown": "compliance.report.markdown",
    "summary": "compliance.report.summary",
}
DIFF_FORMATS = ("text", "json")  # the formats whose `compares` is true (a test keeps this list honest)


def get_format(name: str) -> OutputFormat:
    """The format called `name` (any case)."""
    fmt: OutputFormat = importlib.import_module(FORMATS[name.lower()]).FORMAT
    return fmt
