"""The condition language: declarative YAML trees compiled once into plain Python closures.

A condition is `all`/`any`/`not`, or a leaf with one subject (`field`, `count`, `sum`, `min`, `max`) and one
operator (`eq`, `ne`, `lt`, `le`, `gt`, `ge`, `in`, `not_in`, `exists`, `matches`, `within_days`,
`within_months`). `count` may count `distinct` values of a fund field; an operand may add basis points
(`{field: PATH, plus_bp: N or {param: NAME}}`), so a materiality threshold stays a tunable parameter.
Every field path is checked against the plan format when the pack loads, so a typo is a load error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from compliance.errors import InputError, Location, Problem, format_path
from compliance.loader import Document
from compliance.schemas.messages import did_you_mean

Predicate = Callable[["Scope"], bool]

SUBJECTS = ("field", "count", "sum", "min", "max")
OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists", "matches", "within_days",
             "within_months")
ROOTS = ("plan", "governance", "brokerage_window", "default_investment")
MAX_PATTERN = 200
MAX_MATCH_TEXT = 2_000
MAX_DAYS = 36_600  # a century: longer windows are typos, and dates before year 1 do not exist
MAX_MONTHS = 1_200


class Scope:
    """What a condition sees while it runs: the plan, the fund under test, and the as-of date.

    `memo` is shared by every scope of one plan's evaluation: aggregates keep there what they computed over the
    menu, so a rule run for each of n funds does not rescan the n funds each time.
    """

    __slots__ = ("plan", "fund", "selected", "as_of", "memo")

    def __init__(self, plan: dict, as_of: date, fund: dict | None = None, selected: dict | None = None,
                 memo: dict | None = None):
        self.plan, self.as_of, self.fund, self.selected, self.memo = plan, as_of, fund, selected, memo


def always(_: Scope) -> bool:
    return True


@dataclass(frozen=True)
class Context:
    """Compile-time facts: the pack file (for locations), the plan's fields, parameters, and where we are."""

    doc: Document
    catalog: dict[str, str]
    parameters: dict[str, Any]
    fund_scope: bool
    in_where: bool = False
    # where each parameter value was last set, as (location, field path), keyed by name or "name.entry"
    parameter_origins: dict[str, tuple[Location, str]] = field(default_factory=dict)

    def error(self, at: tuple, message: str) -> InputError:
        return InputError(Problem(self.doc.locate(at), f"{format_path(at)}: {message}"))

    def parameter_error(self, at: tuple, key: str, value: Any, needs: str) -> InputError:
        """A parameter value unfit for a rule, reported where the value was set (often a sponsor's override)."""
        origin = self.parameter_origins.get(key)
        if origin is None:  # a context built without packs (the fuzz harness): report it at the use
            return self.error(at, f"parameter {key!r} is {value!r}; it must be {needs} here")
        use = f"{format_path(at)} in {self.doc.file}:{self.doc.locate(at).line}"
        return InputError(Problem(origin[0], f"{origin[1]}: {value!r} is used by {use}, which needs {needs}"))


def compile_condition(node: Any, at: tuple, ctx: Context) -> Predicate:
    if not isinstance(node, dict) or not node:
        raise ctx.error(at, "a condition must be a mapping such as {field: fund.qdia, eq: true}")
    for combinator in ("all", "any"):
        if combinator in node:
            if len(node) != 1 or not isinstance(node[combinator], list) or not node[combinator]:
                raise ctx.error(at, f"'{combinator}' takes a non-empty list of conditions and nothing beside it")
            parts = tuple(compile_condition(c, at + (combinator, i), ctx) for i, c in enumerate(node[combinator]))
            return _all_of(parts) if combinator == "all" else _any_of(parts)
    if "not" in node:
        if len(node) != 1:
            raise ctx.error(at, "'not' takes one condition and nothing beside it")
        inner = compile_condition(node["not"], at + ("not",), ctx)
        return lambda s: not inner(s)
    return _compile_leaf(node, at, ctx)


