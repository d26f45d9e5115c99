"""Rule messages: `{fund.name}`-style placeholders filled from the plan, never evaluated as code."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Callable

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


def placeholders(message: str) -> list[str]:
    return _PLACEHOLDER.findall(message)


def fill(message: str, lookup: Callable[[str], Any]) -> str:
    """Replace each placeholder with the plan's value, formatted for people; missing values say so."""
    return _PLACEHOLDER.sub(lambda m: show(lookup(m.group(1))), message)


def show(value: Any) -> str:
    if value is None:
        return "(not recorded)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def table_cell(text) -> str:
    """Text for one Markdown table cell: a single line, with pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")
