"""Checks many plans, in order, in this process or in worker processes (`--jobs N`).

Compiled rules hold closures, which cannot cross a process boundary, so each worker compiles the packs once
(pool initializer) and sends back reports without their ruleset; the parent attaches its own.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

from compliance import api
from compliance.errors import InputError
from compliance.model import NO_RULES, Report, RuleSet

_worker_rules: RuleSet = NO_RULES  # set in each worker process by _init_worker
# Plans per message to a worker. Small on purpose: a worker holds its chunk's finished reports until it sends
# them, and every live report makes the garbage collector slower (docs/performance.md, "Small chunks").
_CHUNK = 16


def check_many(plans: list[str], packs: list[str], ruleset: RuleSet, as_of: date,
               jobs: int = 1) -> Iterator[Report | InputError]:
    """Reports (without the plan's data and bytes, which no check format reads) or errors, in the plans' order."""
    gc.freeze()  # the compiled packs live for the whole run: keep the collector from rescanning them per plan
    if jobs <= 1 or len(plans) < 2:
        for plan in plans:
            yield _check(plan, ruleset, as_of)
        return
    from concurrent.futures import ProcessPoolExecutor  # only here: a slow import for a pre-commit hook

    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(tuple(packs),)) as pool:
        for item in pool.map(_check_in_worker, plans, [as_of] * len(plans), chunksize=_CHUNK):
            yield item if isinstance(item, InputError) else replace(item, ruleset=ruleset)


def _check(plan: str, ruleset: RuleSet, as_of: date) -> Report | InputError:
    try:
        return api.check(plan, ruleset, as_of).results()
    except InputError as exc:
        return exc


def _init_worker(packs: tuple[str, ...]) -> None:
    global _worker_rules
    _worker_rules = api.load_rules(list(packs))
    gc.freeze()


def _check_in_worker(plan: str, as_of: date) -> Report | InputError:
    result = _check(plan, _worker_rules, as_of)
    if isinstance(result, InputError):
        return result
    return replace(result, ruleset=NO_RULES)  # compiled rules cannot cross a process boundary; the parent re-attaches
