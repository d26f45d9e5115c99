"""Evaluates compiled rules against one validated plan as of one date. Knows operators, not asset classes."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any, Literal

from compliance.conditions import BudgetExceeded, EvalScope, always
from compliance.errors import InputError, Location, Problem
from compliance.loader import Document
from compliance.model import (
    ENDED,
    Fact,
    Finding,
    Outcome,
    OutcomeStatus,
    Rule,
    RuleSet,
    Severity,
    Waiver,
    fund_name,
)
from compliance.schemas.plan import PLACEHOLDERS, determination_fields, evidence_fields, field_label, shown_value
from compliance.text import fill, show, states_only_recorded
from compliance.waivers import apply_waivers

EVIDENCE = evidence_fields()
DETERMINATIONS = determination_fields()


def applicability(rule: Rule, as_of: date) -> tuple[str, str]:
    """('active'|'watch'|'not_applicable', why): the rule's window and its sources' status on `as_of`.

    A rule whose sources are rescinded or not yet issued does not apply. One whose strongest source weighs no
    more than `watch` on that date (a proposal, a pending case, an order awaiting agency action) is a watch item.
    """
    if rule.disabled_reason:
        return "not_applicable", rule.disabled_reason
    if rule.effective_from and as_of < rule.effective_from:
        return "not_applicable", f"effective only from {rule.effective_from.isoformat()}"
    if rule.effective_until and as_of >= rule.effective_until:
        return "not_applicable", f"effective only until {rule.effective_until.isoformat()}"
    for source in rule.basis:
        status = source.status_on(as_of)
        if status is None:
            return "not_applicable", f"{source.id} did not exist yet (dated {source.dated.isoformat()})"
        if status.kind == ENDED:
            return "not_applicable", f"{source.id} {status.describe()}"
    if effective_severity(rule, as_of) == "watch":
        return "watch", "; ".join(f"{s.id} {s.status_on(as_of).describe()}" for s in rule.basis)  # type: ignore[union-attr]
    return "active", ""


def effective_severity(rule: Rule, as_of: date) -> Severity:
    """The rule's severity, capped by the weight its strongest source has on `as_of`."""
    return min(rule.severity, max(s.weight_on(as_of) for s in rule.basis))


def postures(ruleset: RuleSet, as_of: date) -> list[tuple[str, str, Severity]]:
    """Each rule's (state, why, severity) on `as_of`, found once per ruleset and date."""
    found = ruleset.postures.get(as_of)
    if found is None:
        if len(ruleset.postures) >= 64:  # a library caller sweeping dates: keep the cache bounded
            ruleset.postures.clear()
        found = ruleset.postures[as_of] = [(*applicability(rule, as_of), effective_severity(rule, as_of))
                                           for rule in ruleset.rules]
    return found


def evaluate(ruleset: RuleSet, plan: dict[Any, Any], doc: Document, as_of: date, waivers: tuple[Waiver, ...] = ()
             ) -> tuple[tuple[Outcome, ...], tuple[Finding, ...]]:
    """Every rule's checklist row, and the findings (waivers applied) in rule order.

    `plan` is the validated data (`validate_plan`); `doc` locates its values in the file. A rule passes, fails,
    or is undetermined (its findings then name the facts to record); see `_decide`.
    """
    cache: dict[Any, Any] = {}  # aggregates over this plan's menu, computed once for all its rules and funds
    fund_scopes = [EvalScope(plan, as_of, fund, cache=cache) for fund in plan["menu"]]
    lacked: list[Any] = []  # one list for every fund's scope: a rule judges one fund at a time and reads it at once
    for scope in fund_scopes:
        scope.missing = lacked
    facts = _FactNamer(plan)
    raw: list[tuple[Rule, OutcomeStatus, str, int, list[Finding], tuple[str, ...]]] = []
    for rule, (state, why, severity) in zip(ruleset.rules, postures(ruleset, as_of), strict=True):
        if state == "not_applicable":
            raw.append((rule, "not_applicable", why, 0, [], ()))
            continue
        try:
            checked, findings, evidence, skipped = _run(rule, plan, doc, as_of, ruleset.parameters, severity,
                                                        cache, fund_scopes, facts)
        except BudgetExceeded as exc:
            where, budget = exc.args
            raise InputError(Problem(rule.location, f"{rule.id}: its condition at {where} compares every fund of "
                                                    f"{doc.file} with every other one ({len(plan['menu'])} funds), "
                                                    f"more than the {budget:,} comparisons a plan may take; "
                                                    f"compare by equality (fund.X eq selected.Y), which is "
                                                    f"indexed")) from None
        if not checked and not findings:
            raw.append((rule, "not_applicable", _why_not(rule, skipped), 0, [], ()))
        else:
            status: OutcomeStatus = ("fail" if any(f.status != "undetermined" for f in findings)
                                     else "undetermined" if findings else "pass")
            raw.append((rule, status, why, checked, findings, evidence))
    known = {rule.id for rule in ruleset.rules}
    all_findings = [f for *_, fs, _ in raw for f in fs] + _placeholders(plan, doc, facts)
    waived = apply_waivers(all_findings, waivers, as_of, known)
    by_rule: dict[str, list[Finding]] = {}
    for f in waived:
        by_rule.setdefault(f.rule_id, []).append(f)
    outcomes = []
    for rule, status, why, checked, _, evidence in raw:
        mine = tuple(by_rule.get(rule.id, ()))
        if mine:
            statuses = {f.status for f in mine}
            status = next(s for s in ("fail", "watch", "waived", "undetermined") if s in statuses)
        outcomes.append(Outcome(rule.id, status, why, checked, mine, evidence))
    for rule_id, group in by_rule.items():
        if rule_id not in known:  # engine-level findings (an unmatched waiver, a placeholder) have no pack rule
            status = "undetermined" if all(f.status == "undetermined" for f in group) else "fail"
            outcomes.append(Outcome(rule_id, status, "", len(group), tuple(group)))
    return tuple(outcomes), consolidate_watch(waived, {r.id: r for r in ruleset.rules}, as_of)


