"""Checks many plans, in order, in this process or in worker processes (`--jobs N`).

Each worker builds the run's ruleset once (`rulesets.worker_pool`), and its reports come back holding the
parent's own ruleset (a ruleset pickles as its recipe's digest).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

from compliance import api
from compliance.collector import collector_paused
from compliance.errors import InputError
from compliance.model import Outcome, Report, RuleSet
from compliance.report.base import Checklist
from compliance.rulesets import worker_pool

# Plans per message to a worker. Small on purpose: a worker holds its chunk's finished reports until it sends
# them, and every live report makes the garbage collector slower (docs/performance.md, "Small chunks").
_CHUNK = 16


def check_many(plans: list[str], ruleset: RuleSet, as_of: date, jobs: int = 1,
               checklist: Checklist = "rows") -> Iterator[Report | InputError]:
    """Reports (without the plan's data and bytes, which no check format reads) or errors, in the plans' order.

    A worker sends back only as much of each checklist as the run's formats read (`checklist`, the most any of
    them declares): the per-option rows were most of what a report weighed on its way back."""
    gc.freeze()  # the compiled packs live for the whole run: keep the collector from rescanning them per plan
    if jobs <= 1 or len(plans) < 2:
        for plan in plans:
            yield _check(plan, ruleset, as_of)
        return
    with worker_pool([ruleset], jobs) as pool:
        n = len(plans)
        yield from pool.map(_check, plans, [ruleset] * n, [as_of] * n, [checklist] * n, chunksize=_CHUNK)


def _check(plan: str, ruleset: RuleSet, as_of: date, checklist: Checklist = "rows") -> Report | InputError:
    try:
        with collector_paused():  # nothing here makes a cycle; the plan's objects are freed before the collector runs
            return trimmed(api.check(plan, ruleset, as_of).results(), checklist)
    except InputError as exc:
        return exc


def trimmed(report: Report, checklist: Checklist) -> Report:
    """The report with only as much of its checklist as a format that reads `checklist` needs."""
    if checklist == "rows":
        return report
    if checklist == "none":
        return replace(report, outcomes=())
    return replace(report, outcomes=tuple(Outcome(o.rule_id, o.status) for o in report.outcomes))
