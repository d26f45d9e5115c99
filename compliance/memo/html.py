"""Renders the memo context to HTML with Jinja2. Every value is escaped; custom templates run sandboxed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
import markupsafe

from compliance.errors import InputError
from compliance.memo.glossary import terms_in
from compliance.text import printable

_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

TEMPLATES = Path(__file__).parent / "templates"

# For a PDF: WeasyPrint lays out a paragraph in time that grows with the square of its length, and sizes a table column by
# its longest unbroken word, so one long value can stall a memo for minutes (docs/performance.md). So a value is
# shown up to SHOWN characters, and a run without a space gets a zero-width space every WORD characters: a break
# opportunity that shows nothing and is not in the PDF's text. The attached plan.yaml and findings.json keep every text whole.
SHOWN = 1_000
WORD = 32
_LONG_RUN = re.compile(rf"\S{{{WORD}}}(?=\S)")


def environment(template_dir: Path | None = None, for_pdf: bool = False) -> jinja2.Environment:
    """Our own templates in a normal environment; a user's template folder in Jinja's sandbox.

    For a PDF, printed text is cut and made breakable (SHOWN, WORD); a browser lays out the HTML as written."""
    folders = [str(template_dir), str(TEMPLATES)] if template_dir else [str(TEMPLATES)]
    cls = jinja2.sandbox.ImmutableSandboxedEnvironment if template_dir else jinja2.Environment
    env = cls(loader=jinja2.FileSystemLoader(folders), autoescape=True, undefined=jinja2.StrictUndefined,
              trim_blocks=True, lstrip_blocks=True, finalize=_shown if for_pdf else _visible)
    env.filters["id_breaks"] = id_breaks
    env.filters["ids_in_text"] = (lambda value: ids_in_text(value, _cut, _breakable)) if for_pdf else ids_in_text
    return env


ID_PART = 32  # characters: an id part longer than this may be too wide for a narrow column, so it may break more


def id_breaks(value: Any) -> markupsafe.Markup:
    """An id (`private.pe-statement-2021.small-plan-expertise`) that wraps only after its dots, never at a hyphen,
    so it reads and copies as one id; a part too long for a narrow column breaks after its hyphens, and at worst
    every ID_PART characters. Each part is escaped; the break points are <wbr>, which add no text."""
    pieces = []
    for part in re.findall(r"[^.]*\.|[^.]+", str(_visible(str(value)))):
        for piece in re.findall(r"[^-]*-|[^-]+", part) if len(part) > ID_PART else (part,):
            pieces += [piece[i:i + ID_PART] for i in range(0, len(piece), ID_PART)]
    return markupsafe.Markup("<wbr>").join(markupsafe.Markup('<span class="nobr">{}</span>').format(p) for p in pieces)


_DOTTED_ID = re.compile(r"(?<![\w.-])[a-z0-9]+(?:\.[a-z0-9][a-z0-9-]*)+(?![\w-])")


def ids_in_text(value: Any, cut: Callable[[str], str] = str, breakable: Callable[[str], str] = str) -> markupsafe.Markup:
    """Running text (a finding's message) with every dotted id in it (`erisa.monitoring.watch-list-decision`)
    wrapped as `id_breaks` wraps ids; the rest is escaped and wraps as text does (`cut` and `breakable` first)."""
    text = cut(str(_visible(str(value))))
    out, last = [], 0
    for match in _DOTTED_ID.finditer(text):
        out += [markupsafe.escape(breakable(text[last:match.start()])), id_breaks(match.group())]
        last = match.end()
    out.append(markupsafe.escape(breakable(text[last:])))
    return markupsafe.Markup("").join(out)


def _visible(value: Any) -> Any:
    """Every value a template prints: controls and bidirectional overrides shown as escapes, so a plan value
    cannot reorder the memo's text (a right-to-left override) or hide part of it. Markup (our stylesheet) and
    ordinary line breaks pass as they are."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup) and _HIDDEN.search(value):
        return _HIDDEN.sub(lambda m: printable(m.group()), value)
    return value


def _shown(value: Any) -> Any:
    """What `{{ value }}` prints: visible (`_visible`), at most SHOWN characters, breakable every WORD."""
    value = _visible(value)
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return _breakable(_cut(value))
    return value


def _cut(text: str) -> str:
    if len(text) <= SHOWN:
        return text
    return text[:SHOWN] + f"… ({len(text):,} characters; the attached plan.yaml and findings.json hold the whole text)"


def _breakable(text: str) -> str:
    return _LONG_RUN.sub("\\g<0>\u200b", text) if len(text) > WORD else text


def render_html(context: dict[str, Any], template_dir: Path | None = None, for_pdf: bool = False) -> str:
    env = environment(template_dir, for_pdf)
    # The stylesheet is our own bundled file, so it is marked safe; every plan and pack value stays escaped.
    css = markupsafe.Markup((TEMPLATES / "memo.css").read_text(encoding="utf-8"))
    large_css = markupsafe.Markup((TEMPLATES / "memo-large.css").read_text(encoding="utf-8")) \
        if context.get("large") else ""
    try:
        template = env.get_template("memo.html.j2")
        if "terms" in context:  # a caller's own glossary
            return template.render(css=css, large_css=large_css, **context)
        # The glossary explains the terms the memo uses, so it is chosen from the memo as first rendered without it.
        first = template.render(css=css, large_css=large_css, terms=[], **context)
        return template.render(css=css, large_css=large_css, terms=terms_in(first), **context)
    except jinja2.TemplateSyntaxError as exc:
        raise InputError.at(exc.filename or "memo.html.j2", exc.lineno or 0, 0, f"template error: {exc.message}") from None
    except (jinja2.TemplateError, jinja2.exceptions.SecurityError) as exc:
        where = str(template_dir / "memo.html.j2") if template_dir else "memo.html.j2"
        raise InputError.at(where, 0, 0, f"template refused: {exc}") from None