WATCH_PREFIX = "watch."


def consolidate_watch(findings: list[Finding], rules: dict[str, Rule], as_of: date) -> tuple[Finding, ...]:
    """One watch item per source of watch-level rules (pending law, or law about to change) per plan, naming the
    options and checks it affects.

    Per option and factor, pending law made a six-fund plan list dozens of watch items that all said one
    thing: this proposal is not final yet. The checklist rows (outcomes) keep the detail; the findings keep
    one item per source, which remembers its members' fingerprints so that older baselines still match it.
    """
    groups: dict[tuple[str, ...], list[Finding]] = {}
    out: list[Finding | tuple[str, ...]] = []  # a source key holds the place of its item until the groups are full
    for f in findings:
        if f.status != "watch" or f.rule_id not in rules:
            out.append(f)
            continue
        key = tuple(s.id for s in rules[f.rule_id].basis)
        if key not in groups:
            groups[key] = []
            out.append(key)
        groups[key].append(f)
    return tuple(x if isinstance(x, Finding) else _watch_item(x, groups[x], rules, as_of) for x in out)


def _watch_item(key: tuple[str, ...], members: list[Finding], rules: dict[str, Rule], as_of: date) -> Finding:
    sources = [s for s in rules[members[0].rule_id].basis]
    by_check: dict[str, list[str]] = {}  # one line per check, naming the options it concerns (shorter than per fund)
    for f in members:
        by_check.setdefault(rules[f.rule_id].headline or f.title, []).append(f.fund_id or "the plan")
    status = "; ".join(f"{s.document}: {s.status_on(as_of).describe()}" for s in sources)  # type: ignore[union-attr]
    where = "; ".join(f"{check}: {', '.join(dict.fromkeys(who))}" for check, who in by_check.items())
    count = len({f.fund_id for f in members if f.fund_id})
    scope = f"{count} option{'s' if count != 1 else ''}" if count else "the plan"
    citations = tuple({c.pinpoint: c for f in members for c in f.citations}.values())
    remediation = " ".join(dict.fromkeys(f.remediation for f in members))
    return Finding(
        rule_id=WATCH_PREFIX + "+".join(key), title=sources[0].title, severity=Severity.WATCH, status="watch",
        message=f"Watch item, not a finding of fault: {sources[0].title} ({status}) affects {scope}. {where}.",
        location=members[0].location, fund_id=None,
        citations=citations, remediation=remediation, headline=f"Watch: {sources[0].document}",
        members=tuple(f.fingerprint for f in members),
    )


Decision = Literal["unselected", "unknown_selection", "not_applicable", "pass", "fail", "unrecorded", "undetermined"]
_PROCESS_CHECKS = ("prudence_process", "practice", "sponsor_policy")


