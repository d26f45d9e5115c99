"""Checks many plans, in order, in this process or in worker processes (`--jobs N`).

Each worker builds the run's ruleset once (`rulesets.worker_pool`), and its reports come back holding the
parent's own ruleset (a ruleset pickles as its recipe's digest).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import date

from compliance import api
from compliance.errors import InputError
from compliance.model import Report, RuleSet
from compliance.rulesets import worker_pool

# Plans per message to a worker. Small on purpose: a worker holds its chunk's finished reports until it sends
# them, and every live report makes the garbage collector slower (docs/performance.md, "Small chunks").
_CHUNK = 16


def check_many(plans: list[str], ruleset: RuleSet, as_of: date, jobs: int = 1) -> Iterator[Report | InputError]:
    """Reports (without the plan's data and bytes, which no check format reads) or errors, in the plans' order."""
    gc.freeze()  # the compiled packs live for the whole run: keep the collector from rescanning them per plan
    if jobs <= 1 or len(plans) < 2:
        for plan in plans:
            yield _check(plan, ruleset, as_of)
        return
    with worker_pool([ruleset], jobs) as pool:
        yield from pool.map(_check, plans, [ruleset] * len(plans), [as_of] * len(plans), chunksize=_CHUNK)


def _check(plan: str, ruleset: RuleSet, as_of: date) -> Report | InputError:
    try:
        return api.check(plan, ruleset, as_of).results()
    except InputError as exc:
        return exc
