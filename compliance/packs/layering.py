"""Layering packs: a pack comes after the packs it `extends`, and its overrides and disables apply on top.

Sources and parameters are collected once for the whole run, each with the pack that declared it; a rule sees
only what its own pack and the packs that pack extends declare (its lineage), and a pack may override or switch
off only what its lineage declares. Federal rules move only one way without review: a federal parameter may be
tightened in the direction its declaration names (`tighten: lower` or `higher`); switching a federal rule off, or
any other change to a federal parameter, must be listed under `overrides_federal:` with a reason. Every change to
a federal rule is recorded, so every output can say which pack made it.
"""

from __future__ import annotations

from typing import Any

from compliance.errors import InputError, Location, Problem, format_path
from compliance.kinds import KINDS, kind_of
from compliance.loader import Document
from compliance.model import Source, StatusChange
from compliance.text import show

Acknowledged = dict[tuple[str, str, str], int]  # (pack, "rule" or "parameter", name) -> index in overrides_federal


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
            history = tuple(StatusChange(h["status"], h["since"], h.get("by"), h.get("note"), h.get("kind"),
                                         h.get("precision", "day"))
                            for h in raw["status"])
            if raw["kind"] != "policy" and not raw.get("url"):
                raise InputError(Problem(doc.locate(at + ("id",)), f"sources[{i}].url: required for a {raw['kind']} "
                                                                   f"(only a sponsor's own policy may have none)"))
            if list(history) != sorted(history, key=lambda h: h.since):
                raise InputError(Problem(doc.locate(at + ("status",)), f"sources[{i}].status: list the changes oldest first"))
            sources[raw["id"]] = (Source(raw["id"], raw["title"], raw["issuer"], raw["document"], raw["date"],
                                         raw.get("url") or "", history, raw.get("summary", ""), raw["kind"],
                                         raw.get("date_precision", "day")),
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


def acknowledged(ordered: list[Document]) -> Acknowledged:
    """What each pack lists under `overrides_federal:`, each entry naming one rule or one parameter."""
    found: Acknowledged = {}
    for doc in ordered:
        for i, item in enumerate(doc.data.get("overrides_federal") or []):
            kinds = [kind for kind in ("rule", "parameter") if kind in item]
            if len(kinds) != 1:
                raise InputError(Problem(doc.locate(("overrides_federal", i)), f"overrides_federal[{i}]: name one "
                                         f"rule or one parameter (rule: ID or parameter: NAME), with its reason"))
            found[(doc.data["pack"]["id"], kinds[0], item[kinds[0]])] = i
    return found


def refuse_unused(ordered: list[Document], acks: Acknowledged, used: set[tuple[str, str, str]]) -> None:
    """An `overrides_federal` entry that matches nothing the pack does would mislead a reviewer: refuse it."""
    by_id = {doc.data["pack"]["id"]: doc for doc in ordered}
    for (pack_id, kind, name), i in acks.items():
        if (pack_id, kind, name) not in used:
            what = "switches off" if kind == "rule" else "changes"
            raise InputError(Problem(by_id[pack_id].locate(("overrides_federal", i, kind)),
                                     f"overrides_federal[{i}].{kind}: this pack neither {what} federal {kind} "
                                     f"{name!r}; remove the entry"))


def _federal(doc: Document) -> bool:
    authority: str = doc.data["pack"].get("authority", "federal")
    return authority == "federal"


def _users(ordered: list[Document], name: str) -> list[str]:
    """The rules that use a parameter (in a condition or a message), so a change to it names what it changes."""
    def uses(node: Any) -> bool:
        if isinstance(node, dict):
            return node.get("param") == name or any(uses(v) for v in node.values())
        return any(uses(v) for v in node) if isinstance(node, list) else False

    return [raw["id"] for doc in ordered for raw in doc.data.get("rules") or []
            if uses([raw.get(k) for k in ("select", "when", "require")]) or f"{{param.{name}}}" in raw["message"]]


def _tightens(base: Any, value: Any, direction: str | None) -> bool:
    """Whether `value` is at least as strict as `base` in the declared direction (a table entry by entry; an entry
    the base lacks against its `default`). Without a direction, or for text, dates and lists, only no change is."""
    if isinstance(base, dict) and isinstance(value, dict):
        return all(_tightens(base.get(key, base.get("default")), entry, direction) for key, entry in value.items())
    if direction is None or _kind(base) != "a number" or _kind(value) != "a number":
        return bool(base == value)
    return bool(value <= base if direction == "lower" else value >= base)


def collect_parameters(ordered: list[Document], by_id: dict[str, Document], acks: Acknowledged,
                       used: set[tuple[str, str, str]]
                       ) -> tuple[dict[str, tuple[Any, str]], dict[str, tuple[Location, str]], list[Problem]]:
    """Parameter values after every layer's overrides, each with the pack that declared it; where each value
    (or table entry, as "name.entry") was last set, so a value unfit for a rule is reported where it was written;
    and each change to a federal parameter, refused when it loosens one and the pack does not say so.

    An override is an RFC 7396 merge patch one level deep: a table's override replaces the entries it names and
    keeps the others, and any other value is replaced whole. (A null entry, which RFC 7396 reads as "delete",
    is refused by `_check_override`: an entry keeps its kind.)"""
    parameters: dict[str, tuple[Any, str]] = {}
    changes: list[Problem] = []
    origins: dict[str, tuple[Location, str]] = {}

    def set_at(doc: Document, name: str, at: tuple[Any, ...], value: Any) -> None:
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
            at = ("overrides", "parameters", name)
            _check_override(doc, at, base, value)
            if _federal(by_id[owner]) and owner != pack_id:
                changes += _federal_parameter(doc, at, by_id[owner], base, value, acks, used, ordered)
            parameters[name] = ({**base, **value} if isinstance(base, dict) else value, owner)
            set_at(doc, name, at, value)
    return parameters, origins, changes


def _federal_parameter(doc: Document, at: tuple[Any, ...], owner: Document, base: Any, value: Any, acks: Acknowledged,
                       used: set[tuple[str, str, str]], ordered: list[Document]) -> list[Problem]:
    """A federal parameter's override: tightening is recorded; anything else needs an `overrides_federal` entry."""
    pack_id, name, owner_id = doc.data["pack"]["id"], at[-1], owner.data["pack"]["id"]
    direction = owner.data["parameters"][name].get("tighten")
    if _tightens(base, value, direction) and _tightens(value, base, direction):
        return []  # the same value: nothing changes
    rules = ", ".join(_users(ordered, name)) or "no rule"
    before = {key: base.get(key, base.get("default")) for key in value} if isinstance(base, dict) else base
    change = f"federal parameter {name} of pack {owner_id} from {show(before)} to {show(value)}, used by {rules}"
    key = (pack_id, "parameter", name)
    tightens = _tightens(base, value, direction)
    if tightens and key not in acks:
        return [Problem(doc.locate(at), f"pack {pack_id} tightens {change}")]
    if key not in acks:
        rule = (f"{direction} is stricter" if direction else
                "its declaration names no direction to tighten in (tighten: lower or higher), so any change loosens it")
        raise InputError(Problem(doc.locate(at), f"{format_path(at)}: loosens {change} ({rule}); a pack may do that "
                                                 f"only when it says so under overrides_federal: "
                                                 f"[{{parameter: {name}, reason: ...}}]"))
    used.add(key)
    reason = doc.data["overrides_federal"][acks[key]]["reason"]
    return [Problem(doc.locate(("overrides_federal", acks[key])), f"pack {pack_id} {'tightens' if tightens else 'changes'}"
                                                                  f" {change}: {' '.join(reason.split())}")]


def _kind(value: Any) -> str:
    """A parameter value's kind in words, as far as overriding is concerned (1 and 0.5 are both numbers; a
    parameter's mapping is a table)."""
    name = kind_of(value)
    if name is None:
        return type(value).__name__
    return "a table" if name == "dict" else KINDS[name].word


def _check_override(doc: Document, at: tuple[Any, ...], base: Any, value: Any) -> None:
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


def collect_disabled(ordered: list[Document], by_id: dict[str, Document], acks: Acknowledged,
                     used: set[tuple[str, str, str]]) -> tuple[dict[str, str], list[Problem]]:
    """The rules packs switch off, each with its reason; and each federal rule switched off. A pack may switch off
    only its own rules and those of packs it extends, and a federal rule only when it says so under
    overrides_federal."""
    owners = {raw["id"]: doc.data["pack"]["id"] for doc in ordered for raw in doc.data.get("rules") or []}
    disabled: dict[str, str] = {}
    changes: list[Problem] = []
    for doc in ordered:
        pack_id = doc.data["pack"]["id"]
        for i, item in enumerate((doc.data.get("overrides") or {}).get("disable") or []):
            rule_id, at = item["rule"], ("overrides", "disable", i, "rule")
            owner = owners.get(rule_id)
            if owner is None:
                raise InputError(Problem(doc.locate(at), f"disables {rule_id!r}, but no loaded pack defines that rule"))
            if owner not in lineage(doc, by_id):
                raise InputError(Problem(doc.locate(at), f"{format_path(at)}: {rule_id} belongs to pack {owner}, "
                                                         f"which this pack does not extend; only a pack that extends "
                                                         f"{owner} may switch its rules off"))
            if _federal(by_id[owner]) and owner != pack_id:
                key = (pack_id, "rule", rule_id)
                if key not in acks:
                    raise InputError(Problem(doc.locate(at), f"{format_path(at)}: switches off federal rule {rule_id} "
                                                             f"(pack {owner}); a pack may do that only when it says so "
                                                             f"under overrides_federal: [{{rule: {rule_id}, reason: "
                                                             f"...}}]"))
                used.add(key)
                changes.append(Problem(doc.locate(("overrides_federal", acks[key])),
                                       f"pack {pack_id} switches off federal rule {rule_id} of pack {owner}: "
                                       f"{' '.join(doc.data['overrides_federal'][acks[key]]['reason'].split())}"))
            disabled[rule_id] = f"disabled by pack {pack_id}: {item['reason']}"
    return disabled, changes
