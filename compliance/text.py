"""Text for people: rule messages filled from the plan, and untrusted values made safe to print.

Placeholders (`{fund.name}`) are filled from the plan, never evaluated as code. Every value that came from a plan,
a pack, a waiver or a file name is untrusted where it is printed: in a CI log a line break followed by `::error`
starts a runner command, and in a terminal an escape sequence can move the cursor, hide text or set the clipboard.
`printable` keeps such a value on one visible line; `lead` and `lead_path` keep one that starts a line from
reading as a runner command; `markdown` shows it as text in a pull-request comment.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

from compliance.kinds import is_number

# {path}, {path|bp}, {path|pct}, {path - path|bp}: a value, optionally a difference, optionally as a fee
_PATH = r"[a-z_][a-z0-9_.]*"
_PLACEHOLDER = re.compile(rf"\{{({_PATH})(?: - ({_PATH}))?(?:\|(bp|pct))?\}}")


def placeholders(message: str) -> list[str]:
    """Every field path a message names, so the pack loader can check each against the plan format."""
    return [p for m in _PLACEHOLDER.finditer(message) for p in (m.group(1), m.group(2)) if p]


_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)


@functools.lru_cache(maxsize=1024)
def _optional_split(message: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A message as (text, paths) pieces: even pieces are always kept (no paths), odd ones are `[[...]]` parts
    with the fields they name. A pack has a few dozen messages and each is filled for many findings."""
    pieces = _OPTIONAL.split(message)
    return tuple((piece, tuple(placeholders(piece)) if i % 2 else ()) for i, piece in enumerate(pieces))


@functools.lru_cache(maxsize=1024)
def _placeholder_split(text: str) -> tuple[str, tuple[tuple[str, str | None, str | None, str], ...]]:
    """`text` as its leading words, then (path, minus path, unit, the words after) for each placeholder."""
    parts = _PLACEHOLDER.split(text)
    return parts[0], tuple((parts[i], parts[i + 1], parts[i + 2], parts[i + 3]) for i in range(1, len(parts), 4))


def fill(message: str, lookup: Callable[[str], Any]) -> str:
    """Replace each placeholder with the plan's value, formatted for people. A `[[...]]` part is kept only when
    every value it names is recorded, so a sentence that states a fact never prints "(not recorded)" inside it."""
    pieces = _optional_split(message)
    if len(pieces) > 1:
        message = "".join(text for text, paths in pieces if all(lookup(p) is not None for p in paths))
    lead, placed = _placeholder_split(message)
    out = [lead]
    for first, second, unit, after in placed:
        left = lookup(first)
        if second:
            right = lookup(second)
            left = left - right if is_number(left) and is_number(right) else None
        if unit and is_number(left):
            out.append(basis_points(left) if unit == "bp" else percent(left))
        else:
            out.append(show(left))
        out.append(after)
    return "".join(out)


def states_only_recorded(message: str, lookup: Callable[[str], Any]) -> bool:
    """Whether every value the message names outside its `[[...]]` parts is recorded: only then can it be
    printed as a statement of what the file shows."""
    return all(lookup(p) is not None for p in _named_outside_optional(message))


@functools.lru_cache(maxsize=1024)
def _named_outside_optional(message: str) -> tuple[str, ...]:
    return tuple(p for p in placeholders(_OPTIONAL.sub("", message)) if not p.startswith("param."))


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`1 error`, `2 errors`: a count with its noun agreeing."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def count_line(c: dict[str, int]) -> str:
    """`1 error, 4 warnings, 10 info, 1 waived, 4 watch, 41 facts to record`: one plan's counts, in words."""
    return (f"{counted(c['error'], 'error')}, {counted(c['warning'], 'warning')}, {c['info']} info, "
            f"{c['waived']} waived, {c['watch']} watch, {counted(c['to_record'], 'fact')} to record")


def batch_total(checked: int, failing: int, broken: int) -> str:
    """The last line of a batch: `3 plans: 2 checked, 1 with input errors; 1 with failing findings.`"""
    if not broken:
        return f"{counted(checked, 'plan')} checked, {failing} with failing findings.\n"
    return (f"{counted(checked + broken, 'plan')}: {checked} checked, {broken} with input errors; "
            f"{failing} with failing findings.\n")


