"""A small report built by hand, for the output formats' golden tests (tests/report/test_golden.py).

Nothing here reads a pack or a plan file, so adding a bundled rule changes no golden file. Two plans:

- `plans/acme.yaml`, whose name needs escaping everywhere (`<b>&"'`, a line break, a terminal escape): a plan-wide
  error, a warning and an info item on fund `growth` (the warning's message holds `%`, a line break and a runner
  command), an error waived by the committee on fund `bond`, a watch item on pending law, and an undetermined
  item on fund `bond` waiting on two facts; besides these, one rule passes and one does not apply.
- `plans/beta, inc.yaml` (a comma and a space in the file name): one warning, with a note.

The run also has one broken input file (`problems`) and one rule pack skipped from the folder (`skipped`), and
the packs changed one federal rule and are current to a date before the run's, so every format shows its notice.

`plan_diff()` compares two versions of a third plan: a fund added, one removed, one changed; a finding new, one
resolved, one unchanged, and one newly waived.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from compliance.diff import PlanDiff, diff_reports
from compliance.errors import Location, Problem
from compliance.model import (
    Citation,
    Fact,
    Finding,
    Outcome,
    PackInfo,
    PlanReport,
    Report,
    Rule,
    RuleSet,
    Severity,
    Source,
    StatusChange,
    Waiver,
)

AS_OF = date(2026, 11, 22)
VERSION = "9.9.9-golden"  # not the package's version: a release must not change the golden files
ACME = "plans/acme.yaml"
BETA = "plans/beta, inc.yaml"
ACME_NAME = "Acme <b>&\"' 401(k)\nPlan \x1b[31mred"

STATUTE = Source(id="erisa-404a", title="ERISA section 404(a)", issuer="Congress", document="29 U.S.C. 1104(a)",
                 dated=date(1974, 9, 2), url="https://example.invalid/erisa-404a",
                 history=(StatusChange("in_force", date(1975, 1, 1)),), kind="statute")
PROPOSAL = Source(id="dol-proposal", title="A proposed rule", issuer="DOL", document="89 FR 1", dated=date(2026, 1, 15),
                  url="https://example.invalid/proposal", history=(StatusChange("proposed", date(2026, 1, 15)),),
                  kind="proposal")
PRUDENCE = Citation(STATUTE, "ERISA 404(a)(1)(B)")
PENDING = Citation(PROPOSAL, "89 FR 1, 5")


def _always(scope: Any) -> bool:
    return True


def _rule(rule_id: str, severity: Severity, scope: str, title: str, citation: Citation = PRUDENCE) -> Rule:
    return Rule(id=rule_id, title=title, severity=severity, scope=scope,  # type: ignore[arg-type]
                message=f"{title}.", remediation=f"Fix: {title.lower()} <now>.", citations=(citation,),
                basis=(citation.source,), effective_from=None, effective_until=None, pack_id="golden-pack",
                location=Location("packs/golden.yaml", 10, 5), select=_always, when=_always, require=_always,
                anchor=None, description=f"{title}, described.", headline=title)


RULES = (
    _rule("t.plan-error", Severity.ERROR, "plan", "Plan has an investment policy"),
    _rule("t.fund-warning", Severity.WARNING, "fund", "Fund is the cheapest share class"),
    _rule("t.fund-info", Severity.INFO, "fund", "Fund has a benchmark"),
    _rule("t.fund-waived", Severity.ERROR, "fund", "Fund is not a proprietary product"),
    _rule("t.watch", Severity.WATCH, "plan", "Plan follows the proposed rule", PENDING),
    _rule("t.unknown", Severity.WARNING, "fund", "Fund is diversified"),
    _rule("t.passes", Severity.ERROR, "plan", "Plan names a committee"),
    _rule("t.not-applicable", Severity.WARNING, "plan", "Plan's ESOP is prudent"),
)
RULESET = RuleSet(
    packs=(PackInfo(id="golden-pack", title="Golden pack", version="1", jurisdiction="test", file="packs/golden.yaml",
                    sha256="a" * 64, current_to=date(2026, 6, 30)),),
    rules=RULES, sources={s.id: s for s in (STATUTE, PROPOSAL)}, parameters={},
    federal_changes=(Problem(Location("packs/golden.yaml", 4, 3), "switches off federal rule 'erisa.x': not ours"),))


def _finding(rule_id: str, status: str, file: str, line: int, fund: str | None = None, **extra: Any) -> Finding:
    rule = next(r for r in RULES if r.id == rule_id)
    return Finding(rule_id=rule_id, title=rule.title, severity=rule.severity, status=status,  # type: ignore[arg-type]
                   message=extra.pop("message", rule.message), location=Location(file, line, 7), fund_id=fund,
                   citations=rule.citations, remediation=rule.remediation, headline=rule.headline, **extra)


WAIVER = Waiver(rule="t.fund-waived", fund="bond", reason="Committee minutes 2026-03: kept for <reasons> & more",
                approved_by="Investment Committee", approved_on=date(2026, 3, 1), expires=date(2027, 3, 1),
                reference="minutes-2026-03", location=Location("plans/acme.yaml", 40, 5))
FACTS = (Fact("menu[fund bond].diversified", "fund.diversified", "whether the option is diversified", "bond"),
         Fact("menu[fund bond].asset_class", "fund.asset_class", "the option's asset class", "bond"))

ACME_FINDINGS = (
    _finding("t.plan-error", "fail", ACME, 3),
    _finding("t.fund-warning", "fail", ACME, 12, "growth",
             message="Growth costs 100% more\n::error::than its R6 class"),
    _finding("t.fund-info", "fail", ACME, 13, "growth"),
    _finding("t.fund-waived", "waived", ACME, 21, "bond", waiver=WAIVER),
    _finding("t.watch", "watch", ACME, 1),
    _finding("t.unknown", "undetermined", ACME, 20, "bond",
             message="Nothing in the plan file shows whether bond is diversified.", facts=FACTS),
)
BETA_FINDINGS = (_finding("t.fund-warning", "fail", BETA, 9, "core", note="the R6 class opened in 2026"),)


def _outcomes(findings: tuple[Finding, ...]) -> tuple[Outcome, ...]:
    """One checklist row per rule: its findings' status, or a pass, or not applicable."""
    rows = []
    for rule in RULES:
        mine = tuple(f for f in findings if f.rule_id == rule.id)
        if rule.id == "t.not-applicable":
            rows.append(Outcome(rule.id, "not_applicable", reason="the plan holds no employer stock"))
        elif mine:
            rows.append(Outcome(rule.id, mine[0].status, checked=len(mine), findings=mine))
        else:
            rows.append(Outcome(rule.id, "pass", checked=1, evidence=("committee: Investment Committee",)))
    return tuple(rows)


