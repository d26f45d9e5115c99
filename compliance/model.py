"""The domain model: sources and their status over time, rules, findings, reports.

Frozen dataclasses only; behaviour that needs a date (what was in force when) lives beside the data it reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from typing import Any, Literal, NamedTuple, get_args

from compliance.errors import Location, Problem


class Severity(StrEnum):
    """How much a finding weighs, weakest first; members compare by that order, never alphabetically.

    A str whose value is the lowercase word, so every output prints exactly that word. `watch` marks pending law:
    it is shown, never fails a check (--fail-on takes the other three). A pack's strings become members when it
    compiles; a plain str compared with a member is read as a severity (ValueError if it names none)."""

    WATCH = "watch"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """0 for watch up to 3 for error."""
        return _SEVERITY_RANK[self]

    def __lt__(self, other: str) -> bool:
        return self.rank < Severity(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Severity(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Severity(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= Severity(other).rank


_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(Severity)}
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)  # the words, weakest first: for schemas and option choices
FAIL_LEVELS = SEVERITIES[1:]
# `undetermined`: the file does not record a fact the rule needs, so it neither passes nor fails; people read it
# as "to record". It never fails a check unless the run asks for complete records (--fail-on-unrecorded).
FindingStatus = Literal["fail", "waived", "watch", "undetermined"]
OutcomeStatus = Literal["pass", "fail", "waived", "watch", "undetermined", "not_applicable"]
STATUS_WORDS: dict[str, str] = {"pass": "pass", "fail": "fail", "waived": "waived", "watch": "watch",
                                "undetermined": "to record", "not_applicable": "not applicable"}
Scope = Literal["plan", "fund", "menu"]
SCOPES: tuple[Scope, ...] = get_args(Scope)  # for the pack schema
WaiverState = Literal["in effect", "expired", "not yet in effect"]
BINDING, PENDING, ENDED = "binding", "pending", "ended"

# What a source document is. Its kind caps the severity of a rule resting on it (docs/rule-packs.md, "The
# doctrine"); a status change may record a new kind (a proposal finalised becomes a regulation).
SourceKind = Literal["statute", "regulation", "guidance", "case", "proposal", "executive_order", "bill", "practice",
                     "policy", "advisory_opinion", "agency_order"]
SOURCE_KINDS: tuple[SourceKind, ...] = get_args(SourceKind)
SOURCE_CEILING: dict[SourceKind, Severity] = {
                  "statute": Severity.ERROR, "regulation": Severity.ERROR,
                  "guidance": Severity.WARNING, "case": Severity.WARNING,
                  "proposal": Severity.WATCH, "executive_order": Severity.WATCH, "bill": Severity.WATCH,
                  "practice": Severity.INFO,
                  "policy": Severity.ERROR,
                  # binds only its requester (ERISA Procedure 76-1): persuasive for any other plan, never a requirement
                  "advisory_opinion": Severity.INFO,
                  "agency_order": Severity.INFO}  # e.g. an SEC approval order: market law, not an ERISA duty
# What a rule checks, declared by its author and read by a reviewer; it caps the rule's severity too.
Checks = Literal["express_condition", "prudence_process", "practice", "sponsor_policy"]
CHECKS: tuple[Checks, ...] = get_args(Checks)
CHECKS_CEILING: dict[Checks, Severity] = {"express_condition": Severity.ERROR, "prudence_process": Severity.WARNING,
                                          "practice": Severity.INFO, "sponsor_policy": Severity.ERROR}
PACK_AUTHORITIES = ("federal", "sponsor_policy")
Status = Literal["in_force", "precedent", "issued", "proposed", "pending_review", "rescinded", "withdrawn",
                 "superseded"]
STATUS_KINDS: dict[Status, str] = {
    "in_force": BINDING, "precedent": BINDING, "issued": BINDING,  # issued: an advisory opinion or an order
    "proposed": PENDING, "pending_review": PENDING,
    "rescinded": ENDED, "withdrawn": ENDED, "superseded": ENDED,
}
# How exactly the record fixes a date. A document known only by its month or year is stored on the first day (so
# as-of arithmetic works) and shown as what is known, never as an exact day.
DatePrecision = Literal["day", "month", "year"]
DATE_PRECISIONS: tuple[DatePrecision, ...] = get_args(DatePrecision)


def shown_date(day: date, precision: DatePrecision = "day") -> str:
    """A date as people read it: exact, or only the month or year the sources record, saying so."""
    if precision == "year":
        return f"{day.year}, exact date not recorded"
    if precision == "month":
        return f"{day:%B %Y}, exact day not recorded"
    return day.isoformat()


class StatusChange(NamedTuple):
    """From `since`, the source has `status` (e.g. rescinded since 2025-05-28 by dol-car-2025-01)."""

    status: Status
    since: date
    by: str | None = None
    note: str | None = None
    new_kind: SourceKind | None = None  # the document's kind from this change on, when it changes (a final rule)
    precision: DatePrecision = "day"

    @property
    def kind(self) -> str:
        return STATUS_KINDS[self.status]

    def describe(self) -> str:
        words = {"in_force": "in force", "precedent": "precedent", "issued": "issued", "proposed": "proposed",
                 "pending_review": "pending review", "rescinded": "rescinded", "withdrawn": "withdrawn",
                 "superseded": "superseded"}[self.status]
        text = f"{words} since {shown_date(self.since, self.precision)}"
        return f"{text} by {self.by}" if self.by else text


class Source(NamedTuple):
    """A primary document (statute, regulation, release, order, case) and its status history."""

    id: str
    title: str
    issuer: str
    document: str
    dated: date  # the document's own date (named so as not to shadow datetime.date in this class)
    url: str
    history: tuple[StatusChange, ...]
    summary: str = ""
    kind: SourceKind = "guidance"
    date_precision: DatePrecision = "day"

    @property
    def date_text(self) -> str:
        return shown_date(self.dated, self.date_precision)

    def kinds(self) -> tuple[SourceKind, ...]:
        """Every kind the document has had: its own, and any a status change recorded."""
        return (self.kind,) + tuple(h.new_kind for h in self.history if h.new_kind)

    def kind_on(self, as_of: date) -> SourceKind:
        kind = self.kind
        for change in self.history:
            if change.new_kind and change.since <= as_of:
                kind = change.new_kind
        return kind

    def weight_on(self, as_of: date) -> Severity:
        """The most a rule resting on this document can weigh on `as_of`: pending law is only ever `watch`."""
        status = self.status_on(as_of)
        if status is not None and status.kind == PENDING:
            return Severity.WATCH
        return SOURCE_CEILING[self.kind_on(as_of)]

    def ceiling(self) -> Severity:
        """The most this document can ever support, over its whole recorded history (checked at load)."""
        if all(h.kind == PENDING for h in self.history):
            return Severity.WATCH
        return max(SOURCE_CEILING[k] for k in self.kinds())

    def status_on(self, as_of: date) -> StatusChange | None:
        """The status in effect on `as_of`, or None if the document did not exist yet."""
        current = None
        for change in self.history:
            if change.since <= as_of:
                current = change
        return current


class Citation(NamedTuple):
    """A pinpoint in a source (e.g. a section of a release) that supports a rule."""

    source: Source
    pinpoint: str

    def __str__(self) -> str:
        return self.pinpoint


class RuleTest(NamedTuple):
    """A pack author's example: a plan fragment and the outcome the rule must give on it."""

    name: str
    expect: str
    as_of: date | None  # None: neither the case nor its pack gives a review date
    plan: dict[Any, Any]
    funds: tuple[dict[Any, Any], ...]
    location: Location