def skipped_lines(skipped: Sequence[Any]) -> str:
    """One line per file a folder run skipped as a rule pack (each a located note), for the text formats."""
    return "".join(f"skipped {note}\n" for note in skipped)


def percent(fraction: float) -> str:
    """A fee as a committee reads it, in one style everywhere (memo, text, Markdown, JSON display fields, diff):
    two decimals at least, more only when the value has them: 0.001 -> 0.10%, 0.0089 -> 0.89%, 0.00015 -> 0.015%
    (never rounded away to 0.01%)."""
    whole, _, decimals = f"{fraction * 100:.4f}".partition(".")
    return f"{whole}.{decimals.rstrip('0').ljust(2, '0')}%"


def basis_points(fraction: float) -> str:
    """0.0037 -> 37 bp, 0.00015 -> 1.5 bp."""
    text = f"{fraction * 10_000:.2f}".rstrip("0").rstrip(".")
    return f"{text or '0'} bp"


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


def table_cell(text: Any) -> str:
    """Text for one Markdown table cell: a single line, with pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


# C0 and C1 controls and DEL, line and paragraph separators, and the bidirectional overrides and isolates that
# can make text read in another order than it is stored.
# Also lone surrogates (an undecodable file name) and the noncharacters U+FFFE and U+FFFF, which XML forbids.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff\ufffe\uffff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_LEGACY_COMMAND = re.compile(r"##\[")  # the runner's older command form, recognised anywhere on a line


def _escape(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(value: Any) -> str:
    """One line of visible text: controls, line breaks and bidi overrides shown as escapes (`\\n`, `\\x1b`)."""
    text = value if isinstance(value, str) else show(value)
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(lambda m: _escape(m.group()), text)
    if "##[" in text:
        text = _LEGACY_COMMAND.sub("##\\\\[", text)
    return text


def lead(value: Any) -> str:
    """`printable`, for a value that may be the first thing on a line: never read as a `::command::`."""
    text = printable(value)
    return "\\" + text if text.lstrip().startswith("::") else text


def block(value: Any) -> str:
    """Text of several lines (a rule's description): its line breaks kept, each line made safe as by `lead`."""
    return "\n".join(lead(line) for line in show(value).split("\n"))


def lead_path(path: Any) -> str:
    """A file name that starts a line: a relative name beginning with `:` is shown as `./name` (same file)."""
    text = printable(path)
    return "./" + text if text.lstrip().startswith(":") else text


_MARKDOWN = re.compile(r"[\\`*_\[\]<>!|~&@]|(?<=:)//|(?<=w)\.")
_MARKDOWN_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "@": "@\u2060", "//": "/\\/", ".": "\\."}


def json_text(document: Any) -> str:
    """JSON for output that may reach a CI log: ASCII only (controls escaped by JSON itself), and the runner's
    `##[` command form written as `#\\u0023[`, which is the same JSON data."""
    return json.dumps(document, indent=2).replace("##[", "#\\u0023[") + "\n"


def markdown(value: Any) -> str:
    """Untrusted text shown as text in GitHub Markdown, on one line: no links, images, HTML, tables or mentions.

    Markup characters are backslash-escaped or written as entities; `@name` gets a word joiner so it mentions
    nobody; `scheme://` and `www.` are broken up so they do not become links.
    """
    text = " ".join(printable(value).split())
    return _MARKDOWN.sub(lambda m: _MARKDOWN_ESCAPES.get(m.group()) or "\\" + m.group(), text)


def link_target(url: str) -> str:
    """A source's URL as a Markdown link target: percent-encoded, so it cannot close the link and start markup."""
    return quote(printable(url), safe=":/?#@!$&'*+,;=%~")


def code(value: Any) -> str:
    """Untrusted text as a Markdown code span in a table cell (a file name): fenced past any backticks inside."""
    text = " ".join(printable(value).split()).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