def reports() -> list[Report]:
    return [Report(plan_file=ACME, plan_name=ACME_NAME, as_of=AS_OF, outcomes=_outcomes(ACME_FINDINGS),
                   findings=ACME_FINDINGS, plan_sha256="1" * 64, ruleset=RULESET, tool_version=VERSION,
                   waivers=(WAIVER,)),
            Report(plan_file=BETA, plan_name="Beta Plan", as_of=AS_OF, outcomes=_outcomes(BETA_FINDINGS),
                   findings=BETA_FINDINGS, plan_sha256="2" * 64, ruleset=RULESET, tool_version=VERSION)]


PROBLEMS = (Problem(Location("plans/broken.yaml", 3, 5), "YAML syntax error: a <tab> & a \"quote\" where a value goes"),)
SKIPPED = (Problem(Location("plans/pack.yaml"), "a rule pack, not a plan: skipped"),)


def _plan_report(file: str, menu: list[dict[str, Any]], findings: tuple[Finding, ...]) -> PlanReport:
    return PlanReport(plan_file=file, plan_name="Gamma Plan", as_of=AS_OF, outcomes=_outcomes(findings),
                      findings=findings, plan_sha256="3" * 64, ruleset=RULESET, tool_version=VERSION,
                      plan={"menu": menu}, plan_text=b"")


def plan_diff() -> PlanDiff:
    """Base: funds old-fund, growth, bond; an error (plan), a warning (growth), a waivable error (bond).
    New: old-fund removed, `new\\nfund` added, growth's fee raised; the plan error stays, growth's warning is
    resolved, bond's error is waived, and an info item on the new fund appears."""
    base_file, new_file = "plans/gamma.yaml", "plans/gamma-next.yaml"
    base = _plan_report(base_file, [
        {"id": "old-fund", "name": "Old Fund", "expense_ratio": 0.005},
        {"id": "growth", "name": "Growth", "expense_ratio": 0.001, "vehicle": "mutual_fund"},
        {"id": "bond", "name": "Bond", "expense_ratio": 0.0004}], (
        _finding("t.plan-error", "fail", base_file, 3),
        _finding("t.fund-warning", "fail", base_file, 12, "growth"),
        _finding("t.fund-waived", "fail", base_file, 21, "bond")))
    new = _plan_report(new_file, [
        {"id": "growth", "name": "Growth", "expense_ratio": 0.0015, "vehicle": "cit"},
        {"id": "bond", "name": "Bond", "expense_ratio": 0.0004},
        {"id": "new\nfund", "name": "New \x1b[1mFund", "expense_ratio": 0.0002}], (
        _finding("t.plan-error", "fail", new_file, 4),
        _finding("t.fund-waived", "waived", new_file, 22, "bond", waiver=WAIVER),
        _finding("t.fund-info", "fail", new_file, 30, "new\nfund")))
    return diff_reports(base, new)
