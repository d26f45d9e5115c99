"""Rule packs: find them, validate them, layer them, and compile their rules once per run.

A pack is YAML: metadata, sources (with status over time), tunable parameters and rules. A sponsor's policy
pack `extends` the federal packs and may override parameters, disable a rule with a written reason, and add
rules, the way an investment policy statement tailors the law to one plan.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any, Sequence

from compliance import packcache
from compliance.conditions import Context, always, compile_condition, needed_fields
from compliance.errors import InputError, Location, Problem
from compliance.fastcheck import Format, leaf_errors
from compliance.loader import Document, format_path, load_bytes, read_file
from compliance.model import (
    CHECKS,
    CHECKS_CEILING,
    PACK_AUTHORITIES,
    SEVERITIES,
    SOURCE_KINDS,
    STATUS_KINDS,
    Citation,
    PackInfo,
    Rule,
    RuleSet,
    RuleTest,
    Source,
    StatusChange,
    severity_rank,
)
from compliance.schema import field_catalog
from compliance.text import placeholders

BUNDLED_RULES = Path(__file__).parent / "rules"
_ID = r"[a-z0-9][a-z0-9.\-]{1,80}"

_TEXT = {"type": "string", "empty": False}
PACK_SCHEMA = {
    "pack": {"type": "dict", "required": True, "schema": {
        "id": {"type": "string", "required": True, "regex": _ID},
        "title": {**_TEXT, "required": True},
        "version": {**_TEXT, "required": True},
        "jurisdiction": {**_TEXT, "required": True},
        "description": {"type": "string"},
        "extends": {"type": "list", "schema": {"type": "string", "regex": _ID}},
        "test_as_of": {"type": "date"},
        "authority": {"type": "string", "allowed": list(PACK_AUTHORITIES)},
        "current_to": {"type": "date"},
    }},
    "parameters": {"type": "dict", "keysrules": {"type": "string", "regex": r"[a-z][a-z0-9_]*"},
                   "valuesrules": {"type": "dict", "schema": {
                       "value": {"required": True, "nullable": False},
                       "doc": {**_TEXT, "required": True}}}},
    "overrides": {"type": "dict", "schema": {
        "parameters": {"type": "dict"},
        "disable": {"type": "list", "schema": {"type": "dict", "schema": {
            "rule": {**_TEXT, "required": True},
            "reason": {**_TEXT, "required": True}}}},
    }},
    "sources": {"type": "list", "schema": {"type": "dict", "schema": {
        "id": {"type": "string", "required": True, "regex": _ID},
        "title": {**_TEXT, "required": True},
        "issuer": {**_TEXT, "required": True},
        "document": {**_TEXT, "required": True},
        "date": {"type": "date", "required": True},
        "kind": {"type": "string", "required": True, "allowed": list(SOURCE_KINDS)},
        "url": {"type": "string", "regex": r"https://\S+"},
        "url_note": {"type": "string"},
        "summary": {"type": "string"},
        "status": {"type": "list", "required": True, "minlength": 1, "schema": {"type": "dict", "schema": {
            "status": {"type": "string", "required": True, "allowed": list(STATUS_KINDS)},
            "since": {"type": "date", "required": True},
            "by": {"type": "string"},
            "kind": {"type": "string", "allowed": list(SOURCE_KINDS)},
            "note": {"type": "string"}}}},
    }}},
    "rules": {"type": "list", "schema": {"type": "dict", "schema": {
        "id": {"type": "string", "required": True, "regex": _ID},
        "title": {**_TEXT, "required": True},
        "headline": {**_TEXT},
        "description": {"type": "string"},
        "severity": {"type": "string", "required": True, "allowed": list(SEVERITIES)},
        "checks": {"type": "string", "allowed": list(CHECKS)},
        "relies_on": {**_TEXT},
        "scope": {"type": "string", "required": True, "allowed": ["plan", "fund", "menu"]},
        "select": {"type": "dict"},
        "when": {"type": "dict"},
        "require": {"type": "dict", "required": True},
        "at": {"type": "string"},
        "message": {**_TEXT, "required": True},
        "remediation": {**_TEXT, "required": True},
        "citations": {"type": "list", "required": True, "minlength": 1, "schema": {"type": "dict", "schema": {
            "source": {**_TEXT, "required": True},
            "pinpoint": {**_TEXT, "required": True}}}},
        "basis": {"type": "list", "schema": {"type": "string"}},
        "effective": {"type": "dict", "schema": {"from": {"type": "date"}, "until": {"type": "date"}}},
        "tests": {"type": "list", "schema": {"type": "dict", "schema": {
            "name": {**_TEXT, "required": True},
            "expect": {"type": "string", "required": True,
                       "allowed": ["fail", "pass", "watch", "not_applicable"]},
            "as_of": {"type": "date"},
            "plan": {"type": "dict"},
            "funds": {"type": "list", "schema": {"type": "dict"}}}}},
    }}},
}
PACK_FORMAT = Format(PACK_SCHEMA)


def discover(references: Sequence[str | Path]) -> list[Path]:
    """Pack files named by paths (files, or directories holding *.yaml) in a stable order; 'bundled' = ours."""
    files: list[Path] = []
    for ref in references:
        path = BUNDLED_RULES if str(ref) == "bundled" else Path(ref)
        if path.is_dir():
            inside = sorted(p for p in path.glob("*.yaml") if p.is_file())
            if not inside:  # loading no rules would pass every plan: never silently
                raise InputError.at(str(ref), 0, 0, "no rule packs (*.yaml) in this folder")
            files += inside
        elif path.is_file():
            files.append(path)
        else:
            raise InputError.at(str(ref), 0, 0, "no such rule pack file or directory")
    unique: dict[Path, None] = {}
    for f in files:
        unique.setdefault(f.resolve(), None)
    return list(unique)


def load_ruleset(references: Sequence[str | Path]) -> RuleSet:
    """Load, validate, layer and compile every pack; any defect is an InputError naming file and line."""
    docs = [_load_pack_doc(path) for path in discover(references)]
    by_id: dict[str, Document] = {}
    for doc in docs:
        pack_id = doc.data["pack"]["id"]
        if pack_id in by_id:
            raise InputError(Problem(doc.locate(("pack", "id")),
                                     f"pack.id: {pack_id!r} is also the id of {by_id[pack_id].file}"))
        by_id[pack_id] = doc
    ordered = _layer_order(by_id)
    sources = _collect_sources(ordered)
    parameters, origins = _collect_parameters(ordered, by_id)
    disabled = _collect_disabled(ordered)
    catalog = field_catalog()
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for doc in ordered:
        lineage = _lineage(doc, by_id)
        visible = {sid: src for sid, (src, owner) in sources.items() if owner in lineage}
        params = {name: value for name, (value, owner) in parameters.items() if owner in lineage}
        for i, raw in enumerate(doc.data.get("rules") or []):
            if raw["id"] in seen:
                raise InputError(Problem(doc.locate(("rules", i, "id")),
                                         f"rules[{i}].id: {raw['id']!r} is already defined in {seen[raw['id']]}"))
            seen[raw["id"]] = doc.file
            ctx = Context(doc, catalog, params, raw["scope"] == "fund", parameter_origins=origins)
            rules.append(_compile_rule(ctx, i, raw, visible, disabled.get(raw["id"])))
    for rule_id, (_, location) in disabled.items():
        if rule_id not in seen:
            raise InputError(Problem(location, f"disables {rule_id!r}, but no loaded pack defines that rule"))
    packs = tuple(PackInfo(d.data["pack"]["id"], d.data["pack"]["title"], str(d.data["pack"]["version"]),
                           d.data["pack"]["jurisdiction"], d.file, hashlib.sha256(d.text).hexdigest(),
                           tuple(d.data["pack"].get("extends") or ()), d.data["pack"].get("authority", "federal"),
                           d.data["pack"].get("current_to")) for d in ordered)
    return RuleSet(packs=packs, rules=tuple(rules), sources={s.id: s for s, _ in sources.values()},
                   parameters={name: value for name, (value, _) in parameters.items()})


def _load_pack_doc(path: Path) -> Document:
    """A pack file, loaded and validated (or taken from the cache when its bytes were validated before)."""
    name = _display(path)
    raw = read_file(path, name)
    doc = packcache.get(raw, name)
    if doc is not None and PACK_FORMAT.accepts(doc.data):
        return doc
    doc = load_bytes(raw, name)
    _check_format(doc)
    packcache.put(doc)
    return doc


def _check_format(doc: Document) -> None:
    if not isinstance(doc.data, dict):
        raise InputError.at(doc.file, 1, 1, "a rule pack must be a YAML mapping with a 'pack' section")
    if (validator := PACK_FORMAT.rejects(doc.data)) is not None:
        problems = []
        for err in leaf_errors(validator._errors):
            where = format_path(tuple(err.document_path))
            what = {"required": "required field is missing", "allowed": f"{err.value!r} is not one of {err.constraint}",
                    "regex": f"{err.value!r} does not match {err.constraint}", "type": f"must be of type {err.constraint}"}
            message = what.get(err.rule, "unknown field" if err.rule is None else f"failed the {err.rule} check")
            path = tuple(err.document_path)
            problems.append(Problem(doc.locate(path[:-1] if err.rule == "required" else path, key=err.rule is None),
                                    f"{where}: {message}"))
        raise InputError(sorted(problems, key=lambda p: (p.location.line, p.location.column)))


def _display(path: Path) -> str:
    """Paths in messages: relative to the working directory when possible, 'rules/x.yaml' for bundled packs."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        try:
            return "rules/" + str(resolved.relative_to(BUNDLED_RULES.resolve()))
        except ValueError:
            return str(path)