class Rule(NamedTuple):
    """A compiled rule: what it checks (select, when, require), how bad a failure is, and why (citations)."""

    id: str
    title: str
    severity: Severity
    scope: Scope
    message: str
    remediation: str
    citations: tuple[Citation, ...]
    basis: tuple[Source, ...]
    effective_from: date | None
    effective_until: date | None
    pack_id: str
    location: Location
    select: Callable[[Any], bool | None]
    when: Callable[[Any], bool | None]
    require: Callable[[Any], bool | None]
    anchor: tuple[str, ...] | None
    description: str = ""
    tests: tuple[RuleTest, ...] = ()
    disabled_reason: str | None = None
    headline: str = ""  # the problem in a few words, as a reviewer would title it
    checks: Checks = "prudence_process"
    relies_on: str = ""  # for an express condition: what reliance of the plan gates it (QDIA relief claimed...)
    reads: tuple[str, ...] = ()  # every plan field its conditions read (conditions.field_paths): its facts
    require_reads: tuple[str, ...] = ()  # the fields its requirement reads: what a pass rests on


class PackInfo(NamedTuple):
    """Which pack, which version and which exact bytes (sha256) a run used: the memo's audit trail."""

    id: str
    title: str
    version: str
    jurisdiction: str
    file: str
    sha256: str
    extends: tuple[str, ...] = ()
    authority: str = "federal"
    current_to: date | None = None  # the date the pack's posture was last checked against its sources