def needed_fields(node: Any, negated: bool = False) -> tuple[str, ...]:
    """The field paths a compiled (so well-formed) condition needs recorded: those whose absence alone makes a
    comparison count against it. A finding names the missing ones, so "not recorded" says what to fill in.
    Aggregates skip missing values, so they need none."""
    if "all" in node or "any" in node:
        return tuple(dict.fromkeys(p for c in node.get("all") or node["any"] for p in needed_fields(c, negated)))
    if "not" in node:
        return needed_fields(node["not"], not negated)
    if "field" not in node:
        return ()
    op = next(k for k in node if k in OPERATORS)
    holds_when_missing = op in ("ne", "not_in") or (op == "exists" and node[op] is False)
    if holds_when_missing != negated:
        return ()
    operand = node[op].get("field") if isinstance(node[op], dict) else None
    return tuple(p for p in (node["field"], operand) if isinstance(p, str))


def _all_of(parts: tuple[Predicate, ...]) -> Predicate:
    """Conjunction as a balanced tree of `and`s: no generator or loop per call, short-circuit kept."""
    if len(parts) == 1:
        return parts[0]
    left, right = _all_of(parts[: len(parts) // 2]), _all_of(parts[len(parts) // 2:])
    return lambda s: left(s) and right(s)


def _any_of(parts: tuple[Predicate, ...]) -> Predicate:
    """Disjunction, built as `_all_of` is."""
    if len(parts) == 1:
        return parts[0]
    left, right = _any_of(parts[: len(parts) // 2]), _any_of(parts[len(parts) // 2:])
    return lambda s: left(s) or right(s)


def _compile_leaf(node: dict, at: tuple, ctx: Context) -> Predicate:
    subjects = [k for k in node if k in SUBJECTS]
    operators = [k for k in node if k in OPERATORS]
    unknown = [k for k in node if k not in SUBJECTS and k not in OPERATORS and k not in ("where", "distinct")]
    if unknown:
        raise ctx.error(at + (unknown[0],), f"unknown operator {unknown[0]!r}; operators are {', '.join(OPERATORS)}; "
                                            f"combinators are all, any, not")
    if len(subjects) != 1:
        raise ctx.error(at, f"a comparison needs exactly one of {', '.join(SUBJECTS)} (found {len(subjects)})")
    if len(operators) != 1:
        raise ctx.error(at, f"a comparison needs exactly one operator of {', '.join(OPERATORS)} (found {len(operators)})")
    subject, op = subjects[0], operators[0]
    get, kind = _compile_subject(node, subject, at, ctx)
    return _compile_operator(op, node[op], get, kind, at + (op,), ctx)


def _compile_subject(node: dict, subject: str, at: tuple, ctx: Context) -> tuple[Callable[[Scope], Any], str]:
    if subject == "field":
        for extra in ("where", "distinct"):
            if extra in node:
                raise ctx.error(at + (extra,), f"'{extra}' belongs to an aggregate, not to field")
        return _compile_path(node["field"], at + ("field",), ctx)
    if ctx.in_where:
        raise ctx.error(at + (subject,), "aggregates cannot be nested inside another aggregate's 'where'")
    inner = replace(ctx, in_where=True)
    where = compile_condition(node["where"], at + ("where",), inner) if "where" in node else always
    if subject == "count":
        if node["count"] != "funds":
            raise ctx.error(at + ("count",), "write count: funds (and filter them with where)")
        if "distinct" in node:
            if not isinstance(node["distinct"], str) or not node["distinct"].startswith("fund."):
                raise ctx.error(at + ("distinct",), "distinct names a fund field, e.g. distinct: fund.asset_class")
            key, _ = _compile_path(node["distinct"], at + ("distinct",), inner)
            return _aggregate(node, at, inner, where, lambda s, funds: len(
                {key(Scope(s.plan, s.as_of, fund)) for fund in funds} - {None})), "integer"
        return _aggregate(node, at, inner, where, lambda s, funds: len(funds)), "integer"
    if "distinct" in node:
        raise ctx.error(at + ("distinct",), "distinct belongs to count")
    get, kind = _compile_path(node[subject], at + (subject,), inner)
    if not node[subject].startswith("fund."):
        raise ctx.error(at + (subject,), f"{subject} adds up a fund field, e.g. {subject}: fund.expense_ratio")
    if kind not in ("number", "integer"):
        raise ctx.error(at + (subject,), f"{node[subject]} is {kind}, not a number; {subject} needs numbers")
    reduce = {"sum": sum, "min": lambda v: min(v) if v else None, "max": lambda v: max(v) if v else None}[subject]

    def total(s: Scope, funds: list[dict]) -> Any:
        values = (get(Scope(s.plan, s.as_of, fund)) for fund in funds)
        return reduce([v for v in values if v is not None])

    return _aggregate(node, at, inner, where, total), "number"


Reduce = Callable[[Scope, list[dict]], Any]


def _aggregate(node: dict, at: tuple, ctx: Context, where: Predicate, reduce: Reduce) -> Callable[[Scope], Any]:
    """An aggregate over the funds its `where` selects, computed once per plan (or once per group) and memoised.

    Without `selected.`, the matching funds are the same for every fund of the plan: one scan and one value per
    plan. A `where` that ties the fund to the rule's own fund by equality (`fund.X eq selected.Y`, alone or
    beside `selected.`-free conditions in an `all`) is a group-by: one scan files the funds by X, and each fund
    looks up its group. Any other use of `selected.` scans the menu per fund, as written. Funds are reduced in
    menu order in every case, so sums of floats come out bit for bit the same.
    """
    token = object()  # this aggregate's entry in the plan's memo
    join = _equality_join(node.get("where"), at + ("where",), ctx)
    if join is None and _mentions_selected(node.get("where")):
        return lambda s: reduce(s, [f for f in s.plan["menu"] if where(Scope(s.plan, s.as_of, f, s.fund))])

    if join is None:
        def per_plan(s: Scope) -> Any:
            memo = s.memo if s.memo is not None else {}
            if token not in memo:
                memo[token] = reduce(s, [f for f in s.plan["menu"] if where(Scope(s.plan, s.as_of, f))])
            return memo[token]
        return per_plan

    keep, fund_keys, selected_keys = join

    def per_group(s: Scope) -> Any:
        memo = s.memo if s.memo is not None else {}
        if token not in memo:
            memo[token] = _Groups(s, keep, fund_keys)
        groups: _Groups = memo[token]
        key = _group_key(Scope(s.plan, s.as_of, None, s.fund), selected_keys)
        if groups.index is None or key is _UNHASHABLE:  # a value no dict can hold: compare one by one
            funds = [f for f in s.plan["menu"] if where(Scope(s.plan, s.as_of, f, s.fund))]
            return reduce(s, funds)
        if key not in groups.values:
            groups.values[key] = reduce(s, groups.index.get(key, []) if key is not None else [])
        return groups.values[key]
    return per_group


_UNHASHABLE = object()


class _Groups:
    """One plan's funds that pass the `selected.`-free part of a `where`, filed by their join values."""

    __slots__ = ("index", "values")

    def __init__(self, s: Scope, keep: Predicate, keys: tuple[Callable[[Scope], Any], ...]):
        self.values: dict = {}  # group key -> the aggregate's value, filled as funds ask
        self.index: dict[tuple, list[dict]] | None = {}
        for fund in s.plan["menu"]:
            scope = Scope(s.plan, s.as_of, fund)
            if not keep(scope):
                continue
            key = _group_key(scope, keys)
            if key is _UNHASHABLE:
                self.index = None
                return
            if key is not None:
                self.index.setdefault(key, []).append(fund)


def _group_key(s: Scope, getters: tuple[Callable[[Scope], Any], ...]) -> Any:
    """The values an equality join compares, or None when one is missing (`eq` never holds against a missing
    value, nor NaN against anything), or _UNHASHABLE."""
    key = tuple(get(s) for get in getters)
    if any(v is None or v != v for v in key):
        return None
    try:
        hash(key)
    except TypeError:
        return _UNHASHABLE
    return key


def _mentions_selected(node: Any) -> bool:
    if isinstance(node, dict):
        return any(_mentions_selected(v) for v in node.values())
    if isinstance(node, list):
        return any(_mentions_selected(v) for v in node)
    return isinstance(node, str) and node.startswith("selected.")


def _equality_join(where: Any, at: tuple, ctx: Context
                   ) -> tuple[Predicate, tuple[Callable[[Scope], Any], ...], tuple[Callable[[Scope], Any], ...]] | None:
    """A `where` read as (the `selected.`-free conditions, the fund sides, the selected sides) of its
    `fund.X eq selected.Y` conjuncts; None when it has no such conjunct or another use of `selected.`."""
    if not isinstance(where, dict):
        return None
    conjuncts = where["all"] if set(where) == {"all"} else [where]
    at_of = (lambda i: at + ("all", i)) if set(where) == {"all"} else (lambda i: at)
    plain, fund_keys, selected_keys = [], [], []
    for i, part in enumerate(conjuncts):
        if not _mentions_selected(part):
            plain.append(compile_condition(part, at_of(i), ctx))
            continue
        sides = _join_sides(part)
        if sides is None:
            return None
        fund_path, selected_path = sides
        fund_keys.append(_compile_path(fund_path, at_of(i), ctx)[0])
        selected_keys.append(_compile_path(selected_path, at_of(i), ctx)[0])
    if not fund_keys:
        return None
    keep = plain[0] if len(plain) == 1 else (_all_of(tuple(plain)) if plain else always)
    return keep, tuple(fund_keys), tuple(selected_keys)


def _join_sides(part: Any) -> tuple[str, str] | None:
    """(fund path, selected path) of `{field: fund.X, eq: {field: selected.Y}}` or its mirror image."""
    if not isinstance(part, dict) or set(part) != {"field", "eq"}:
        return None
    left, right = part["field"], part["eq"]
    if not (isinstance(left, str) and isinstance(right, dict) and set(right) == {"field"}
            and isinstance(right["field"], str)):
        return None
    paths = {left.split(".")[0]: left, right["field"].split(".")[0]: right["field"]}
    if set(paths) != {"fund", "selected"}:
        return None
    return paths["fund"], paths["selected"]


def _compile_path(path: Any, at: tuple, ctx: Context) -> tuple[Callable[[Scope], Any], str]:
    if not isinstance(path, str) or not path:
        raise ctx.error(at, "a field path is text such as fund.expense_ratio")
    parts = tuple(path.split("."))
    root = parts[0]
    if root == "fund" and not (ctx.fund_scope or ctx.in_where):
        raise ctx.error(at, f"{path}: 'fund.' fields need scope: fund, or an aggregate's where")
    if root == "selected" and not (ctx.fund_scope and ctx.in_where):
        raise ctx.error(at, f"{path}: 'selected.' names the rule's own fund inside an aggregate of a fund-scope rule")
    catalog_key = ".".join(("fund",) + parts[1:]) if root == "selected" else path
    if catalog_key not in ctx.catalog:
        hint = did_you_mean(catalog_key, ctx.catalog) or "; see docs/plan-format.md for the fields"
        raise ctx.error(at, f"{path!r} is not a field of the plan format{hint}")
    kind = ctx.catalog[catalog_key]
    rest = parts[1:]
    if root in ROOTS:
        first = root
        return (lambda s: _dig(s.plan.get(first), rest)), kind
    if len(rest) == 1:  # most paths name a fund's own field: one lookup, no loop
        name = rest[0]
        if root == "fund":
            return (lambda s: f.get(name) if isinstance(f := s.fund, dict) else None), kind
        return (lambda s: f.get(name) if isinstance(f := s.selected, dict) else None), kind
    if root == "fund":
        return (lambda s: _dig(s.fund, rest)), kind
    return (lambda s: _dig(s.selected, rest)), kind


def _dig(value: Any, parts: tuple) -> Any:
    for part in parts:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _compile_operand(value: Any, kind: str, at: tuple, ctx: Context) -> Callable[[Scope], Any]:
    """A literal, a tunable parameter (`{param: name}`, optionally `by:` a field), or another field."""
    if isinstance(value, dict) and "param" in value and set(value) <= {"param", "by"}:
        name = value["param"]
        param = _parameter(name, at, ctx)
        if "by" in value:
            if not isinstance(param, dict):
                raise ctx.error(at + ("by",), f"parameter {name!r} is not a table, so it cannot be looked up 'by' a field")
            for entry, item in param.items():
                if not _fits(item, kind):
                    raise ctx.parameter_error(at + ("param",), f"{name}.{entry}", item, _KINDS[kind][1])
            key, _ = _compile_path(value["by"], at + ("by",), ctx)
            default = param.get("default")
            return lambda s: param.get(key(s), default)
        if not _fits(param, kind):
            raise ctx.parameter_error(at + ("param",), name, param, _KINDS[kind][1])
        return lambda s: param
    if isinstance(value, dict) and "field" in value and len(value) == 1:
        get, _ = _compile_path(value["field"], at + ("field",), ctx)
        return get
    if isinstance(value, dict) and "field" in value and set(value) == {"field", "plus_bp"}:
        if kind not in ("number", "integer"):
            raise ctx.error(at + ("plus_bp",), "plus_bp adds basis points to a number")
        get, _ = _compile_path(value["field"], at + ("field",), ctx)
        bp = _compile_operand(value["plus_bp"], "number", at + ("plus_bp",), ctx)
        return lambda s: None if (v := get(s)) is None or (n := bp(s)) is None else v + n / 10_000
    if isinstance(value, dict):
        raise ctx.error(at, "an operand is a literal, {param: NAME}, {param: NAME, by: PATH}, {field: PATH} or "
                            "{field: PATH, plus_bp: N}")
    _check_literal(value, kind, at, ctx)
    return lambda s: value


def _parameter(name: Any, at: tuple, ctx: Context) -> Any:
    """The value of the tunable parameter a rule names with `{param: NAME}`."""
    if not isinstance(name, str) or name not in ctx.parameters:
        known = ", ".join(sorted(ctx.parameters)) or "none declared"
        raise ctx.error(at + ("param",), f"unknown parameter {name!r} (declared: {known})")
    return ctx.parameters[name]


def _months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day when it is shorter); "within 14
    months" of 2026-11-25 starts on 2025-09-25."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    if year < 1:
        return date.min
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _days_before(day: date, days: int) -> date:
    """The date `days` before `day`, or the first date there is when that would fall before year 1."""
    return day - timedelta(days=days) if day.toordinal() > days else date.min


# kind -> (test, "must be ..." words, plural words)
_KINDS: dict[str, tuple[Callable[[Any], bool], str, str]] = {
    "number": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number", "numbers"),
    "integer": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number", "numbers"),  # 1 < 1.5
    "days": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_DAYS,
             f"a whole number of days from 0 to {MAX_DAYS}", "numbers of days"),
    "months": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_MONTHS,
               f"a whole number of months from 0 to {MAX_MONTHS}", "numbers of months"),
    "string": (lambda v: isinstance(v, str), "text", "texts"),
    "boolean": (lambda v: isinstance(v, bool), "true or false", "true or false values"),
    "date": (lambda v: isinstance(v, date), "a date", "dates"),
}


def _fits(value: Any, kind: str) -> bool:
    """Whether a literal or parameter value can stand where a value of this kind is compared."""
    return _KINDS[kind][0](value)


def _check_literal(value: Any, kind: str, at: tuple, ctx: Context) -> None:
    if not _fits(value, kind):
        raise ctx.error(at, f"must be {_KINDS[kind][1]} here (got {value!r})")


_COMPARE = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
}