def _decide(rule: Rule, scope: EvalScope, absence_is_finding: bool) -> Decision:
    """A rule's verdict in a scope it speaks of, with the facts it lacked left in `scope.missing`.

    A fund rule speaks of the funds its `select` is known to match (a fund whose selecting fact is not recorded is
    not among them; `_run` settles the selection over the whole menu first). The rule applies where `when` holds, and fails only where the recorded facts show `require` unmet. What the file does not record is a fact to record (undetermined), never a violation, with one
    exception: a rule that checks a documented process, below error, fails when what is missing is only the
    record of that process (fields the plan format marks as evidence), and says so ("unrecorded").
    A requirement that holds settles the rule whatever the unknown gates say: it cannot fail.
    """
    scope.missing.clear()
    applies = rule.when(scope)
    if applies is False:
        return "not_applicable"
    held = rule.require(scope)
    if held is True:
        return "pass"
    if applies is True:
        if held is False:
            return "fail"
        if absence_is_finding and all(_is_evidence(item) for item in scope.missing):
            return "unrecorded"
    return "undetermined"


def _is_evidence(item: Any) -> bool:
    if isinstance(item, list):
        return all(_is_evidence(i) for i in item)
    path = item[0]
    return ("fund." + path.split(".", 1)[1] if path.startswith("selected.") else path) in EVIDENCE


def _run(rule: Rule, plan: dict[Any, Any], doc: Document, as_of: date, parameters: dict[Any, Any],
         severity: Severity, cache: dict[Any, Any],
         fund_scopes: list[EvalScope], facts: _FactNamer
         ) -> tuple[int, list[Finding], tuple[str, ...], set[Decision]]:
    """(scopes checked, findings failed or undetermined, the recorded facts a pass rests on, why scopes were
    skipped)."""
    absence_is_finding = rule.checks in _PROCESS_CHECKS and severity != "error"
    if rule.scope != "fund":
        scope = EvalScope(plan, as_of, cache=cache)
        decision = _decide(rule, scope, absence_is_finding)  # a plan or menu rule has no selector (compile.py)
        if decision == "not_applicable":
            return 0, [], (), {decision}
        if decision == "pass":
            return 1, [], _evidence(rule, scope, facts), set()
        anchor = rule.anchor or (rule.scope if rule.scope == "menu" else "plan",)
        return 1, [_finding(rule, decision, scope, doc.locate(anchor), None, parameters, severity, facts)], (), set()
    checked, passes, findings = 0, 0, []
    passed: list[EvalScope] = []
    skipped: set[Decision] = set()
    # most rules select few of a menu's options: settle the rest here
    selection = [True] * len(fund_scopes) if rule.select is always else list(map(rule.select, fund_scopes))
    if fund_scopes:
        fund_scopes[0].missing.clear()  # what the selector lacked: a fund it may not cover has no fact to record
    if False in selection:
        skipped.add("unselected")
    if None in selection:
        skipped.add("unknown_selection")
    for i in [i for i, chosen in enumerate(selection) if chosen is True]:
        scope = fund_scopes[i]
        decision = _decide(rule, scope, absence_is_finding)
        if decision == "not_applicable":
            skipped.add(decision)
            continue
        checked += 1
        if decision == "pass":
            passes += 1
            if len(passed) < _EVIDENCE_FUNDS:
                passed.append(scope)
            continue
        path = ("menu", i) + (rule.anchor[1:] if rule.anchor and rule.anchor[0] == "fund" else ())
        location = doc.locate(rule.anchor if rule.anchor and rule.anchor[0] != "fund" else path)
        findings.append(_finding(rule, decision, scope, location, plan["menu"][i]["id"], parameters, severity,
                                 facts))
    if passes <= _EVIDENCE_FUNDS:
        evidence = tuple(f"{fund_name(s.fund)}: {line}" for s in passed for line in _evidence(rule, s, facts))  # type: ignore[arg-type]
    else:
        named = ", ".join(fund_name(s.fund) for s in passed)  # type: ignore[arg-type]
        evidence = (f"{passes} options pass: {named} and {passes - len(passed)} more",)
    return checked, findings, evidence, skipped


def _why_not(rule: Rule, skipped: set[Decision]) -> str:
    """Why a rule checked nothing in this plan, in the checklist's words."""
    if rule.scope != "fund":
        return "as the file records the plan, the situation it covers does not arise"
    if "not_applicable" in skipped:
        return "its condition does not hold for the options it covers"
    if "unknown_selection" in skipped:
        return "the file does not record whether any option is of the kind it covers"
    return "as the file records the menu, no option is of the kind it covers"


