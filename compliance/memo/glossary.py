"""The memo's glossary: the terms and abbreviations its own text uses, explained in plain words.

Definitions live in templates/glossary.yaml (words, not law: what a rule requires lives in rules/ with sources).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

import yaml

_TAGS = re.compile(r"<style.*?</style>|<[^>]+>", re.DOTALL)


@lru_cache(maxsize=1)
def _glossary() -> list[tuple[str, str, re.Pattern[str]]]:
    path = Path(__file__).parent / "templates" / "glossary.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    return sorted(((e["term"], e["meaning"], re.compile(rf"(?<!\w){re.escape(e['term'])}(?!\w)")) for e in entries),
                  key=lambda e: e[0].lower())


@lru_cache(maxsize=1)
def _any_term() -> re.Pattern[str]:
    """Every term in one pattern, longest first, so a page is read once however long it is."""
    terms = sorted((term for term, _, _ in _glossary()), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, terms)) + r")(?!\w)")


def terms_in(page: str) -> list[dict[str, str]]:
    """The glossary entries whose term the rendered memo (HTML) uses, alphabetically."""
    used = set(_any_term().findall(html.unescape(_TAGS.sub(" ", page))))
    return [{"term": term, "meaning": meaning} for term, meaning, _ in _glossary() if term in used]
