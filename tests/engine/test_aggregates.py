"""Aggregates are computed once per plan (or per group) and memoised; their values are those of a plain scan."""

from __future__ import annotations

import math

import yaml
from hypothesis import given
from hypothesis import strategies as st

from compliance import api
from compliance.conditions import Context, EvalScope, compile_condition
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


def truth(where_name: str, fund: dict, selected: dict) -> bool | None:
    """The `where` conditions above, written out by hand in Kleene's logic: a comparison with a missing value is
    unknown (None); NaN equals nothing."""
    def eq(a: object, b: object) -> bool | None:
        return None if a is None or b is None else a == b

    def both(a: bool | None, b: bool | None) -> bool | None:
        return False if a is False or b is False else None if a is None or b is None else True

    ac, sac = fund.get("asset_class"), selected.get("asset_class")
    er, ser = fund.get("expense_ratio"), selected.get("expense_ratio")
    return {
        "join": lambda: eq(ac, sac),
        "mirror": lambda: eq(sac, ac),
        "join and filter": lambda: both(fund.get("vehicle") == "cit", eq(ac, sac)),
        "two keys": lambda: both(eq(ac, sac), eq(fund.get("share_class"), selected.get("share_class"))),
        "number key": lambda: eq(er, ser),
        "no selected": lambda: fund.get("vehicle") == "cit",
        "scanned per fund": lambda: None if er is None or ser is None else er < ser,
    }[where_name]()


def expected(subject: str, members: list[dict], maybe: int) -> tuple[object, object]:
    """(at least, at most) of the aggregate over the funds that hold and the `maybe` ones that may; equal when
    nothing is unknown (None: unbounded, or no value at all for min and max of no funds)."""
    if subject == "count":
        return len(members), len(members) + maybe
    if subject == "distinct":
        known = {f["asset_class"] for f in members if f.get("asset_class") is not None}
        open_ = maybe + sum(1 for f in members if f.get("asset_class") is None)
        return len(known), len(known) + open_
    values = [f["expense_ratio"] for f in members if f.get("expense_ratio") is not None]
    unknown = maybe + len(members) - len(values)
    if subject == "sum":
        return (sum(values), sum(values)) if not unknown else (None, None)
    best = (min if subject == "min" else max)(values) if values else None
    if not unknown:
        return best, best
    return (None, best) if subject == "min" else (best, None)


def condition(subject: str, where: dict, op: str, value: object) -> dict:
    head = ({"count": "funds", "distinct": "fund.asset_class"} if subject == "distinct"
            else {"count": "funds"} if subject == "count" else {subject: "fund.expense_ratio"})
    return {**head, "where": where, **({"exists": False} if value is None else {op: value})}


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
    """Each fund's aggregate, with one cache shared across the plan's funds or none, lies where a hand-made
    three-valued scan puts it: equal to it when nothing is unknown, and never outside its bounds."""
    plan = {"menu": menu}
    cache: dict | None = {} if shared else None
    for selected in menu:
        verdicts = [truth(where_name, f, selected) for f in menu]
        members = [f for f, v in zip(menu, verdicts, strict=True) if v is True]
        low, high = expected(subject, members, verdicts.count(None))
        if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
            continue  # NaN equals nothing, so no condition can name it; the comparisons below would mean nothing
        nothing = not members and not verdicts.count(None)  # min and max of no funds: no value, and nothing unknown
        if (low == high and low is not None) or (subject in ("min", "max") and nothing):
            assert compiled(condition(subject, WHERES[where_name], "eq", low))(
                EvalScope(plan, TODAY, selected, cache=cache)) is True, (selected, low)
            continue
        if low is not None:
            assert compiled(condition(subject, WHERES[where_name], "ge", low))(
                EvalScope(plan, TODAY, selected, cache=cache)) is True, (selected, low)
            assert compiled(condition(subject, WHERES[where_name], "lt", low))(
                EvalScope(plan, TODAY, selected, cache=cache)) is False, (selected, low)
        if high is not None:
            assert compiled(condition(subject, WHERES[where_name], "le", high))(
                EvalScope(plan, TODAY, selected, cache=cache)) is True, (selected, high)
        scope = EvalScope(plan, TODAY, selected, cache=cache)
        probe = (low if low is not None else high) if subject not in ("sum",) else 0.0001
        if probe is not None and low != high:  # an open span cannot settle equality with a value inside it
            inside = compiled(condition(subject, WHERES[where_name], "eq", probe))(scope)
            assert inside is None and scope.missing, (selected, low, high)


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
    funds = [{"asset_class": classes[i % 4], "vehicle": "cit", "expense_ratio": i / 1e5, "share_class": "I"}
             for i in range(500)]
    scans = {}
    for name in ("join", "join and filter", "two keys", "no selected", "scanned per fund"):
        menu = CountedMenu(funds)
        predicate = compiled({"count": "funds", "where": WHERES[name], "ge": 0})
        cache: dict = {}
        assert all(predicate(EvalScope({"menu": menu}, TODAY, fund, cache=cache)) is not False for fund in funds)
        scans[name] = menu.scans
    # a fund that does not record its own asset class (one in four) may share any group: no scan either
    assert scans == {"join": 1, "join and filter": 1, "two keys": 1, "no selected": 1, "scanned per fund": 500}


