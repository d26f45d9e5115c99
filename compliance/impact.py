"""What a change in the law does to a book of plans: each plan read once, judged before and after, compared.

"Before" is the law as the packs record it; "after" is the same law under a scenario (compliance.scenario), or
the law on a later date. A plan's findings are compared item by item (rule and option, before consolidation of
watch items), so a watch item that becomes a warning shows as a change of severity on the options it concerns.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from compliance import api
from compliance.errors import InputError, Problem
from compliance.model import Fact, Finding, Outcome, RuleSet, Severity, worst_first
from compliance.rulesets import with_scenario, worker_pool
from compliance.scenario import Scenario

Shift = Literal["appears", "changes", "resolves"]
SHIFTS: tuple[Shift, ...] = ("appears", "changes", "resolves")


@dataclass(frozen=True)
class Move:
    """One checklist item that is not the same before and after: it appears, changes severity or status, or
    resolves."""

    shift: Shift
    before: Finding | None
    after: Finding | None

    @property
    def finding(self) -> Finding:
        return self.after or self.before  # type: ignore[return-value]

    @property
    def rank(self) -> int:
        return self.finding.severity.rank


@dataclass(frozen=True)
class PlanImpact:
    plan_file: str
    plan_name: str
    recordkeeper: str | None
    moves: tuple[Move, ...]  # worst first
    before: dict[str, int]  # the plan's counts (Report.counts) before and after
    after: dict[str, int]

    @property
    def affected(self) -> bool:
        return bool(self.moves)

    def worst(self) -> str | None:
        return self.moves[0].finding.severity if self.moves else None

    def facts(self) -> dict[str, tuple[Fact, list[str]]]:
        """The facts to record that would settle the items left undetermined after the change, with their rules."""
        out: dict[str, tuple[Fact, list[str]]] = {}
        for move in self.moves:
            if move.after is not None and move.after.status == "undetermined":
                for fact in move.after.facts:
                    rules = out.setdefault(fact.path, (fact, []))[1]
                    if move.after.rule_id not in rules:
                        rules.append(move.after.rule_id)
        return out


@dataclass(frozen=True)
class Sides:
    """The two postures compared: rulesets and dates, and the scenario when there is one."""

    before: RuleSet
    after: RuleSet
    before_as_of: date
    after_as_of: date
    scenario: Scenario | None = None


def sides(ruleset: RuleSet, as_of: date, scenario: Scenario | None = None, to: date | None = None) -> Sides:
    if scenario is not None:
        return Sides(ruleset, with_scenario(ruleset, scenario), as_of, as_of, scenario)
    return Sides(ruleset, ruleset, as_of, to or as_of)


def compare_plan(path: str, both: Sides, text: bytes | None = None) -> PlanImpact:
    """Read the plan once (its bytes `text`, when given, named `path`), judge it on both sides, list what moved."""
    read = api.read_plan(path, text)
    before = api.judge(read, both.before, both.before_as_of)
    after = api.judge(read, both.after, both.after_as_of)
    old, new = _items(before.outcomes), _items(after.outcomes)
    moves = [Move("appears", None, f) for k, f in new.items() if k not in old]
    moves += [Move("changes", old[k], f) for k, f in new.items()
              if k in old and (old[k].severity, old[k].status) != (f.severity, f.status)]
    moves += [Move("resolves", f, None) for k, f in old.items() if k not in new]
    moves.sort(key=lambda m: (-m.rank, SHIFTS.index(m.shift), *worst_first(m.finding)[1:]))
    return PlanImpact(before.plan_file, before.plan_name, read.recordkeeper, tuple(moves), before.counts(),
                      after.counts())


def _items(outcomes: tuple[Outcome, ...]) -> dict[tuple[str, str | None, int], Finding]:
    """Every finding of the checklist (per rule and option, watch items not consolidated), keyed stably."""
    out: dict[tuple[str, str | None, int], Finding] = {}
    for outcome in outcomes:
        for f in outcome.findings:
            n = 0
            while (f.rule_id, f.fund_id, n) in out:
                n += 1
            out[(f.rule_id, f.fund_id, n)] = f
    return out


def compare_many(plans: list[str], both: Sides, jobs: int = 1) -> Iterator[PlanImpact | InputError]:
    """Each plan's impact, or its input error, in the plans' order; in worker processes with `jobs` > 1."""
    gc.freeze()
    if jobs <= 1 or len(plans) < 2:
        for plan in plans:
            yield _compare(plan, both)
        return
    with worker_pool([both.before, both.after], jobs) as pool:
        yield from pool.map(_compare, plans, [both] * len(plans), chunksize=16)


def _compare(plan: str, both: Sides) -> PlanImpact | InputError:
    try:
        return compare_plan(plan, both)
    except InputError as exc:
        return exc


@dataclass
class RuleTally:
    rule_id: str
    title: str
    plans: set[str] = field(default_factory=set)
    options: set[tuple[str, str]] = field(default_factory=set)
    shifts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SHIFTS, 0))
    worst: int = 0


@dataclass
class Book:
    """A whole impact run: every plan's impact (affected first, worst first), per-rule tallies, input errors."""

    sides: Sides
    plans: list[PlanImpact] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rules: dict[str, RuleTally] = field(default_factory=dict)

    @classmethod
    def collect(cls, both: Sides, results: Iterable[PlanImpact | InputError]) -> Book:
        book = cls(both)
        for item in results:
            if isinstance(item, InputError):
                book.problems += item.problems
                continue
            book.plans.append(item)
            for move in item.moves:
                f = move.finding
                tally = book.rules.setdefault(f.rule_id, RuleTally(f.rule_id, f.headline or f.title))
                tally.plans.add(item.plan_file)
                if f.fund_id:
                    tally.options.add((item.plan_file, f.fund_id))
                tally.shifts[move.shift] += 1
                tally.worst = max(tally.worst, move.rank)
        book.plans.sort(key=lambda p: (not p.affected, -(p.moves[0].rank if p.moves else 0), -len(p.moves),
                                       p.plan_file))
        return book

    @property
    def affected(self) -> list[PlanImpact]:
        return [p for p in self.plans if p.affected]

    def tallies(self) -> list[RuleTally]:
        return sorted(self.rules.values(), key=lambda t: (-t.worst, -len(t.plans), -len(t.options), t.rule_id))

    def totals(self) -> dict[str, int]:
        out = dict.fromkeys(SHIFTS, 0) | {"new_" + s: 0 for s in ("error", "warning", "info")} | {"facts_to_record": 0}
        for plan in self.plans:
            for move in plan.moves:
                out[move.shift] += 1
                if _newly_failing(move):
                    out["new_" + move.after.severity] += 1  # type: ignore[union-attr]
            out["facts_to_record"] += len(plan.facts())
        return out

    def fails(self, fail_on: str) -> bool:
        """Whether a finding that appears or changes fails at `fail_on` or above, as `check --fail-on` judges one
        (a fact to record never fails a run)."""
        if fail_on == "never":
            return False
        return any(m.after is not None and m.shift != "resolves" and m.after.status == "fail"
                   and m.after.severity >= Severity(fail_on)
                   for p in self.plans for m in p.moves)


def _newly_failing(move: Move) -> bool:
    return move.after is not None and move.after.status == "fail" and move.after.severity != "watch"


def groups(plan: PlanImpact) -> list[tuple[Move, list[str]]]:
    """A plan's moves grouped by shift, rule, and severity and status before and after, naming the options each
    concerns ("the plan" for a plan-wide item): one line per check, not per option."""
    out: dict[tuple[Any, ...], tuple[Move, list[str]]] = {}
    for move in plan.moves:
        key = (move.shift, move.finding.rule_id, _state(move.before), _state(move.after))
        out.setdefault(key, (move, []))[1].append(move.finding.fund_id or "the plan")
    return list(out.values())


def _state(f: Finding | None) -> tuple[str, str] | None:
    return (f.severity, f.status) if f else None