_EVIDENCE_FUNDS = 3  # a fund rule's pass lists the facts of at most this many options; more are counted


def _evidence(rule: Rule, scope: EvalScope, facts: _FactNamer) -> tuple[str, ...]:
    """The recorded facts a pass rests on, in words: "last 404a-5 comparative chart sent: 2026-08-14"."""
    out = []
    for path in dict.fromkeys(_one_fact(p) for p in rule.require_reads):
        value = _lookup(scope, path)
        if value is not None and not isinstance(value, list):
            out.append(f"{facts.label(path)}: {_shown(path, value)}")
    return tuple(dict.fromkeys(out))


def _shown(path: str, value: Any) -> str:
    """A recorded value in a line: a determination as its date and reference, a group by its recorded parts, a
    value as every output shows it (a fee as a percent)."""
    if isinstance(value, dict):
        if "date" in value:
            ref = f" ({value['reference']})" if value.get("reference") else ""
            return f"{show(value['date'])}{ref}"
        return ", ".join(f"{k.replace('_', ' ')} {_shown(f'{path}.{k}', v)}" for k, v in value.items()
                         if not isinstance(v, dict))
    return shown_value(path, value)


def _lookup(scope: EvalScope, name: str) -> Any:
    root, *rest = _parts(name)
    value: Any = scope.fund if root == "fund" else scope.plan.get(root)
    for part in rest:
        value = value.get(part) if isinstance(value, dict) else None
    return value


_parts = functools.lru_cache(maxsize=4096)(lambda name: name.split("."))  # a message's few paths, read per finding


MAX_FACTS = 12  # facts one item lists at the most


class _FactNamer:
    """Turns what a condition lacked into facts to record: where in the file, which field, in what words."""

    def __init__(self, plan: dict[Any, Any]):
        self.plan = plan
        self.seen: dict[tuple[str, int], Fact] = {}  # (path, id of the fund or None) -> its fact, for this plan
        self.names = {f.get("id"): fund_name(f) for f in plan.get("menu") or () if isinstance(f, dict)}

    @staticmethod
    def label(path: str) -> str:
        return field_label(path) or path.rsplit(".", 1)[-1].replace("_", " ")

    def facts(self, missing: list[Any]) -> tuple[Fact, ...]:
        """The first `MAX_FACTS` distinct facts, the item's own first: an aggregate over a large menu may wait on a
        fact of every other option, and each option's own item names its own."""
        out: dict[str, Fact] = {}
        for item in missing:
            for path, holder in (item if isinstance(item, list) else (item,)):
                key = (path, id(holder))
                fact = self.seen.get(key)
                if fact is None:
                    fact = self.seen[key] = self._fact(path, holder)
                out.setdefault(fact.path, fact)
                if len(out) == MAX_FACTS:
                    return tuple(out.values())
        return tuple(out.values())

    def _fact(self, path: str, holder: dict[Any, Any] | None) -> Fact:
        field, taken, of_fund = _field_of(path)
        fund_id = holder.get("id") if of_fund and isinstance(holder, dict) else None
        where = f"menu[fund {fund_id}].{taken}" if fund_id else field
        return Fact(path=where, field=field, label=self.label(field), fund_id=fund_id)


@functools.lru_cache(maxsize=4096)
def _field_of(path: str) -> tuple[str, str, bool]:
    """(the field in the plan format's spelling, its path inside a fund, whether it is a fund's) for a path a
    condition noted: `selected.x` is the fund's `x`, and a determination's parts are the determination."""
    root, *rest = path.split(".")
    of_fund = root in ("fund", "selected")
    parts = _one_fact(".".join(["fund" if of_fund else root, *rest])).split(".")
    return ".".join(parts), ".".join(parts[1:] if of_fund else parts), of_fund


def _one_fact(field: str) -> str:
    """A determination (its date, reference and conclusion) is one fact: `fund.due_diligence.fees.date` is
    `fund.due_diligence.fees`."""
    parts = field.split(".")
    for k in range(2, len(parts)):
        if ".".join(parts[:k]) in DETERMINATIONS:
            return ".".join(parts[:k])
    return field


def _in_sentence(title: str) -> str:
    """A rule's title (a statement, capitalised) continuing a sentence: "Each option ..." -> "each option ...",
    but "QDIA notice ..." keeps its capitals."""
    first = title.split(" ", 1)[0]
    return title if len(first) > 1 and first.isupper() else title[:1].lower() + title[1:]