def _layer_order(by_id: dict[str, Document]) -> list[Document]:
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


def _collect_sources(ordered: list[Document]) -> dict[str, tuple[Source, str]]:
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


def _lineage(doc: Document, by_id: dict[str, Document]) -> set[str]:
    """The pack's own id and the ids of every pack it extends, directly or not: what it may see."""
    packs, stack = set(), [doc.data["pack"]["id"]]
    while stack:
        pack_id = stack.pop()
        if pack_id not in packs:
            packs.add(pack_id)
            stack += by_id[pack_id].data["pack"].get("extends") or []
    return packs


def _collect_parameters(ordered: list[Document], by_id: dict[str, Document]
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
        visible = _lineage(doc, by_id)
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


def _collect_disabled(ordered: list[Document]) -> dict[str, tuple[str, Location]]:
    disabled: dict[str, tuple[str, Location]] = {}
    for doc in ordered:
        pack_id = doc.data["pack"]["id"]
        for i, item in enumerate((doc.data.get("overrides") or {}).get("disable") or []):
            disabled[item["rule"]] = (f"disabled by pack {pack_id}: {item['reason']}",
                                      doc.locate(("overrides", "disable", i, "rule")))
    return disabled


def _compile_rule(ctx: Context, i: int, raw: dict, sources: dict[str, Source],
                  disabled: tuple[str, Location] | None) -> Rule:
    doc = ctx.doc
    at = ("rules", i)
    if "select" in raw and not ctx.fund_scope:
        raise ctx.error(at + ("select",), "select chooses funds, so it needs scope: fund")
    citations = []
    for j, c in enumerate(raw["citations"]):
        if c["source"] not in sources:
            raise ctx.error(at + ("citations", j, "source"),
                            f"cites {c['source']!r}, which is not a source of this pack or of a pack it extends")
        citations.append(Citation(sources[c["source"]], c["pinpoint"]))
    basis_ids = raw.get("basis") or list(dict.fromkeys(c["source"] for c in raw["citations"]))
    for j, sid in enumerate(basis_ids):
        if sid not in sources:
            raise ctx.error(at + ("basis", j), f"{sid!r} is not a source of this pack or of a pack it extends")
    window = raw.get("effective") or {}
    if window.get("from") and window.get("until") and window["until"] <= window["from"]:
        raise ctx.error(at + ("effective",), "effective.until must be after effective.from")
    basis = tuple(sources[s] for s in basis_ids)
    checks = _check_doctrine(ctx, at, raw, tuple(c.source for c in citations), basis)
    anchor = raw.get("at")
    if anchor is not None:
        compile_condition({"field": anchor, "exists": True}, at + ("at",), ctx)
    _check_message_fields(raw["message"], at + ("message",), ctx)
    test_as_of = doc.data["pack"].get("test_as_of") or date.today()
    tests = tuple(RuleTest(t["name"], t["expect"], t.get("as_of") or test_as_of, t.get("plan") or {},
                           tuple(t.get("funds") or ()), doc.locate(at + ("tests", k)))
                  for k, t in enumerate(raw.get("tests") or []))
    return Rule(
        id=raw["id"], title=raw["title"], severity=raw["severity"], scope=raw["scope"],
        message=raw["message"].strip(), remediation=raw["remediation"].strip(), citations=tuple(citations),
        basis=basis, effective_from=window.get("from"),
        effective_until=window.get("until"), pack_id=doc.data["pack"]["id"], location=doc.locate(at),
        select=compile_condition(raw["select"], at + ("select",), ctx) if "select" in raw else always,
        when=compile_condition(raw["when"], at + ("when",), ctx) if "when" in raw else always,
        require=compile_condition(raw["require"], at + ("require",), ctx),
        anchor=tuple(anchor.split(".")) if anchor else None,
        description=(raw.get("description") or "").strip(), tests=tests,
        disabled_reason=disabled[0] if disabled else None,
        headline=(raw.get("headline") or "").strip(), checks=checks, relies_on=(raw.get("relies_on") or "").strip(),
        needs=needed_fields(raw["require"]),
    )


def _check_doctrine(ctx: Context, at: tuple, raw: dict, cited: tuple[Source, ...], basis: tuple[Source, ...]) -> str:
    """Severity follows the weight of the source: refuse a rule heavier than what it checks and rests on allow.

    A federal pack's rule declares what it checks; its severity may not exceed that declaration's ceiling
    (an express condition: error; a prudence process: warning; a practice: info), nor the strongest ceiling
    of the documents it rests on (a statute or regulation: error; guidance or a decided case: warning; a
    proposal, a bill, an executive order or a pending case: watch). A sponsor's policy pack may be stricter,
    but then its rules rest on the sponsor's own policy, never on a statute. Returns what the rule checks.
    """
    authority = ctx.doc.data["pack"].get("authority", "federal")
    severity = raw["severity"]
    if authority == "sponsor_policy":
        checks = raw.get("checks", "sponsor_policy")
        others = [s.id for s in cited if s.kind != "policy"]
        if checks == "sponsor_policy" and others:
            raise ctx.error(at + ("citations",), f"a sponsor-policy rule cites the sponsor's own policy as its basis, "
                                                 f"never {', '.join(others)}; cite a source of kind policy (the "
                                                 f"investment policy statement), or declare what the rule checks "
                                                 f"(checks:) and keep within the federal ceilings")
        if checks == "sponsor_policy":
            return checks
    else:
        if "checks" not in raw:
            raise ctx.error(at, "a federal rule declares what it checks: checks: express_condition, "
                                "prudence_process or practice")
        checks = raw["checks"]
        if checks == "sponsor_policy":
            raise ctx.error(at + ("checks",), "sponsor_policy belongs in a pack with authority: sponsor_policy")
        if not raw.get("headline"):
            raise ctx.error(at, "a federal rule needs a headline: the problem in a few words")
        if any(s.kind == "policy" for s in basis):
            raise ctx.error(at + ("citations",), "a federal rule cannot rest on a sponsor's policy")
    ceiling = CHECKS_CEILING[checks]
    if severity_rank(severity) > severity_rank(ceiling):
        raise ctx.error(at + ("severity",), f"{severity} is above the ceiling for a rule that checks a "
                                            f"{checks.replace('_', ' ')} ({ceiling}); see 'Severity follows the "
                                            f"weight of the source' in docs/rule-packs.md")
    strongest = max((s.ceiling() for s in basis), key=severity_rank)
    if severity_rank(severity) > severity_rank(strongest):
        kinds = ", ".join(f"{s.id} ({s.kind if s.ceiling() != 'watch' or s.kind != 'case' else 'pending case'})"
                          for s in basis)
        raise ctx.error(at + ("severity",), f"{severity} is above what its sources can support ({strongest}): "
                                            f"it rests on {kinds}")
    if severity == "error" and not raw.get("relies_on"):
        raise ctx.error(at, "an error-level rule states what reliance gates it (relies_on: e.g. 'QDIA relief "
                            "claimed'): an express condition is an error only where the plan relies on it")
    return checks


def _check_message_fields(message: str, at: tuple, ctx: Context) -> None:
    for name in placeholders(message):
        if not name.startswith("param."):
            compile_condition({"field": name, "exists": True}, at, ctx)
        elif name[len("param."):] not in ctx.parameters:
            raise ctx.error(at, f"message names unknown parameter {name!r}")
