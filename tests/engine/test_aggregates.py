"""Aggregates are computed once per plan (or per group) and memoised; their values are those of a plain scan."""

from __future__ import annotations

import math

import yaml
from hypothesis import given
from hypothesis import strategies as st

from compliance import api
from compliance.conditions import Context, Scope, compile_condition
from compliance.loader import load_bytes
from compliance.schemas.plan import field_catalog
from tests.helpers import TODAY

CATALOG = field_catalog()
PARAMETERS = api.load_rules(["bundled"]).parameters
SAME_CLASS = {"field": "fund.asset_class", "eq": {"field": "selected.asset_class"}}
# the grouped forms the compiler files by value, each with a `where` the group-by must agree with
WHERES = {
    "join": SAME_CLASS,
    "mirror": {"field": "selected.asset_class", "eq": {"field": "fund.asset_class"}},
    "join and filter": {"all": [{"field": "fund.vehicle", "eq": "cit"}, SAME_CLASS]},
    "two keys": {"all": [SAME_CLASS, {"field": "fund.share_class", "eq": {"field": "selected.share_class"}}]},
    "number key": {"field": "fund.expense_ratio", "eq": {"field": "selected.expense_ratio"}},
    "no selected": {"field": "fund.vehicle", "eq": "cit"},
    "scanned per fund": {"field": "fund.expense_ratio", "lt": {"field": "selected.expense_ratio"}},
}


def holds(where_name: str, fund: dict, selected: dict) -> bool:
    """The `where` conditions above, written out by hand: `eq` never holds for a missing value or NaN."""
    def eq(a: object, b: object) -> bool:
        return a is not None and b is not None and a == b

    return {
        "join": lambda: eq(fund.get("asset_class"), selected.get("asset_class")),
        "mirror": lambda: eq(fund.get("asset_class"), selected.get("asset_class")),
        "join and filter": lambda: fund.get("vehicle") == "cit" and eq(fund.get("asset_class"), selected.get("asset_class")),
        "two keys": lambda: (eq(fund.get("asset_class"), selected.get("asset_class"))
                             and eq(fund.get("share_class"), selected.get("share_class"))),
        "number key": lambda: eq(fund.get("expense_ratio"), selected.get("expense_ratio")),
        "no selected": lambda: fund.get("vehicle") == "cit",
        "scanned per fund": lambda: (fund.get("expense_ratio") is not None and selected.get("expense_ratio") is not None
                                     and fund["expense_ratio"] < selected["expense_ratio"]),
    }[where_name]()


def expected(subject: str, funds: list[dict]) -> object:
    if subject == "count":
        return len(funds)
    if subject == "distinct":
        return len({f.get("asset_class") for f in funds} - {None})
    values = [f["expense_ratio"] for f in funds if f.get("expense_ratio") is not None]
    return {"sum": sum, "min": lambda v: min(v) if v else None, "max": lambda v: max(v) if v else None}[subject](values)


def condition(subject: str, where: dict, value: object) -> dict:
    head = ({"count": "funds", "distinct": "fund.asset_class"} if subject == "distinct"
            else {"count": "funds"} if subject == "count" else {subject: "fund.expense_ratio"})
    return {**head, "where": where, **({"exists": False} if value is None else {"eq": value})}


def compiled(node: dict):  # type: ignore[no-untyped-def]
    doc = load_bytes(yaml.safe_dump(node).encode(), "condition.yaml")
    return compile_condition(doc.data, (), Context(doc, CATALOG, PARAMETERS, fund_scope=True))


FUNDS = st.fixed_dictionaries({
    "asset_class": st.sampled_from(["us_large_cap_equity", "intermediate_bond", "stable_value", None]),
    "vehicle": st.sampled_from(["cit", "mutual_fund"]),
    "share_class": st.sampled_from(["Inst", "R6", None]),
    "expense_ratio": st.one_of(st.none(), st.just(math.nan), st.sampled_from([0.0002, 0.0005, 0.001, 0.0101])),
})


@given(menu=st.lists(FUNDS, max_size=12), where_name=st.sampled_from(sorted(WHERES)),
       subject=st.sampled_from(["count", "distinct", "sum", "min", "max"]), shared=st.booleans())
def test_an_aggregate_has_the_value_a_scan_of_the_menu_gives(menu, where_name, subject, shared):
    """Each fund's aggregate, with one memo shared across the plan's funds or none, equals the hand-made scan."""
    plan = {"menu": menu}
    memo: dict | None = {} if shared else None
    for selected in menu:
        value = expected(subject, [f for f in menu if holds(where_name, f, selected)])
        if isinstance(value, float) and math.isnan(value):
            continue  # NaN equals nothing, so no condition can name it; the comparisons below would mean nothing
        predicate = compiled(condition(subject, WHERES[where_name], value))
        assert predicate(Scope(plan, TODAY, selected, memo=memo)), (selected, value)


class CountedMenu(list):
    """A menu that counts how often it is scanned from the start."""

    scans = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.scans += 1
        return super().__iter__()


def test_one_plan_scans_its_menu_once_per_aggregate_not_once_per_fund():
    """With a memo shared by the plan's funds, a per-class count scans the menu once for all 500 funds; a `where`
    that is not an equality with the rule's own fund still scans it for each fund, as written."""
    classes = ["us_large_cap_equity", "intermediate_bond", "stable_value", None]
    funds = [{"asset_class": classes[i % 4], "vehicle": "cit", "expense_ratio": i / 1e5} for i in range(500)]
    scans = {}
    for name in ("join", "join and filter", "two keys", "no selected", "scanned per fund"):
        menu = CountedMenu(funds)
        predicate = compiled({"count": "funds", "where": WHERES[name], "ge": 0})
        memo: dict = {}
        assert all(predicate(Scope({"menu": menu}, TODAY, fund, memo=memo)) for fund in funds)
        scans[name] = menu.scans
    assert scans == {"join": 1, "join and filter": 1, "two keys": 1, "no selected": 1, "scanned per fund": 500}
