"""A scenario: a hypothetical change in the law, written as status lines added to the packs' source records.

    scenario:
      id: dia-final-2027
      title: The 2026 DIA selection rule is final as proposed, effective 2027-07-01
      hypothetical: This has not happened. ...
      basis: What the sources record today, cited ...
    changes:
      - {source: dol-dia-proposal-2026, status: in_force, since: 2027-07-01, kind: regulation, note: ...}

Applied to a loaded ruleset, each change is appended to its source's history exactly as a pack maintainer would
add it to rules/sources.yaml (docs/rule-packs.md, "When the DOL finalises the 2026 proposal"), and each rule that
rests on a changed source and weighed all its sources then allowed is raised to what they allow now, as the
maintainer would raise it. The doctrine holds: a change names a loaded source, comes after everything the packs
record about it, and records only a kind and status that document can take (docs/impact.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from compliance.errors import InputError, Location, Problem
from compliance.loader import load_bytes, load_file
from compliance.model import (
    CHECKS_CEILING,
    PENDING,
    SOURCE_KINDS,
    STATUS_KINDS,
    Citation,
    Rule,
    RuleSet,
    Severity,
    Source,
    StatusChange,
)
from compliance.schemas.messages import problems
from compliance.schemas.validator import Validator

_TEXT = {"type": "string", "empty": False}
SCENARIO_SCHEMA: dict[str, Any] = {
    "scenario": {"type": "dict", "required": True, "schema": {
        "id": {"type": "string", "required": True, "regex": r"[a-z0-9][a-z0-9.-]{0,79}"},
        "title": {**_TEXT, "required": True},
        "hypothetical": {**_TEXT, "required": True},  # says plainly that it has not happened
        "basis": {**_TEXT, "required": True},  # what the sources record today, cited
    }},
    "changes": {"type": "list", "required": True, "minlength": 1, "schema": {
        "type": "dict", "schema": {
            "source": {"type": "string", "required": True, "empty": False},
            "status": {"type": "string", "required": True, "allowed": list(STATUS_KINDS)},
            "since": {"type": "date", "required": True},
            "kind": {"type": "string", "allowed": list(SOURCE_KINDS)},
            "by": {"type": "string", "empty": False},
            "note": _TEXT,
        }}},
}
SCENARIO_VALIDATOR = Validator(SCENARIO_SCHEMA)

# What a document may become: a proposal is finalised as a regulation, a bill is enacted as a statute. Every other
# kind keeps its kind (a decided case is still a case).
BECOMES: dict[str, str] = {"proposal": "regulation", "bill": "statute"}
# The binding status each kind takes: a case is precedent, an opinion or an order is issued, the rest in force.
BINDING_STATUS: dict[str, str] = {"case": "precedent", "advisory_opinion": "issued", "agency_order": "issued"}


@dataclass(frozen=True)
class Change:
    source: str
    change: StatusChange
    location: Location


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    hypothetical: str
    basis: str
    changes: tuple[Change, ...]
    file: str
    sha256: str
    text: bytes = field(default=b"", repr=False)  # the file's bytes: how a worker process gets the same scenario

    @property
    def effective(self) -> date:
        """The first day every change is in effect: what an impact run judges by default."""
        return max(c.change.since for c in self.changes)


def load_scenario(path: str | Path, text: bytes | None = None) -> Scenario:
    """Read and validate a scenario file (or its bytes, `text`, named `path`); a defect is a located InputError."""
    import hashlib

    doc = load_file(path) if text is None else load_bytes(text, str(path))
    if not isinstance(doc.data, dict):
        raise InputError.at(doc.file, 1, 1, "a scenario must be a YAML mapping with 'scenario' and 'changes'")
    if found := problems(doc, SCENARIO_VALIDATOR, doc.data):
        raise InputError(found)
    head = doc.data["scenario"]
    changes = tuple(Change(c["source"], StatusChange(c["status"], c["since"], c.get("by"), c.get("note"), c.get("kind")),
                           doc.locate(("changes", i)))
                    for i, c in enumerate(doc.data["changes"]))
    return Scenario(head["id"], head["title"].strip(), head["hypothetical"].strip(), head["basis"].strip(), changes, doc.file,
                    hashlib.sha256(doc.text).hexdigest(), doc.text)


def apply(ruleset: RuleSet, scenario: Scenario) -> RuleSet:
    """The ruleset as it would be under the scenario: its changes recorded, the rules resting on them re-weighed."""
    doc = load_file(scenario.file)  # to locate each problem on the field it concerns
    sources = dict(ruleset.sources)
    found: list[Problem] = []
    for i, change in enumerate(scenario.changes):
        source = sources.get(change.source)
        if source is None:
            found.append(Problem(doc.locate(("changes", i, "source")),
                                 f"changes[{i}].source: {change.source!r} is not a loaded source; the packs know "
                                 f"{_known(ruleset)}"))
            continue
        problem = _refused(ruleset, source, change.change, sources)
        if problem:
            field, message = problem
            found.append(Problem(doc.locate(("changes", i, field)), f"changes[{i}].{field}: {message}"))
            continue
        sources[source.id] = source._replace(history=source.history + (change.change,))
    if found:
        raise InputError(found)
    changed = {c.source for c in scenario.changes}
    rules = tuple(_reweighed(rule, sources) if any(s.id in changed for s in rule.basis)
                  or any(c.source.id in changed for c in rule.citations) else rule for rule in ruleset.rules)
    return RuleSet(packs=ruleset.packs, rules=rules, sources=sources, parameters=ruleset.parameters,
                   settings_file=ruleset.settings_file, federal_changes=ruleset.federal_changes)


def _known(ruleset: RuleSet) -> str:
    pending = sorted(s.id for s in ruleset.sources.values() if s.history and s.history[-1].kind == PENDING)
    return f"{len(ruleset.sources)} sources; those pending today: {', '.join(pending) or 'none'}"


def _refused(ruleset: RuleSet, source: Source, change: StatusChange, sources: dict[str, Source]
             ) -> tuple[str, str] | None:
    """(field, why) when the doctrine refuses this change to this source; None when it may be recorded."""
    last = source.history[-1]
    checked = [p.current_to for p in ruleset.packs if p.current_to is not None]
    if change.since <= last.since:
        return "since", (f"{change.since.isoformat()} is not after the last change the packs record for "
                         f"{source.id} ({last.describe()}); a scenario adds to the record, it does not rewrite it")
    if checked and change.since <= max(checked):
        return "since", (f"{change.since.isoformat()} is inside the period the packs were checked through "
                         f"({max(checked).isoformat()}); a hypothetical change must come after it")
    now = source.kind_on(last.since)
    if change.new_kind and change.new_kind != now and BECOMES.get(now) != change.new_kind:
        can = f"it can become a {BECOMES[now]}" if now in BECOMES else "it keeps its kind"
        return "kind", f"{source.id} is a {now}; it cannot become a {change.new_kind} ({can})"
    kind = change.new_kind or now
    if change.kind != PENDING and STATUS_KINDS[change.status] == "binding":
        if now in BECOMES and kind == now:
            return "status", (f"a {now} is not {change.status.replace('_', ' ')} as such; record what it becomes "
                              f"(kind: {BECOMES[now]})")
        wanted = BINDING_STATUS.get(kind, "in_force")
        if change.status != wanted:
            return "status", f"a {kind} in effect is {wanted.replace('_', ' ')}, not {change.status.replace('_', ' ')}"
    elif change.new_kind and change.new_kind != now:
        return "kind", f"only a change that puts {source.id} in effect records a new kind, not {change.status}"
    if change.by and change.by not in sources:
        return "by", f"{change.by!r} is not a loaded source"
    return None


def _reweighed(rule: Rule, sources: dict[str, Source]) -> Rule:
    """The rule with its sources as changed; a rule that weighed all its sources allowed weighs what they allow now
    (a `watch` rule on a proposal becomes a `warning` once the proposal is a regulation, if it checks a process)."""
    basis = tuple(sources[s.id] for s in rule.basis)
    severity = rule.severity
    if rule.severity == _allowed(rule, rule.basis):
        severity = _allowed(rule, basis)
    return rule._replace(basis=basis, severity=severity,
                   citations=tuple(Citation(sources[c.source.id], c.pinpoint) for c in rule.citations))


def _allowed(rule: Rule, basis: tuple[Source, ...]) -> Severity:
    return min(CHECKS_CEILING[rule.checks], max(s.ceiling() for s in basis))

