"""Layering packs: a pack comes after the packs it `extends`, and its overrides and disables apply on top.

Sources and parameters are collected once for the whole run, each with the pack that declared it; a rule sees
only what its own pack and the packs that pack extends declare (its lineage).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from compliance.errors import InputError, Location, Problem, format_path
from compliance.loader import Document
from compliance.model import Source, StatusChange


def layer_order(by_id: dict[str, Document]) -> list[Document]:
    """Packs ordered so every pack comes after the packs it extends; a cycle or a missing base is an error."""
    ordered: list[Document] = []
    state: dict[str, str] = {}

    def visit(pack_id: str, chain: list[str]) -> None:
        if state.get(pack_id) == "done":
            return
        if state.get(pack_id) == "visiting":
            cycle = " -> ".join(chain[chain.index(pack_id):] + [pack_id])
            doc = by_id[pack_id]
            raise InputError(Problem(doc.locate(("pack", "extends")), f"pack.extends: layering cycle {cycle}"))
        state[pack_id] = "visiting"
        doc = by_id[pack_id]
        for i, base in enumerate(doc.data["pack"].get("extends") or []):
            if base not in by_id:
                raise InputError(Problem(doc.locate(("pack", "extends", i)),
                                         f"pack.extends[{i}]: {base!r} is not loaded; add its file or directory "
                                         f"to the packs (loaded: {', '.join(sorted(by_id))})"))
            visit(base, chain + [pack_id])
        state[pack_id] = "done"
        ordered.append(doc)

    for pack_id in sorted(by_id):
        visit(pack_id, [])
    return ordered


def collect_sources(ordered: list[Document]) -> dict[str, tuple[Source, str]]:
    sources: dict[str, tuple[Source, str]] = {}
    for doc in ordered:
        for i, raw in enumerate(doc.data.get("sources") or []):
            at = ("sources", i)
            if raw["id"] in sources:
                raise InputError(Problem(doc.locate(at + ("id",)),
                                         f"sources[{i}].id: {raw['id']!r} is already defined by pack {sources[raw['id']][1]}"))
            history = tuple(StatusChange(h["status"], h["since"], h.get("by"), h.get("note"), h.get("kind"))
                            for h in raw["status"])
            if raw["kind"] != "policy" and not raw.get("url"):
                raise InputError(Problem(doc.locate(at + ("id",)), f"sources[{i}].url: required for a {raw['kind']} "
                                                                   f"(only a sponsor's own policy may have none)"))
            if list(history) != sorted(history, key=lambda h: h.since):
                raise InputError(Problem(doc.locate(at + ("status",)), f"sources[{i}].status: list the changes oldest first"))
            sources[raw["id"]] = (Source(raw["id"], raw["title"], raw["issuer"], raw["document"], raw["date"],
                                         raw.get("url") or "", history, raw.get("summary", ""), raw["kind"]),
                                  doc.data["pack"]["id"])
    for doc in ordered:
        for i, raw in enumerate(doc.data.get("sources") or []):
            for j, h in enumerate(raw["status"]):
                if h.get("by") and h["by"] not in sources:
                    raise InputError(Problem(doc.locate(("sources", i, "status", j, "by")),
                                             f"sources[{i}].status[{j}].by: {h['by']!r} is not a loaded source"))
    return sources


def lineage(doc: Document, by_id: dict[str, Document]) -> set[str]:
    """The pack's own id and the ids of every pack it extends, directly or not: what it may see."""
    packs, stack = set(), [doc.data["pack"]["id"]]
    while stack:
        pack_id = stack.pop()
        if pack_id not in packs:
            packs.add(pack_id)
            stack += by_id[pack_id].data["pack"].get("extends") or []
    return packs


def collect_parameters(ordered: list[Document], by_id: dict[str, Document]
                        ) -> tuple[dict[str, tuple[Any, str]], dict[str, tuple[Location, str]]]:
    """Parameter values after every layer's overrides, each with the pack that declared it; and where each value
    (or table entry, as "name.entry") was last set, so a value unfit for a rule is reported where it was written."""
    parameters: dict[str, tuple[Any, str]] = {}
    origins: dict[str, tuple[Location, str]] = {}

    def set_at(doc: Document, name: str, at: tuple, value: Any) -> None:
        origins[name] = (doc.locate(at), format_path(at))
        for entry in value if isinstance(value, dict) else ():
            origins[f"{name}.{entry}"] = (doc.locate(at + (entry,)), format_path(at + (entry,)))

    for doc in ordered:
        pack_id = doc.data["pack"]["id"]
        for name, spec in (doc.data.get("parameters") or {}).items():
            if name in parameters:
                raise InputError(Problem(doc.locate(("parameters", name), key=True),
                                         f"parameters.{name}: already declared by pack {parameters[name][1]}"))
            parameters[name] = (spec["value"], pack_id)
            set_at(doc, name, ("parameters", name, "value"), spec["value"])
        visible = lineage(doc, by_id)
        for name, value in ((doc.data.get("overrides") or {}).get("parameters") or {}).items():
            if name not in parameters or parameters[name][1] not in visible:
                raise InputError(Problem(doc.locate(("overrides", "parameters", name), key=True),
                                         f"overrides.parameters.{name}: no pack this one extends declares it"))
            base, owner = parameters[name]
            _check_override(doc, ("overrides", "parameters", name), base, value)
            parameters[name] = ({**base, **value} if isinstance(base, dict) else value, owner)
            set_at(doc, name, ("overrides", "parameters", name), value)
    return parameters, origins


def _kind(value: Any) -> str:
    """A parameter value's kind, as far as overriding is concerned (1 and 0.5 are both numbers)."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, dict):
        return "a table"
    return "a list" if isinstance(value, list) else type(value).__name__


def _check_override(doc: Document, at: tuple, base: Any, value: Any) -> None:
    """An override keeps the original's kind: a table's entries, or a list's items, keep the kinds they had."""
    where = format_path(at)
    if _kind(base) != _kind(value):
        raise InputError(Problem(doc.locate(at), f"{where}: must be {_kind(base)}, like the original {base!r} "
                                                 f"(got {value!r})"))
    if isinstance(base, (dict, list)):
        old_items = base.values() if isinstance(base, dict) else base
        new_items = value.items() if isinstance(value, dict) else enumerate(value)
        kinds = {_kind(item) for item in old_items}
        for key, item in new_items:
            if kinds and _kind(item) not in kinds:
                allowed = " or ".join(sorted(kinds))
                raise InputError(Problem(doc.locate(at + (key,)), f"{format_path(at + (key,))}: must be {allowed}, "
                                                                  f"like the original's entries (got {item!r})"))


def collect_disabled(ordered: list[Document]) -> dict[str, tuple[str, Location]]:
    disabled: dict[str, tuple[str, Location]] = {}
    for doc in ordered:
        pack_id = doc.data["pack"]["id"]
        for i, item in enumerate((doc.data.get("overrides") or {}).get("disable") or []):
            disabled[item["rule"]] = (f"disabled by pack {pack_id}: {item['reason']}",
                                      doc.locate(("overrides", "disable", i, "rule")))
    return disabled