@dataclass(frozen=True)
class RuleSet:
    """Everything loaded for a run: layered packs, compiled rules, and the sources they cite."""

    packs: tuple[PackInfo, ...]
    rules: tuple[Rule, ...]
    sources: dict[str, Source]
    parameters: dict[str, Any]
    settings_file: str | None = None  # the .compliance.yaml the run's settings came from, if any (provenance)
    # each federal rule a pack switched off and each federal parameter it changed, located where the pack says so
    federal_changes: tuple[Problem, ...] = ()
    # what it was compiled from (`rulesets.Recipe`): how it travels to another process; None for one made by hand
    recipe: Any = field(default=None, compare=False, repr=False)
    # per as-of date, each rule's applicability and severity: the same for every plan of a run, so found once
    postures: dict[date, list[tuple[str, str, Severity]]] = field(default_factory=dict, init=False, compare=False,
                                                                  repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        """A ruleset pickles as its recipe's digest: compiled rules (closures) cannot travel, and the receiving
        process holds its own, built from the same recipe (`rulesets.build`), which unpickling returns."""
        if self.recipe is not None and _COMPILED.get(self.recipe.digest) is self:
            return compiled_or_refused, (self.recipe.digest,)
        if self.rules:
            raise TypeError("only a ruleset built from a recipe (compliance.rulesets) can be sent to another "
                            "process; this one was made or changed in this process")
        return RuleSet, (self.packs, self.rules, self.sources, self.parameters, self.settings_file,
                         self.federal_changes)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def currency_notice(self, as_of: date) -> str | None:
        """When judging a date after the packs' posture was last checked, say so: later law is not in them."""
        dates = [p.current_to for p in self.packs if p.current_to is not None]
        if not dates or as_of <= min(dates):
            return None
        return f"rule packs current to {min(dates).isoformat()}; later developments are not reflected"


_COMPILED: dict[str, RuleSet] = {}  # recipe digest -> this process's ruleset for it
_KEPT = 16  # rulesets a process keeps compiled: a library caller cycling through pack sets stays bounded


def compiled(digest: str) -> RuleSet | None:
    """This process's ruleset for a recipe, if it has built it."""
    return _COMPILED.get(digest)


def keep_compiled(digest: str, ruleset: RuleSet) -> None:
    if len(_COMPILED) >= _KEPT:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[digest] = ruleset


def forget_compiled() -> None:
    _COMPILED.clear()


def compiled_or_refused(digest: str) -> RuleSet:
    """How a pickled ruleset comes back: this process's own, which it must have built from the same recipe."""
    found = _COMPILED.get(digest)
    if found is None:
        raise LookupError(f"this process has not built the ruleset {digest[:12]}; build it from its recipe first "
                          f"(compliance.rulesets.build)")
    return found


class Waiver(NamedTuple):
    """A committee's documented decision to accept a rule's finding, for a fund or the plan, until it expires."""

    rule: str
    fund: str | None
    reason: str
    approved_by: str
    approved_on: date
    expires: date
    reference: str | None
    location: Location

    def in_effect(self, as_of: date) -> bool:
        return self.approved_on <= as_of < self.expires

    def state(self, as_of: date) -> WaiverState:
        """Where the waiver stands on `as_of`, in the words every output uses."""
        if self.in_effect(as_of):
            return "in effect"
        return "expired" if as_of >= self.expires else "not yet in effect"


class Fact(NamedTuple):
    """A fact a rule needs and the plan file does not record: where to write it, and what it is in words."""

    path: str  # where it goes in the plan file: `plan.intends_404c`, `menu[fund vtinx].diversified`
    field: str  # the field in the plan format's spelling: `fund.diversified`
    label: str  # in words: "whether the option is itself diversified across issuers and sectors"
    fund_id: str | None = None


class Finding(NamedTuple):
    """One checklist item that did not pass: failed, waived by the committee, or on watch (pending law)."""

    rule_id: str
    title: str
    severity: Severity
    status: FindingStatus
    message: str
    location: Location
    fund_id: str | None
    citations: tuple[Citation, ...]
    remediation: str
    waiver: Waiver | None = None
    note: str | None = None
    headline: str = ""
    # a consolidated watch item stands for several per-option findings: their fingerprints, so a baseline
    # written before consolidation still recognises it
    members: tuple[str, ...] = ()
    facts: tuple[Fact, ...] = ()  # for an undetermined item: the facts to record that would decide it

    @property
    def fingerprint(self) -> str:
        """Stable across edits that move lines: which rule, on which plan file, about which fund."""
        return f"{self.rule_id}|{self.location.file}|{self.fund_id or '-'}"


def worst_first(f: Finding) -> tuple[int, str, str]:
    """Sort key: the most severe first, then by rule and fund, as every report lists action items."""
    return -f.severity.rank, f.rule_id, f.fund_id or ""


def fund_name(fund: dict[Any, Any]) -> str:
    """An option as outputs name it: its name, or its id where the plan records none (a placeholder is no name)."""
    return str(fund.get("name") or fund.get("id"))


def by_fund(findings: Iterable[Finding]) -> dict[str | None, list[Finding]]:
    """Findings grouped by fund (None: plan-wide), plan-wide first, then funds by id; order kept inside a group."""
    groups: dict[str | None, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.fund_id, []).append(f)
    return {k: groups[k] for k in sorted(groups, key=lambda k: (k is not None, k or ""))}


class Outcome(NamedTuple):
    """A rule's checklist row for one plan: pass, fail, waived, watch, or not_applicable with why.

    It names its rule by id (the report's ruleset holds the rule), so a report from a worker process carries
    no compiled rules, which cannot cross a process boundary.
    """

    rule_id: str
    status: OutcomeStatus
    reason: str = ""
    checked: int = 0
    findings: tuple[Finding, ...] = ()
    evidence: tuple[str, ...] = ()  # for a pass: the recorded facts it rests on, in words ("label: value")


@dataclass(frozen=True)
class Report:
    """The result of checking one plan file as of one date: what every output format reads.

    A batch check (`compliance.batch`) returns this; `check` returns a `PlanReport`, which also keeps the plan.
    """

    plan_file: str
    plan_name: str
    as_of: date
    outcomes: tuple[Outcome, ...]
    findings: tuple[Finding, ...]
    plan_sha256: str
    ruleset: RuleSet
    tool_version: str
    waivers: tuple[Waiver, ...] = field(default=())
    recordkeeper: str | None = None  # as the plan file names it: how a book is sorted and filtered

    def counts(self) -> dict[str, int]:
        """Failing findings by severity, plus waived, watch and undetermined totals, and the distinct facts to
        record (`to_record`) that would settle the undetermined ones."""
        counted: Counter[str] = Counter(f.severity if f.status == "fail" else f.status for f in self.findings)
        out = {key: counted[key] for key in (*FAIL_LEVELS, "waived", "watch", "undetermined")}
        out["to_record"] = len(self.facts_to_record())
        return out

    def facts_to_record(self) -> dict[str, tuple[Fact, list[Finding]]]:
        """Each distinct fact the undetermined items wait on, with those items, in the order first met."""
        found: dict[str, tuple[Fact, list[Finding]]] = {}
        for f in self.findings:
            if f.status == "undetermined":
                for fact in f.facts:
                    found.setdefault(fact.path, (fact, []))[1].append(f)
        return found

    def worst(self) -> Severity | None:
        return worst_severity(self.findings)


def worst_severity(findings: Iterable[Finding]) -> Severity | None:
    """The heaviest severity among the failing findings (waived, watch and undetermined ones never count); None
    when none fails. A plan's, a fund's or a checklist row's worst, as every report shows it."""
    return max((f.severity for f in findings if f.status == "fail"), default=None)


def failing_count(reports: Iterable[Report]) -> int:
    """The plans with a failing finding at any severity: the count a batch's last line gives."""
    return sum(report.worst() is not None for report in reports)


@dataclass(frozen=True, kw_only=True)
class PlanReport(Report):
    """A report that keeps the validated plan and the file's bytes: what a memo attaches and a diff compares.

    Batch checks drop them (`results()`): the check formats do not read them, and they were most of what a
    worker process sent back.
    """

    plan: dict[Any, Any]
    plan_text: bytes

    def results(self) -> Report:
        return Report(**{f.name: getattr(self, f.name) for f in fields(Report)})
