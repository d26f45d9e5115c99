"""The plan format as JSON Schema (draft 2020-12), for editors such as the YAML language server."""

from __future__ import annotations

from typing import Any

from compliance.kinds import KINDS
from compliance.schemas.plan import PLAN_SCHEMA, SUPPORTED_SCHEMA_VERSIONS


def json_schema() -> dict[Any, Any]:
    """The plan format, with its descriptions, ranges and patterns, as one JSON Schema document."""
    body = _to_json_schema({"type": "dict", "schema": PLAN_SCHEMA, "meta": {"doc": "A plan-compliance plan file."}})
    body["properties"]["schema_version"]["enum"] = list(SUPPORTED_SCHEMA_VERSIONS)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://plan-compliance.invalid/schema/plan-v1.json", "title": "plan-compliance plan file, version 1",
            **body}


def _to_json_schema(entry: dict[Any, Any]) -> dict[Any, Any]:
    kind = entry["type"]
    out: dict[str, Any] = {}
    if "meta" in entry:
        out["description"] = entry["meta"]["doc"]
    out.update(KINDS[kind].json)  # compliance/kinds.py
    if kind == "dict":
        fields = entry.get("schema", {})
        out.update(additionalProperties=False, properties={k: _to_json_schema(v) for k, v in fields.items()})
        required = [k for k, v in fields.items() if v.get("required")]
        if required:
            out["required"] = required
    elif kind == "list":
        out.update(items=_to_json_schema(entry["schema"]))
        if "minlength" in entry:
            out["minItems"] = entry["minlength"]
    if "allowed" in entry:
        out["enum"] = list(entry["allowed"])
    if "min" in entry:
        out["minimum"] = entry["min"]
    if "max" in entry:
        out["maximum"] = entry["max"]
    if "regex" in entry:
        out["pattern"] = f"^(?:{entry['regex']})$"
    return out
