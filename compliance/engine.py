"""Evaluates compiled rules against one validated plan as of one date. Knows operators, not asset classes."""

from __future__ import annotations

from datetime import date
from typing import Any

from compliance.conditions import Scope
from compliance.errors import Location
from compliance.loader import Document
from compliance.model import ENDED, Finding, Outcome, OutcomeStatus, Rule, RuleSet, Severity, Waiver, severity_rank
from compliance.text import fill
from compliance.waivers import apply_waivers


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
    strongest = max((s.weight_on(as_of) for s in rule.basis), key=severity_rank)
    return min(rule.severity, strongest, key=severity_rank)


def postures(ruleset: RuleSet, as_of: date) -> list[tuple[str, str, Severity]]:
    """Each rule's (state, why, severity) on `as_of`, found once per ruleset and date."""
    found = ruleset.postures.get(as_of)
    if found is None:
        if len(ruleset.postures) >= 64:  # a library caller sweeping dates: keep the cache bounded
            ruleset.postures.clear()
        found = ruleset.postures[as_of] = [(*applicability(rule, as_of), effective_severity(rule, as_of))
                                           for rule in ruleset.rules]
    return found


def evaluate(ruleset: RuleSet, plan: dict, doc: Document, as_of: date, waivers: tuple[Waiver, ...] = ()
             ) -> tuple[tuple[Outcome, ...], tuple[Finding, ...]]:
    """Every rule's checklist row, and the findings (waivers applied) in rule order.

    `plan` is the validated data (`validate_plan`); `doc` locates its values in the file.
    """
    memo: dict = {}  # aggregates over this plan's menu, computed once for all its rules and funds
    fund_scopes = [Scope(plan, as_of, fund, memo=memo) for fund in plan["menu"]]
    raw: list[tuple[Rule, OutcomeStatus, str, int, list[Finding]]] = []
    for rule, (state, why, severity) in zip(ruleset.rules, postures(ruleset, as_of), strict=True):
        if state == "not_applicable":
            raw.append((rule, "not_applicable", why, 0, []))
            continue
        checked, findings = _run(rule, plan, doc, as_of, ruleset.parameters, severity, memo, fund_scopes)
        if not checked:
            why = ("no fund matches its selector" if rule.scope == "fund"
                   else "its when-condition does not hold for this plan")
            raw.append((rule, "not_applicable", why, 0, []))
        else:
            raw.append((rule, "fail" if findings else "pass", why, checked, findings))
    known = {rule.id for rule in ruleset.rules}
    all_findings = [f for *_, fs in raw for f in fs]
    waived = apply_waivers(all_findings, waivers, as_of, known)
    by_rule: dict[str, list[Finding]] = {}
    for f in waived:
        by_rule.setdefault(f.rule_id, []).append(f)
    outcomes = []
    for rule, status, why, checked, _ in raw:
        mine = tuple(by_rule.get(rule.id, ()))
        if mine:
            statuses = {f.status for f in mine}
            status = "fail" if "fail" in statuses else ("watch" if "watch" in statuses else "waived")
        outcomes.append(Outcome(rule.id, status, why, checked, mine))
    for rule_id, group in by_rule.items():
        if rule_id not in known:  # engine-level findings such as waiver-unmatched have no pack rule
            outcomes.append(Outcome(rule_id, "fail", "", len(group), tuple(group)))
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
        rule_id=WATCH_PREFIX + "+".join(key), title=sources[0].title, severity="watch", status="watch",
        message=f"Watch item, not a finding of fault: {sources[0].title} ({status}) affects {scope}. {where}.",
        location=members[0].location, fund_id=None,
        citations=citations, remediation=remediation, headline=f"Watch: {sources[0].document}",
        members=tuple(f.fingerprint for f in members),
    )


def _run(rule: Rule, plan: dict, doc: Document, as_of: date, parameters: dict, severity: Severity, memo: dict,
         fund_scopes: list[Scope]) -> tuple[int, list[Finding]]:
    if rule.scope != "fund":
        scope = Scope(plan, as_of, memo=memo)
        if not rule.when(scope):
            return 0, []
        ok = rule.require(scope)
        anchor = rule.anchor or (rule.scope if rule.scope == "menu" else "plan",)
        return 1, [] if ok else [_finding(rule, scope, doc.locate(anchor), None, parameters, severity)]
    checked, findings = 0, []
    select, when, require = rule.select, rule.when, rule.require
    for i, scope in enumerate(fund_scopes):
        if not (select(scope) and when(scope)):
            continue
        checked += 1
        if not require(scope):
            path = ("menu", i) + (rule.anchor[1:] if rule.anchor and rule.anchor[0] == "fund" else ())
            location = doc.locate(rule.anchor if rule.anchor and rule.anchor[0] != "fund" else path)
            findings.append(_finding(rule, scope, location, plan["menu"][i]["id"], parameters, severity))
    return checked, findings


def _finding(rule: Rule, scope: Scope, location: Location, fund_id: str | None, parameters: dict, severity: Severity
             ) -> Finding:
    def lookup(name: str) -> Any:
        root, *rest = name.split(".")
        value = parameters if root == "param" else (scope.fund if root == "fund" else scope.plan.get(root))
        for part in rest:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def absent(path: str) -> str | None:
        """The shortest part of `path` the plan does not record (`due_diligence.prudence`, not `....date`)."""
        parts = path.split(".")
        prefix = next((".".join(parts[:k]) for k in range(2, len(parts) + 1)
                       if lookup(".".join(parts[:k])) is None), None)
        if prefix and prefix.startswith("fund."):
            return f"menu[fund {fund_id}]{prefix[4:]}"
        return prefix

    message = fill(rule.message, lookup)
    missing = list(dict.fromkeys(m for m in map(absent, rule.needs) if m))
    if missing:  # say which fields to fill in, and for which check: "(not recorded)" alone does not
        message += f" Not recorded: {', '.join(missing)}; {rule.id} looks for {'it' if len(missing) == 1 else 'them'}."
    return Finding(
        rule_id=rule.id, title=rule.title, severity=severity, status="watch" if severity == "watch" else "fail",
        message=message, location=location, fund_id=fund_id, citations=rule.citations,
        remediation=rule.remediation, headline=rule.headline or rule.title,
    )
