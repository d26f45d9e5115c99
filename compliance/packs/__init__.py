"""Rule packs: find them, validate them, layer them, and compile their rules once per run.

A pack is YAML: metadata, sources (with status over time), tunable parameters and rules. A sponsor's policy
pack `extends` the federal packs and may override parameters, disable a rule with a written reason, and add
rules, the way an investment policy statement tailors the law to one plan. `discovery` finds and reads the
files, `layering` orders them and merges what they declare, `compile` turns each rule into predicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from compliance.conditions import Context
from compliance.errors import InputError, Problem
from compliance.loader import Document
from compliance.model import PackInfo, Rule, RuleSet
from compliance.packs.compile import compile_rule
from compliance.packs.discovery import BUNDLED_RULES, discover
from compliance.packs.layering import (
    acknowledged,
    collect_disabled,
    collect_parameters,
    collect_sources,
    layer_order,
    lineage,
    refuse_unused,
)
from compliance.schemas.plan import field_catalog

__all__ = ["BUNDLED_RULES", "compile_packs", "discover"]


def compile_packs(docs: Sequence[Document]) -> RuleSet:
    """Layer and compile validated packs (`discovery.load_pack_bytes`), in the order given; any defect is an
    InputError naming file and line. `compliance.rulesets` calls it once per process and recipe."""
    by_id: dict[str, Document] = {}
    for doc in docs:
        pack_id = doc.data["pack"]["id"]
        if pack_id in by_id:
            raise InputError(Problem(doc.locate(("pack", "id")),
                                     f"pack.id: {pack_id!r} is also the id of {by_id[pack_id].file}"))
        by_id[pack_id] = doc
    ordered = layer_order(by_id)
    sources = collect_sources(ordered)
    acks, used = acknowledged(ordered), set[tuple[str, str, str]]()
    parameters, origins, changed = collect_parameters(ordered, by_id, acks, used)
    disabled, switched_off = collect_disabled(ordered, by_id, acks, used)
    refuse_unused(ordered, acks, used)
    catalog = field_catalog()
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for doc in ordered:
        visible_packs = lineage(doc, by_id)
        visible = {sid: src for sid, (src, owner) in sources.items() if owner in visible_packs}
        params = {name: value for name, (value, owner) in parameters.items() if owner in visible_packs}
        for i, raw in enumerate(doc.data.get("rules") or []):
            if raw["id"] in seen:
                raise InputError(Problem(doc.locate(("rules", i, "id")),
                                         f"rules[{i}].id: {raw['id']!r} is already defined in {seen[raw['id']]}"))
            seen[raw["id"]] = doc.file
            ctx = Context(doc, catalog, params, raw["scope"] == "fund", parameter_origins=origins)
            rules.append(compile_rule(ctx, i, raw, visible, disabled.get(raw["id"])))
    packs = tuple(PackInfo(d.data["pack"]["id"], d.data["pack"]["title"], str(d.data["pack"]["version"]),
                           d.data["pack"]["jurisdiction"], d.file, hashlib.sha256(d.text).hexdigest(),
                           tuple(d.data["pack"].get("extends") or ()), d.data["pack"].get("authority", "federal"),
                           d.data["pack"].get("current_to")) for d in ordered)
    return RuleSet(packs=packs, rules=tuple(rules), sources={s.id: s for s, _ in sources.values()},
                   parameters={name: value for name, (value, _) in parameters.items()},
                   federal_changes=(*switched_off, *changed))
