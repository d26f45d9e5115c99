"""Evaluates compiled rules against one validated plan as of one date. Knows operators, not asset classes."""

from __future__ import annotations

from datetime import date

from compliance.conditions import Scope
from compliance.loader import Document
from compliance.model import ENDED, PENDING, Finding, Outcome, Rule, RuleSet
from compliance.text import fill
from compliance.waivers import apply_waivers, read_waivers


def applicability(rule: Rule, as_of: date) -> tuple[str, str]:
    """('active'|'watch'|'not_applicable', why): the rule's window and its sources' status on `as_of`."""
    if rule.disabled_reason:
        return "not_applicable", rule.disabled_reason
    if rule.effective_from and as_of < rule.effective_from:
        return "not_applicable", f"effective only from {rule.effective_from.isoformat()}"
    if rule.effective_until and as_of >= rule.effective_until:
        return "not_applicable", f"effective only until {rule.effective_until.isoformat()}"
    pending = []
    for source in rule.basis:
        status = source.status_on(as_of)
        if status is None:
            return "not_applicable", f"{source.id} did not exist yet (dated {source.date.isoformat()})"
        if status.kind == ENDED:
            return "not_applicable", f"{source.id} {status.describe()}"
        if status.kind == PENDING:
            pending.append(f"{source.id} {status.describe()}")
    if pending:
        return "watch", "; ".join(pending)
    return "active", ""


def evaluate(ruleset: RuleSet, doc: Document, as_of: date) -> tuple[tuple[Outcome, ...], tuple[Finding, ...]]:
    """Every rule's checklist row, and the findings (waivers applied) in rule order."""
    plan = doc.data
    raw: list[tuple[Rule, str, str, int, list[Finding]]] = []
    for rule in ruleset.rules:
        state, why = applicability(rule, as_of)
        if state == "not_applicable":
            raw.append((rule, "not_applicable", why, 0, []))
            continue
        checked, findings = _run(rule, plan, doc, as_of, ruleset.parameters, watch=state == "watch")
        if not checked:
            why = ("no fund matches its selector" if rule.scope == "fund"
                   else "its when-condition does not hold for this plan")
            raw.append((rule, "not_applicable", why, 0, []))
        else:
            raw.append((rule, "fail" if findings else "pass", why, checked, findings))
    known = {rule.id for rule in ruleset.rules}
    all_findings = [f for *_, fs in raw for f in fs]
    waived = apply_waivers(all_findings, read_waivers(doc), as_of, known)
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
    return tuple(outcomes), tuple(waived)


def _run(rule: Rule, plan: dict, doc: Document, as_of: date, parameters: dict, watch: bool) -> tuple[int, list[Finding]]:
    if rule.scope != "fund":
        scope = Scope(plan, as_of)
        if not rule.when(scope):
            return 0, []
        ok = rule.require(scope)
        anchor = rule.anchor or (rule.scope if rule.scope == "menu" else "plan",)
        return 1, [] if ok else [_finding(rule, scope, doc.locate(anchor), None, parameters, watch)]
    checked, findings = 0, []
    for i, fund in enumerate(plan["menu"]):
        scope = Scope(plan, as_of, fund)
        if not (rule.select(scope) and rule.when(scope)):
            continue
        checked += 1
        if not rule.require(scope):
            path = ("menu", i) + (rule.anchor[1:] if rule.anchor and rule.anchor[0] == "fund" else ())
            location = doc.locate(rule.anchor if rule.anchor and rule.anchor[0] != "fund" else path)
            findings.append(_finding(rule, scope, location, fund["id"], parameters, watch))
    return checked, findings


def _finding(rule: Rule, scope: Scope, location, fund_id: str | None, parameters: dict, watch: bool) -> Finding:
    def lookup(name: str):
        root, *rest = name.split(".")
        value = parameters if root == "param" else (scope.fund if root == "fund" else scope.plan.get(root))
        for part in rest:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return Finding(
        rule_id=rule.id, title=rule.title, severity="info" if watch else rule.severity,
        status="watch" if watch else "fail", message=fill(rule.message, lookup), location=location,
        fund_id=fund_id, citations=rule.citations, remediation=rule.remediation,
    )
