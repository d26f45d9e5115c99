"""Output formats. Each is one module with `render(reports, *, color=False) -> str`; adding one is one line here.

Formats that can stream (print each plan as it is checked, so memory stays flat) also define `STREAMING = True`,
`render_one(report)` and `render_end(plans_seen, plans_failing, plans_broken)`.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Callable

FORMATS = {
    "text": "compliance.report.text",
    "json": "compliance.report.json_format",
    "sarif": "compliance.report.sarif",
    "junit": "compliance.report.junit",
    "github": "compliance.report.github",
    "markdown": "compliance.report.markdown",
    "summary": "compliance.report.summary",
}


def renderer(name: str) -> Callable[..., str]:
    return module(name).render


def module(name: str) -> ModuleType:
    return importlib.import_module(FORMATS[name])
