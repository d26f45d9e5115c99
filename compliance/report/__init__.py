"""Output formats. Each is one module with `render(reports, *, color=False) -> str`; adding one is one line here."""

from __future__ import annotations

import importlib
from typing import Callable

FORMATS = {
    "text": "compliance.report.text",
    "json": "compliance.report.json_format",
    "sarif": "compliance.report.sarif",
    "junit": "compliance.report.junit",
    "github": "compliance.report.github",
    "markdown": "compliance.report.markdown",
}


def renderer(name: str) -> Callable[..., str]:
    return importlib.import_module(FORMATS[name]).render
