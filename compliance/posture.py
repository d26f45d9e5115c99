"""The regulatory posture on a date: every loaded source and its status then, oldest first."""

from __future__ import annotations

from datetime import date
from typing import Any

from compliance.model import RuleSet


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