def _compile_operator(op: str, arg: Any, get: Callable, kind: str, at: tuple, ctx: Context) -> Predicate:
    if op == "exists":
        if not isinstance(arg, bool):
            raise ctx.error(at, "exists takes true or false")
        return (lambda s: get(s) is not None) if arg else (lambda s: get(s) is None)
    if kind not in _KINDS:
        raise ctx.error(at, f"{op} cannot compare a group of fields; use exists, or name one field inside it")
    if op in ("in", "not_in"):
        if isinstance(arg, dict) and set(arg) == {"param"}:
            name = arg["param"]
            arg = _parameter(name, at, ctx)
            if not isinstance(arg, list) or not arg or not all(_fits(item, kind) for item in arg):
                raise ctx.parameter_error(at + ("param",), name, arg, f"a non-empty list of {_KINDS[kind][2]}")
        if not isinstance(arg, list) or not arg:
            raise ctx.error(at, f"{op} takes a non-empty list")
        for i, item in enumerate(arg):
            _check_literal(item, kind, at + (i,), ctx)
        choices = frozenset(arg)
        if op == "in":
            return lambda s: get(s) in choices
        return lambda s: get(s) not in choices  # like ne, holds when the value is missing
    if op == "matches":
        if kind != "string":
            raise ctx.error(at, f"matches needs a text field, not {kind}")
        pattern = _compile_pattern(arg, at, ctx)
        return lambda s: isinstance(v := get(s), str) and pattern.search(v[:MAX_MATCH_TEXT]) is not None
    if op in ("within_days", "within_months"):
        unit = op.split("_")[1]
        if kind != "date":
            raise ctx.error(at, f"{op} needs a date field, not {kind}")
        if isinstance(arg, dict) and "field" in arg:
            raise ctx.error(at, f"{op} takes a number of {unit} or {{param: NAME}}, not a field")
        count = _compile_operand(arg, unit, at, ctx)
        before = _days_before if unit == "days" else _months_before
        # a table parameter looked up `by` a field may have no entry and no default: then nothing is within
        return lambda s: (isinstance(v := get(s), date) and (n := count(s)) is not None
                          and before(s.as_of, n) <= v <= s.as_of)
    if op in ("lt", "le", "gt", "ge") and kind not in ("number", "integer", "date"):
        raise ctx.error(at, f"{op} orders numbers or dates, not {kind}")
    other = _compile_operand(arg, kind, at, ctx)
    compare = _COMPARE[op]

    def predicate(s: Scope) -> bool:
        left, right = get(s), other(s)
        if left is None or right is None:
            return op == "ne" and left is not right
        try:
            return compare(left, right)
        except TypeError:
            return False

    return predicate


def _compile_pattern(arg: Any, at: tuple, ctx: Context) -> Any:
    """A pack's pattern, compiled by RE2: matching takes time linear in the text, whatever the pattern, so no
    pattern in an untrusted pack can make a check run for hours (backtracking engines can, e.g. `^(a|aa)*b$`)."""
    if not isinstance(arg, str) or not arg or len(arg) > MAX_PATTERN:
        raise ctx.error(at, f"matches takes a regular expression of 1-{MAX_PATTERN} characters")
    import re2  # only packs that use `matches` pay for the import

    options = re2.Options()
    options.log_errors = False  # the error comes back as an exception, located; nothing goes to stderr
    options.max_mem = 8 << 20
    try:
        return re2.compile(arg, options)
    except re2.error as exc:
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ctx.error(at, f"invalid regular expression: {detail} (patterns use RE2 syntax: no backreferences "
                            f"or lookaround)") from None