def _finding(rule: Rule, decision: Decision, scope: EvalScope, location: Location, fund_id: str | None,
             parameters: dict[Any, Any], severity: Severity, facts: _FactNamer) -> Finding:
    def lookup(name: str) -> Any:
        return parameters.get(name[6:]) if name.startswith("param.") else _lookup(scope, name)

    status = "watch" if severity == "watch" else "fail"
    subject = fund_name(scope.fund) if scope.fund else "The plan"
    if decision == "fail":
        return Finding(
            rule_id=rule.id, title=rule.title, severity=severity, status=status,  # type: ignore[arg-type]
            message=fill(rule.message, lookup), location=location, fund_id=fund_id, citations=rule.citations,
            remediation=rule.remediation, headline=rule.headline or rule.title,
        )
    lacking = facts.facts(scope.missing)
    named = _labels(lacking, fund_id, facts.names)
    labels = _joined(named)
    if decision == "unrecorded":
        # The pack's own sentence when it names only recorded values (it was written for a missing record: "no
        # current decision is recorded"); otherwise a sentence that states no more than the file shows.
        own = states_only_recorded(rule.message, lookup)
        return Finding(
            rule_id=rule.id, title=rule.title, severity=severity, status=status,  # type: ignore[arg-type]
            message=(f"{fill(rule.message, lookup).strip()} (To record: {labels}.)" if own else
                     f"{subject}: nothing in the plan file shows that {_in_sentence(rule.title)} (to record: {labels})."),
            location=location, fund_id=fund_id, citations=rule.citations,
            remediation=(rule.remediation if status == "watch" else  # pending law asks for a record to come
                         f"If the record exists, add it to the plan file; if not, {_in_sentence(rule.remediation)}"),
            headline=(rule.headline or rule.title) if own or not lacking else
            f"No documented record: {lacking[0].label}" + (f" and {len(lacking) - 1} more" if len(lacking) > 1 else ""),
            facts=lacking,
        )
    return Finding(
        rule_id=rule.id, title=rule.title, severity=severity, status="undetermined",
        message=f"{subject}: the file does not record {labels}, so this cannot be decided: {_in_sentence(rule.title)}.",
        location=location, fund_id=fund_id, citations=rule.citations,
        remediation=f"Record {labels} in the plan file.",  # the facts' paths travel in `facts` (JSON, SARIF)
        headline=f"Record {named[0]}" + (f" and {len(lacking) - 1} more" if len(lacking) > 1 else "")
        if lacking else f"Record the facts {rule.title[:1].lower()}{rule.title[1:]} needs",
        facts=lacking,
    )


PLACEHOLDER_RULE_ID = "plan-file.placeholder"


def _placeholders(plan: dict[Any, Any], doc: Document, facts: _FactNamer) -> list[Finding]:
    """A placeholder ("TODO: ...") is never read as a fact: each is a fact to record, where it stands."""
    out = []
    for path in plan.get(PLACEHOLDERS, ()):
        fund = plan["menu"][path[1]] if path[0] == "menu" else None
        field = ".".join(("fund",) + path[2:]) if fund is not None else ".".join(path)
        fact = Fact(path=f"menu[fund {fund['id']}].{'.'.join(path[2:])}" if fund is not None else field,
                    field=field, label=facts.label(field), fund_id=fund["id"] if fund is not None else None)
        out.append(Finding(
            rule_id=PLACEHOLDER_RULE_ID, title="A placeholder stands where a fact belongs", severity=Severity.INFO,
            status="undetermined", message=f"{fact.path} holds a placeholder, not a fact: record {fact.label}.",
            location=doc.locate(path), fund_id=fact.fund_id, citations=(),
            remediation=f"Record {fact.label}, or leave the field out until it is known.",
            headline=f"Record {fact.label}", facts=(fact,)))
    return out


def _labels(facts: tuple[Fact, ...], own: str | None, names: dict[Any, Any]) -> list[str]:
    """The facts' labels, once each; a fact of other options names them: "... (options Fund A, Fund B)"."""
    others: dict[str, list[str]] = {}
    for fact in facts:
        others.setdefault(fact.label, [])
        if fact.fund_id and fact.fund_id != own:
            others[fact.label].append(str(names.get(fact.fund_id, fact.fund_id)))
    return [f"{label} (option{'s' if len(ids) > 1 else ''} {', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''})"
            if ids else label for label, ids in others.items()]


def _joined(words: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1] if words else "a fact"