def test_a_per_fund_scan_past_the_plan_budget_is_a_located_error(tmp_path, monkeypatch, run_cli):
    """Issue 27 item 15: a sponsor rule whose `where` compares each fund with every other by inequality scans the
    menu once per fund. Past the budget (lowered here so 300 funds cross it: 90,000 scopes against 20,000) the run
    stops with a located error at the rule, exit 2, instead of running for hours; an indexed equality join of the
    same plan stays within it."""
    import compliance.conditions as conditions
    from tests.helpers import write_pack, write_plan

    monkeypatch.setattr(conditions, "MAX_SCANS", 20_000)
    funds = [{"id": f"f{i}", "name": f"F{i}", "vehicle": "cit", "asset_class": "us_large_cap_equity",
              "expense_ratio": 0.0001 * (i % 50 + 1)} for i in range(300)]
    plan = write_plan(tmp_path, {"default_investment": None, "menu": funds})
    body = """\
rules:
  - id: test.scan
    title: t
    headline: h
    checks: practice
    severity: info
    scope: fund
    require: {{count: funds, where: {{field: fund.expense_ratio, {op}: {{field: selected.expense_ratio}}}}, ge: 0}}
    message: m
    remediation: r
    citations: [{{source: erisa-404a, pinpoint: "ERISA 404(a)"}}]
"""
    pack = write_pack(tmp_path, body.format(op="lt"))
    result = run_cli("check", str(plan), "--rules", "bundled", "--rules", str(pack), "--as-of", "2026-11-22")
    assert result.exit_code == 2
    assert f"{pack}:" in result.stderr and "test.scan" in result.stderr and "20,000 comparisons" in result.stderr
    assert "Traceback" not in result.stderr
    pack.write_text(pack.read_text().replace("lt: {field: selected", "eq: {field: selected"))
    assert run_cli("check", str(plan), "--rules", "bundled", "--rules", str(pack), "--as-of", "2026-11-22").exit_code != 2


def test_a_join_on_a_group_of_fields_is_compared_as_written():
    """A join value that is a group of fields (`fund.style`, a mapping) cannot key the groups: on the fund side it
    gets a group of its own, on the selected side the fund is compared one by one. Both give what a scan gives
    (the `any` below always holds, and a `where` naming `selected.` in an `any` is scanned fund by fund)."""
    menu = [{"id": "b", "name": "B", "style": {"size": "large"}},
            {"id": "c", "name": "C", "asset_class": "us_large_cap_equity"},
            {"id": "a", "name": "A", "asset_class": "us_large_cap_equity", "style": {"size": "large"}}]
    plan = {"menu": menu, "plan": {}}
    joins = {
        "group on the fund side": [{"field": "fund.asset_class", "eq": {"field": "selected.asset_class"}},
                                   {"field": "selected.style.size", "eq": {"field": "fund.style"}}],
        "group on the selected side": [{"field": "fund.asset_class", "eq": {"field": "selected.style"}},
                                       {"field": "fund.management", "eq": {"field": "selected.management"}}],
    }
    for name, parts in joins.items():
        grouped = compiled({"count": "funds", "where": {"all": parts}, "le": 0})
        always = {"any": [{"field": "fund.name", "eq": {"field": "selected.name"}},
                          {"field": "fund.name", "ne": {"field": "selected.name"}}]}
        scanned = compiled({"count": "funds", "where": {"all": [*parts, always]}, "le": 0})
        for fund in menu:
            cache: dict = {}
            got = grouped(EvalScope(plan, TODAY, fund, cache=cache))
            want = scanned(EvalScope(plan, TODAY, fund, cache={}))
            assert got == want, (name, fund["id"], got, want)


def test_a_group_of_fields_in_one_fund_does_not_turn_a_large_join_into_a_scan():
    """One option whose join value is a mapping once sent the whole plan to the fund-by-fund scan, which a menu of
    1,500 options exceeds (MAX_SCANS); it is now a group of its own and the rest stay indexed."""
    menu = [{"id": "b", "name": "B", "style": {"size": "large"}}] + [
        {"id": f"f{i}", "name": f"F{i}", "asset_class": "us_large_cap_equity"} for i in range(1500)]
    plan = {"menu": menu, "plan": {}}
    join = compiled({"count": "funds", "where": {"all": [
        {"field": "fund.asset_class", "eq": {"field": "selected.asset_class"}},
        {"field": "selected.style.size", "eq": {"field": "fund.style"}}]}, "le": 0})
    cache: dict = {}
    verdicts = {join(EvalScope(plan, TODAY, fund, cache=cache)) for fund in menu}
    assert verdicts <= {True, False, None}
