"""Which characters of a plan the memo's PDF cannot draw, so the memo says so instead of showing silent boxes.

The memo is set in DejaVu; text in other scripts renders only if some installed font covers it (Pango falls back
through fontconfig). Characters that no installed font covers are named in a notice on the memo's first page.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import unicodedata
from pathlib import Path

MEMO_FONTS = ("DejaVu Serif", "DejaVu Sans", "DejaVu Sans Mono")


@functools.cache
def _memo_font_charset() -> frozenset[int]:
    """Code points the memo's own fonts cover (empty if fontconfig or fontTools cannot tell)."""
    from fontTools.ttLib import TTFont  # installed with WeasyPrint

    covered: set[int] = set()
    for family in MEMO_FONTS:
        path = _font_file(family)
        if path:
            covered |= set(TTFont(path, lazy=True).getBestCmap() or {})
    return frozenset(covered)


def _font_file(family: str) -> str | None:
    if not shutil.which("fc-match"):
        return None
    out = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True, timeout=10)
    return out.stdout if out.returncode == 0 and Path(out.stdout).is_file() else None


@functools.cache
def _any_font_has(code: int) -> bool:
    if not shutil.which("fc-list"):
        return False
    out = subprocess.run(["fc-list", f":charset={code:x}", "file"], capture_output=True, text=True, timeout=10)
    return bool(out.stdout.strip())


def missing_glyphs(text: str) -> list[str]:
    """The distinct printable characters of `text` that no installed font can draw, in order of appearance."""
    # Latin, controls and spaces need no look-up (controls are shown as escapes, spaces are blank anyway)
    candidates = [c for c in dict.fromkeys(text) if ord(c) >= 0x250 and unicodedata.category(c)[0] not in "CZ"]
    if not candidates:
        return []
    covered = _memo_font_charset()
    return [c for c in candidates if ord(c) not in covered and not _any_font_has(ord(c))]


def glyph_notice(text: str) -> str | None:
    chars = missing_glyphs(text)
    if not chars:
        return None
    shown = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in chars[:8]) + (", ..." if len(chars) > 8 else "")
    return (f"{len(chars)} character{'s' if len(chars) != 1 else ''} of this plan's text cannot be drawn with the "
            f"installed fonts and show as empty boxes: {shown}. Install a font that covers them (for example Noto) "
            f"and write the memo again; the attached plan.yaml holds the exact text.")
