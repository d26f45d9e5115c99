"""Runs the test cases that pack authors write beside each rule (like `conftest verify` or `opa test`).

Each case patches a clean base plan (rules/testing/base-plan.yaml): `plan` is merged into it (mappings merge,
lists replace, null deletes a key) and each entry of `funds` is merged onto the base fund, or onto the menu
fund with the same id. The rule alone is then evaluated and its checklist status compared with `expect`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

import yaml

from compliance.engine import evaluate
from compliance.errors import InputError, Location
from compliance.loader import load_bytes, load_file
from compliance.model import Rule, RuleSet, RuleTest
from compliance.packs import BUNDLED_RULES
from compliance.schemas.plan import validate_plan
from compliance.waivers import read_waivers

BASE_PLAN = BUNDLED_RULES / "testing" / "base-plan.yaml"


@dataclass(frozen=True)
class TestResult:
    rule_id: str
    name: str
    expected: str
    actual: str
    location: Location

    @property
    def passed(self) -> bool:
        return self.expected == self.actual


def load_base() -> tuple[dict[Any, Any], dict[Any, Any]]:
    data = load_file(BASE_PLAN).data
    return data["plan"], data["fund"]


def build_plan(case: RuleTest, base_plan: dict[Any, Any], base_fund: dict[Any, Any]) -> dict[Any, Any]:
    plan = merge(copy.deepcopy(base_plan), case.plan)
    for patch in case.funds:
        existing = next((f for f in plan["menu"] if f["id"] == patch.get("id")), None)
        if existing is not None:
            merge(existing, patch)
        else:
            plan["menu"].append(merge(copy.deepcopy(base_fund), patch))
    return plan


def merge(target: dict[Any, Any], patch: dict[Any, Any]) -> dict[Any, Any]:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def run_case(rule: Rule, case: RuleTest, ruleset: RuleSet, base: tuple[dict[Any, Any], dict[Any, Any]]) -> TestResult:
    if case.as_of is None:  # evaluated on the day it runs, a case would pass one month and fail the next
        return TestResult(rule.id, case.name, case.expect, "no review date (give the case an as_of, or the pack a "
                          "test_as_of)", case.location)
    plan = build_plan(case, *base)
    doc = load_bytes(yaml.safe_dump(plan, sort_keys=False).encode(), f"{rule.id} test {case.name!r}")
    try:
        data = validate_plan(doc)
    except InputError as exc:
        return TestResult(rule.id, case.name, case.expect, f"an invalid test plan ({exc.problems[0].message})",
                          case.location)
    enabled = rule._replace(disabled_reason=None)  # a sponsor may switch a rule off; its own tests still run
    outcomes, _ = evaluate(replace(ruleset, rules=(enabled,)), data, doc, case.as_of, read_waivers(data, doc))
    return TestResult(rule.id, case.name, case.expect, outcomes[0].status, case.location)


def run_rule_tests(ruleset: RuleSet) -> list[TestResult]:
    base = load_base()
    return [run_case(rule, case, ruleset, base) for rule in ruleset.rules for case in rule.tests]
