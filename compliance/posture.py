"""The regulatory posture on a date: every loaded source and its status then, oldest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from compliance.model import RuleSet
from compliance.text import json_text, printable


def posture_rows(ruleset: RuleSet, as_of: date) -> list[dict[Any, Any]]:
    rows = []
    for source in sorted(ruleset.sources.values(), key=lambda s: (s.dated, s.id)):
        status = source.status_on(as_of)
        rows.append({
            "id": source.id, "title": source.title, "document": source.document, "issuer": source.issuer,
            "date": source.dated.isoformat(), "date_precision": source.date_precision, "date_text": source.date_text,
            "url": source.url,
            "status": status.status if status else "not_yet_issued",
            "status_text": status.describe() if status else "not yet issued",
            "note": status.note if status and status.note else "",
        })
    return rows


def posture_json(ruleset: RuleSet, as_of: date) -> str:
    """`compliance posture --format json`: the date, the currency notice and every source's row."""
    return json_text({"as_of": as_of.isoformat(), "notice": ruleset.currency_notice(as_of),
                      "sources": posture_rows(ruleset, as_of)})


def posture_text(ruleset: RuleSet, as_of: date) -> str:
    """`compliance posture`: the timeline for people, two lines per source."""
    lines = [f"Regulatory posture as of {as_of.isoformat()}"]
    if notice := ruleset.currency_notice(as_of):
        lines.append(f"  note: {notice}")
    for row in posture_rows(ruleset, as_of):
        lines.append(f"  {row['date_text']}  {printable(row['id']):<26} {printable(row['status_text'])}")
        lines.append(f"              {printable(row['title'])} ({printable(row['document'])})")
    return "\n".join(lines) + "\n"


# `compliance posture --format` offers these
POSTURE_FORMATS: dict[str, Callable[[RuleSet, date], str]] = {"text": posture_text, "json": posture_json}
