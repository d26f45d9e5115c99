"""A document with very many problems is refused early: at most MAX_FAILING problems listed, then a count.

Found by the round-3 attack (issue 27, item 14): Cerberus's ErrorTree re-sorts a list on every error it adds,
so a menu of 1,000 empty funds took 9 s to refuse, 10,000 took 540 s, and 1.9 million (5.7 MB) ran for hours.
The tests assert on the work Cerberus is given, not on time.
"""

from __future__ import annotations

import re
import time

import pytest

from compliance.errors import InputError
from compliance.loader import load_bytes
from compliance.schemas.plan import FUND_SCHEMA, PLAN_SCHEMA, PLAN_VALIDATOR, validate_plan
from compliance.schemas.validator import MAX_FAILING, leaf_errors

pytestmark = pytest.mark.slow

LOCATED = re.compile(r"[^:]+:\d+:\d+: ")
# what an empty fund and a plan section with only a name lack: the plan format's required fields
PLAN_REQUIRED = sum(1 for name, e in PLAN_SCHEMA["plan"]["schema"].items() if e.get("required") and name != "name")
FUND_REQUIRED = sum(1 for e in FUND_SCHEMA.values() if e.get("required"))


def empty_funds(count: int) -> bytes:
    return b"schema_version: 1\nplan: {name: x}\nmenu:\n" + b"  - {}\n" * count


def test_a_plan_of_many_empty_funds_lists_the_first_problems_and_counts_the_rest(run_cli, tmp_path):
    plan = tmp_path / "empty.yaml"
    plan.write_bytes(empty_funds(300))
    result = run_cli("check", str(plan))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == MAX_FAILING + 1
    assert all(LOCATED.match(line) for line in lines)
    assert lines[0].endswith("empty.yaml:4:5: menu[0].id: required field is missing")
    # the fields missing in `plan` and in each fund Cerberus saw; each fund left out has at least one problem
    explained = PLAN_REQUIRED + FUND_REQUIRED * MAX_FAILING
    more = explained - MAX_FAILING + 300 - MAX_FAILING
    assert re.search(rf"empty\.yaml:\d+:5: at least {more:,} more problems from here on are not listed; "
                     rf"fix the ones above first$", lines[-1]), lines[-1]
    # Cerberus explained the first MAX_FAILING funds only
    assert len(leaf_errors(PLAN_VALIDATOR.cerberus._errors)) == explained


def test_twenty_thousand_empty_funds_give_cerberus_no_more_work_than_a_hundred():
    doc = load_bytes(empty_funds(20_000), "empty.yaml")
    start = time.perf_counter()
    try:
        validate_plan(doc)
    except InputError as exc:
        problems = exc.problems
    print(f"20,000 empty funds refused in {time.perf_counter() - start:.2f} s")
    explained = PLAN_REQUIRED + FUND_REQUIRED * MAX_FAILING
    assert len(leaf_errors(PLAN_VALIDATOR.cerberus._errors)) == explained
    assert len(problems) == MAX_FAILING + 1
    more = explained - MAX_FAILING + 20_000 - MAX_FAILING
    assert re.fullmatch(rf"empty\.yaml:\d+:5: at least {more:,} more problems from here on are not listed; "
                        rf"fix the ones above first", str(problems[-1])), str(problems[-1])
