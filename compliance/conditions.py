"""The condition language: declarative YAML trees compiled once into plain Python closures, three-valued.

A condition is `all`/`any`/`not`, or a leaf with one subject (`field`, `count`, `sum`, `min`, `max`) and one
operator from `OPERATORS` (one record per operator: the kinds it compares, how it compiles, and what it gives
when the field is not recorded). `count` may count `distinct` values of a fund field; an operand may add basis
points (`{field: PATH, plus_bp: N or {param: NAME}}`), so a materiality threshold stays a tunable parameter.
Every field path is checked against the plan format when the pack loads, so a typo is a load error.

A compiled condition gives True, False or None. None is *unknown*: the plan file does not record a fact the
condition needs. What the file does not say is a fact to record, never a violation, so every comparison with a
missing value is unknown, `all`/`any`/`not` follow Kleene's logic, and an aggregate over funds whose membership
or value is unknown gives a `Span` (at least, at most) that a comparison settles only when every reading agrees.
A leaf that gives None appends the facts it lacked to `EvalScope.missing`; a condition that gives True or False
leaves that list as it found it, so after a run the list names exactly the facts that would settle the answer.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial
from typing import Any, Literal, NamedTuple

from compliance.errors import InputError, Location, Problem, format_path
from compliance.kinds import KINDS, TESTS, is_integer
from compliance.loader import Document
from compliance.schemas.messages import did_you_mean
from compliance.schemas.plan import SECTIONS

Truth = bool | None  # None: unknown, because a fact the condition needs is not recorded
Predicate = Callable[["EvalScope"], Truth]
Getter = Callable[["EvalScope"], Any]

SUBJECTS = ("field", "count", "sum", "min", "max")
ROOTS = SECTIONS  # the plan's sections; `fund.` and `selected.` paths start from a fund
MAX_PATTERN = 200
MAX_MATCH_TEXT = 2_000
MAX_DAYS = 36_600  # a century: longer windows are typos, and dates before year 1 do not exist
MAX_MONTHS = 1_200
# Scopes one plan's aggregates may build with `where` conditions that name `selected.` in a way no index serves
# (each such aggregate scans the menu for every fund): past this, the plan is refused with a located error
# rather than left to run for hours.
MAX_SCANS = 2_000_000


class EvalScope:
    """What a condition sees while it runs: the plan, the fund under test, the as-of date, and what it lacked.
    (Not `model.Scope`, the word that says whether a rule is judged per plan, fund or menu.)

    `cache` is shared by every scope of one plan's evaluation: aggregates keep there what they computed over the
    menu, so a rule run for each of n funds does not rescan the n funds each time. `missing` collects the facts
    (as `(path, fund)` pairs, or lists of them from an aggregate) whose absence made a condition unknown.
    """

    __slots__ = ("plan", "fund", "selected", "as_of", "cache", "missing")

    def __init__(self, plan: dict[Any, Any], as_of: date, fund: dict[Any, Any] | None = None, selected: dict[Any,
                 Any] | None = None,
                 cache: dict[Any, Any] | None = None):
        self.plan, self.as_of, self.fund, self.selected, self.cache = plan, as_of, fund, selected, cache
        self.missing: list[Any] = []


class Span(NamedTuple):
    """An aggregate that unknown facts leave open: its value lies between `low` and `high` (None: unbounded)."""

    low: Any
    high: Any
    missing: list[Any]


def always(_: EvalScope) -> Truth:
    return True


@dataclass(frozen=True)
class Context:
    """Compile-time facts: the pack file (for locations), the plan's fields, parameters, and where we are.

    `in_require` marks a rule's requirement: there `exists: true` asks for a fact, so its absence is unknown;
    in `select`, `when` and an aggregate's `where`, `exists` tests the record itself and is never unknown.
    """

    doc: Document
    catalog: dict[str, str]
    parameters: dict[str, Any]
    fund_scope: bool
    in_where: bool = False
    in_require: bool = False
    # where each parameter value was last set, as (location, field path), keyed by name or "name.entry"
    parameter_origins: dict[str, tuple[Location, str]] = field(default_factory=dict)

    def error(self, at: tuple[Any, ...], message: str) -> InputError:
        return InputError(Problem(self.doc.locate(at), f"{format_path(at)}: {message}"))

    def parameter_error(self, at: tuple[Any, ...], key: str, value: Any, needs: str) -> InputError:
        """A parameter value unfit for a rule, reported where the value was set (often a sponsor's override)."""
        origin = self.parameter_origins.get(key)
        if origin is None:  # a context built without packs (the fuzz harness): report it at the use
            return self.error(at, f"parameter {key!r} is {value!r}; it must be {needs} here")
        use = f"{format_path(at)} in {self.doc.file}:{self.doc.locate(at).line}"
        return InputError(Problem(origin[0], f"{origin[1]}: {value!r} is used by {use}, which needs {needs}"))


class BudgetExceeded(Exception):
    """A plan whose conditions would scan its menu more than `MAX_SCANS` times (see `_aggregate`)."""


# ------------------------------------------------------------------------------------------------ operators
OnMissing = Literal["unknown", "holds", "fails"]


class Operator(NamedTuple):
    """One operator of the condition language: everything the compiler, the docs and pack authors need. (A
    NamedTuple: an immutable record that is cheaper to define at start-up than a frozen dataclass.)"""

    name: str
    takes: str  # what it compares, in words (docs)
    operand: str  # what it is written with, in words (docs)
    on_missing: OnMissing  # what it gives when the field is not recorded (docs; `compile` implements it)
    # (arg, get, kind, field, at, ctx)
    compile: Callable[[Any, Getter, str, str | None, tuple[Any, ...], Context], Predicate]
    doc: str


def _note(s: EvalScope, path: str) -> None:
    """Record that the fact at `path` (`fund.x`, `selected.x` or a plan path) was missing in this scope."""
    s.missing.append((path, s.fund if path.startswith("fund.") else s.selected if path.startswith("selected.") else None))


def _unknown(s: EvalScope, name: str | None, otherwise: Truth = False) -> Truth:
    """The result on a missing value: unknown, noted, for a field the file can record; `otherwise` for a computed
    operand (an aggregate over no funds), which no fact settles."""
    if name is None:
        return otherwise
    _note(s, name)
    return None


def _compile_exists(arg: Any, get: Getter, kind: str, name: str | None, at: tuple[Any, ...], ctx: Context) -> Predicate:
    if not isinstance(arg, bool):
        raise ctx.error(at, "exists takes true or false")
    key = _own_field(name)
    if not arg:
        return lambda s: get(s) is None
    if not ctx.in_require or name is None:
        if key is not None:  # a fund's own field, read inline
            return lambda s: isinstance(f := s.fund, dict) and f.get(key) is not None
        return lambda s: get(s) is not None
    path: str = name

    def recorded(s: EvalScope) -> Truth:
        if get(s) is not None:
            return True
        _note(s, path)
        return None
    return recorded


def _compile_membership(arg: Any, get: Getter, kind: str, name: str | None, at: tuple[Any, ...], ctx: Context,
                        negate: bool) -> Predicate:
    op = "not_in" if negate else "in"
    if isinstance(arg, dict) and set(arg) == {"param"}:
        param = arg["param"]
        arg = _parameter(param, at, ctx)
        if not isinstance(arg, list) or not arg or not all(_fits(item, kind) for item in arg):
            raise ctx.parameter_error(at + ("param",), param, arg, f"a non-empty list of {_KINDS[kind][2]}")
    if not isinstance(arg, list) or not arg:
        raise ctx.error(at, f"{op} takes a non-empty list")
    for i, item in enumerate(arg):
        _check_literal(item, kind, at + (i,), ctx)
    choices = frozenset(arg)
    key = _own_field(name)
    if key is not None:
        path = name

        def fund_member(s: EvalScope) -> Truth:  # `member` for a fund's own field, read inline
            fund = s.fund
            value = fund.get(key) if isinstance(fund, dict) else None
            if value is None:
                s.missing.append((path, fund))
                return None
            return (value not in choices) if negate else (value in choices)
        return fund_member

    def member(s: EvalScope) -> Truth:
        value = get(s)
        if value is None:
            return _unknown(s, name, negate)
        if isinstance(value, Span):
            return _span_in(value, choices, negate, s)
        return (value not in choices) if negate else (value in choices)
    return member


def _compile_matches(arg: Any, get: Getter, kind: str, name: str | None, at: tuple[Any, ...],
                     ctx: Context) -> Predicate:
    if kind != "string":
        raise ctx.error(at, f"matches needs a text field, not {kind}")
    pattern = _compile_pattern(arg, at, ctx)

    def matches(s: EvalScope) -> Truth:
        value = get(s)
        if value is None:
            return _unknown(s, name)
        return isinstance(value, str) and pattern.search(value[:MAX_MATCH_TEXT]) is not None
    return matches


def _compile_within(unit: str) -> Callable[[Any, Getter, str, str | None, tuple[Any, ...], Context], Predicate]:
    def compile_within(arg: Any, get: Getter, kind: str, name: str | None, at: tuple[Any, ...],
                       ctx: Context) -> Predicate:
        if kind != "date":
            raise ctx.error(at, f"within_{unit} needs a date field, not {kind}")
        if isinstance(arg, dict) and "field" in arg:
            raise ctx.error(at, f"within_{unit} takes a number of {unit} or {{param: NAME}}, not a field")
        count = _compile_operand(arg, unit, at, ctx)
        before = _days_before if unit == "days" else _months_before

        def within(s: EvalScope) -> Truth:
            value = get(s)
            if value is None:
                return _unknown(s, name)
            n = count(s)  # a table parameter looked up `by` a field may have no entry: then nothing is within
            return isinstance(value, date) and n is not None and before(s.as_of, n) <= value <= s.as_of
        return within
    return compile_within


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
}


def _compile_comparison(op: str) -> Callable[[Any, Getter, str, str | None, tuple[Any, ...], Context], Predicate]:
    def compile_comparison(arg: Any, get: Getter, kind: str, name: str | None, at: tuple[Any, ...],
                           ctx: Context) -> Predicate:
        if op in ("lt", "le", "gt", "ge") and kind not in ("number", "integer", "date"):
            raise ctx.error(at, f"{op} orders numbers or dates, not {kind}")
        other = _compile_operand(arg, kind, at, ctx)
        other_path = _operand_path(arg)
        compare = _COMPARE[op]
        key, right = _own_field(name), _fixed_operand(arg, ctx)
        if key is not None and right is not None:
            path = name

            def fund_vs_value(s: EvalScope) -> Truth:  # `predicate` for a fund's own field and a fixed value
                fund = s.fund
                left = fund.get(key) if isinstance(fund, dict) else None
                if left is None:
                    s.missing.append((path, fund))
                    return None
                try:
                    return compare(left, right)
                except TypeError:
                    return False
            return fund_vs_value

        def predicate(s: EvalScope) -> Truth:
            left, right = get(s), other(s)
            if left is not None and right is not None:
                if isinstance(left, Span):
                    return _span_compare(op, left, right, s)
                try:
                    return compare(left, right)
                except TypeError:
                    return False
            if (right is None and other_path is None) or (left is None and name is None):
                return op == "ne"  # a table parameter with no entry for this value, or an aggregate of no funds
            if left is None:
                _note(s, name)  # type: ignore[arg-type]
            if right is None:
                _note(s, other_path)  # type: ignore[arg-type]
            return None
        return predicate
    return compile_comparison


def _compile_value_op(op: str) -> Callable[[Any, Getter, str, str | None, tuple[Any, ...], Context], Predicate]:
    """An operator that compares values: refused on a group of fields, then compiled by its own function."""
    special: dict[str, Callable[..., Predicate]] = {
        "in": partial(_compile_membership, negate=False), "not_in": partial(_compile_membership, negate=True),
        "matches": _compile_matches, "within_days": _compile_within("days"),
        "within_months": _compile_within("months")}
    compile_op = special.get(op) or _compile_comparison(op)

    def compile_checked(arg: Any, get: Getter, kind: str, name: str | None, at: tuple[Any, ...],
                        ctx: Context) -> Predicate:
        if kind not in _KINDS:
            raise ctx.error(at, f"{op} cannot compare a group of fields; use exists, or name one field inside it")
        return compile_op(arg, get, kind, name, at, ctx)
    return compile_checked


_VALUE = "a literal, {param: NAME}, {param: NAME, by: PATH}, {field: PATH} or {field: PATH, plus_bp: N}"
OPERATORS: dict[str, Operator] = {op.name: op for op in (
    Operator("eq", "any value", _VALUE, "unknown", _compile_value_op("eq"), "equal to the operand"),
    Operator("ne", "any value", _VALUE, "unknown", _compile_value_op("ne"), "different from the operand"),
    Operator("lt", "numbers, dates, counts", _VALUE, "unknown", _compile_value_op("lt"), "less than the operand"),
    Operator("le", "numbers, dates, counts", _VALUE, "unknown", _compile_value_op("le"), "at most the operand"),
    Operator("gt", "numbers, dates, counts", _VALUE, "unknown", _compile_value_op("gt"), "more than the operand"),
    Operator("ge", "numbers, dates, counts", _VALUE, "unknown", _compile_value_op("ge"), "at least the operand"),
    Operator("in", "any value", "a non-empty list, or {param: NAME}", "unknown", _compile_value_op("in"),
             "one of the listed values"),
    Operator("not_in", "any value", "a non-empty list, or {param: NAME}", "unknown", _compile_value_op("not_in"),
             "none of the listed values"),
    Operator("exists", "any field, or a group of fields", "true or false", "holds",
             _compile_exists,
             "`exists: true`: the file records the field (in `require`, an absent field is unknown: a fact to "
             "record; in `select`, `when` and `where`, it is false); `exists: false`: the field is absent"),
    Operator("matches", "text", "an RE2 regular expression (1-200 characters)", "unknown",
             _compile_value_op("matches"), "the text contains a match of the pattern"),
    Operator("within_days", "dates", "a number of days, or {param: NAME}", "unknown",
             _compile_value_op("within_days"), "on or before the as-of date, and at most that many days before it"),
    Operator("within_months", "dates", "a number of months, or {param: NAME}", "unknown",
             _compile_value_op("within_months"),
             "on or before the as-of date, and at most that many calendar months before it"),
)}


def _span_compare(op: str, span: Span, right: Any, s: EvalScope) -> Truth:
    """Settle a comparison of an open aggregate with a value only when every value in the span agrees."""
    low, high = span.low, span.high
    try:
        if op in ("lt", "le", "gt", "ge"):
            compare = _COMPARE[op]
            at_low = None if low is None else compare(low, right)
            at_high = None if high is None else compare(high, right)
            # lt/le hold everywhere if they hold at the top; gt/ge if they hold at the bottom
            sure, never = (at_high, at_low) if op in ("lt", "le") else (at_low, at_high)
            if sure is True:
                return True
            if never is False:
                return False
        elif op in ("eq", "ne"):
            outside = (low is not None and right < low) or (high is not None and right > high)
            if outside:
                return op == "ne"
    except TypeError:
        return False
    s.missing.append(span.missing)
    return None


def _span_in(span: Span, choices: frozenset[Any], negate: bool, s: EvalScope) -> Truth:
    if span.low is not None and span.high is not None and isinstance(span.low, int):
        inside = {v in choices for v in range(span.low, span.high + 1)}
        if len(inside) == 1:
            return (not inside.pop()) if negate else inside.pop()
    s.missing.append(span.missing)
    return None


def operator_table() -> str:
    """The operators as a Markdown table, for docs/rule-packs.md (a test keeps the two the same)."""
    words = {"unknown": "unknown (a fact to record)", "holds": "see the operator", "fails": "false"}
    rows = ["| operator | compares | written with | holds when | field not recorded |", "|---|---|---|---|---|"]
    rows += [f"| `{op.name}` | {op.takes} | {op.operand} | {op.doc} | {words[op.on_missing]} |"
             for op in OPERATORS.values()]
    return "\n".join(rows) + "\n"


# ------------------------------------------------------------------------------------------------ combinators
def compile_condition(node: Any, at: tuple[Any, ...], ctx: Context) -> Predicate:
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
        return lambda s: None if (v := inner(s)) is None else not v
    return _compile_leaf(node, at, ctx)


def field_paths(node: Any) -> tuple[str, ...]:
    """Every plan field a (well-formed) condition reads, in order: what a rule needs recorded to be decided."""
    found: list[str] = []

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            for key, value in n.items():
                if key in ("field", "distinct", "sum", "min", "max", "by") and isinstance(value, str):
                    found.append("fund." + value.split(".", 1)[1] if value.startswith("selected.") else value)
                else:
                    walk(value)
        elif isinstance(n, list):
            for item in n:
                walk(item)
    walk(node)
    return tuple(dict.fromkeys(found))


def _all_of(parts: tuple[Predicate, ...]) -> Predicate:
    """Kleene conjunction: false if any part is false, else unknown if any part is unknown, else true."""
    return _kleene(parts, False)


def _any_of(parts: tuple[Predicate, ...]) -> Predicate:
    """Kleene disjunction: true if any part is true, else unknown if any part is unknown, else false."""
    return _kleene(parts, True)


def _kleene(parts: tuple[Predicate, ...], settles: bool) -> Predicate:
    """`all` (settled by a false part) or `any` (settled by a true part), short-circuit kept, in one call however
    many parts. A part that settles the answer after others drops the facts they noted: they no longer matter to
    it (the first part's own notes stay, as it settled alone)."""
    if len(parts) == 1:
        return parts[0]
    first, rest = parts[0], parts[1:]
    open_answer = not settles

    def kleene(s: EvalScope) -> Truth:
        missing = s.missing
        mark = len(missing)
        a = first(s)
        if a is settles:
            return settles
        unknown = a is None
        for part in rest:
            b = part(s)
            if b is settles:
                del missing[mark:]
                return settles
            if b is None:
                unknown = True
        return None if unknown else open_answer
    return kleene


def _compile_leaf(node: dict[Any, Any], at: tuple[Any, ...], ctx: Context) -> Predicate:
    subjects = [k for k in node if k in SUBJECTS]
    operators = [k for k in node if k in OPERATORS]
    unknown = [k for k in node if k not in SUBJECTS and k not in OPERATORS and k not in ("where", "distinct")]
    names = ", ".join(OPERATORS)
    if unknown:
        raise ctx.error(at + (unknown[0],), f"unknown operator {unknown[0]!r}; operators are {names}; "
                                            f"combinators are all, any, not")
    if len(subjects) != 1:
        raise ctx.error(at, f"a comparison needs exactly one of {', '.join(SUBJECTS)} (found {len(subjects)})")
    if len(operators) != 1:
        raise ctx.error(at, f"a comparison needs exactly one operator of {names} (found {len(operators)})")
    subject, op = subjects[0], operators[0]
    get, kind = _compile_subject(node, subject, at, ctx)
    name = node["field"] if subject == "field" else None
    return OPERATORS[op].compile(node[op], get, kind, name, at + (op,), ctx)


# ------------------------------------------------------------------------------------------------ aggregates
def _compile_subject(node: dict[Any, Any], subject: str, at: tuple[Any, ...], ctx: Context) -> tuple[Getter, str]:
    if subject == "field":
        for extra in ("where", "distinct"):
            if extra in node:
                raise ctx.error(at + (extra,), f"'{extra}' belongs to an aggregate, not to field")
        return _compile_path(node["field"], at + ("field",), ctx)
    if ctx.in_where:
        raise ctx.error(at + (subject,), "aggregates cannot be nested inside another aggregate's 'where'")
    inner = replace(ctx, in_where=True, in_require=False)
    where = compile_condition(node["where"], at + ("where",), inner) if "where" in node else always
    if subject == "count":
        if node["count"] != "funds":
            raise ctx.error(at + ("count",), "write count: funds (and filter them with where)")
        if "distinct" in node:
            if not isinstance(node["distinct"], str) or not node["distinct"].startswith("fund."):
                raise ctx.error(at + ("distinct",), "distinct names a fund field, e.g. distinct: fund.asset_class")
            key, _ = _compile_path(node["distinct"], at + ("distinct",), inner)
            return _aggregate(node, at, inner, where, _distinct(key, node["distinct"])), "integer"
        return _aggregate(node, at, inner, where, _count), "integer"
    if "distinct" in node:
        raise ctx.error(at + ("distinct",), "distinct belongs to count")
    get, kind = _compile_path(node[subject], at + (subject,), inner)
    if not node[subject].startswith("fund."):
        raise ctx.error(at + (subject,), f"{subject} adds up a fund field, e.g. {subject}: fund.expense_ratio")
    if kind not in ("number", "integer"):
        raise ctx.error(at + (subject,), f"{node[subject]} is {kind}, not a number; {subject} needs numbers")
    return _aggregate(node, at, inner, where, _totals(subject, get, node[subject])), "number"


# A reducer takes the scope and the funds sorted by membership: (members, maybe members, their missing facts).
Reduce = Callable[[EvalScope, list[dict[Any, Any]], list[dict[Any, Any]], list[Any]], Any]


def _count(_: EvalScope, members: list[dict[Any, Any]], maybe: list[dict[Any, Any]], missing: list[Any]) -> Any:
    return len(members) if not maybe else Span(len(members), len(members) + len(maybe), missing)


def _distinct(key: Getter, path: str) -> Reduce:
    def distinct(s: EvalScope, members: list[dict[Any, Any]], maybe: list[dict[Any, Any]], missing: list[Any]) -> Any:
        values, open_ = set(), 0
        facts = list(missing)
        for fund in members:
            value = key(EvalScope(s.plan, s.as_of, fund))
            if value is None:
                open_ += 1
                facts.append((path, fund))
            else:
                values.add(value)
        open_ += len(maybe)
        return len(values) if not open_ else Span(len(values), len(values) + open_, facts)
    return distinct


def _totals(subject: str, get: Getter, path: str) -> Reduce:
    def total(s: EvalScope, members: list[dict[Any, Any]], maybe: list[dict[Any, Any]], missing: list[Any]) -> Any:
        known, facts = [], list(missing)
        for fund in members:
            value = get(EvalScope(s.plan, s.as_of, fund))
            if value is None:
                facts.append((path, fund))
            else:
                known.append(value)
        if subject == "sum":
            result = sum(known)
            return result if len(facts) == len(missing) and not maybe else Span(None, None, facts)
        if not known and not facts and not maybe:
            return None if subject != "sum" else 0
        if len(facts) == len(missing) and not maybe:
            return min(known) if subject == "min" else max(known)
        if not known:
            return Span(None, None, facts)
        return Span(None, min(known), facts) if subject == "min" else Span(max(known), None, facts)
    return total


def _sort(s: EvalScope, funds: list[dict[Any, Any]], where: Predicate, selected: dict[Any, Any] | None = None
          ) -> tuple[list[dict[Any, Any]], list[dict[Any, Any]], list[Any]]:
    """(funds that pass `where`, funds it cannot decide for, the facts that would decide them)."""
    members, maybe, missing = [], [], []
    for fund in funds:
        scope = EvalScope(s.plan, s.as_of, fund, selected)
        verdict = where(scope)
        if verdict is True:
            members.append(fund)
        elif verdict is None:
            maybe.append(fund)
            missing.extend(scope.missing)
    return members, maybe, missing


def _aggregate(node: dict[Any, Any], at: tuple[Any, ...], ctx: Context, where: Predicate, reduce: Reduce) -> Getter:
    """An aggregate over the funds its `where` selects, computed once per plan (or once per group) and cached.

    Without `selected.`, the matching funds are the same for every fund of the plan: one scan and one value per
    plan. A `where` that ties the fund to the rule's own fund by equality (`fund.X eq selected.Y`, alone or
    beside `selected.`-free conditions in an `all`) is a group-by: one scan files the funds by X, and each fund
    looks up its group (a fund that does not record all of its Y may share any group agreeing on the rest). Any other use of `selected.` scans the menu per fund, within a budget of `MAX_SCANS`
    fund scopes per plan. Funds are reduced in menu order in every case, so sums come out bit for bit the same.
    """
    token = object()  # this aggregate's entry in the plan's cache
    join = _equality_join(node.get("where"), at + ("where",), ctx)
    def per_fund(s: EvalScope) -> Any:
        cache = s.cache if s.cache is not None else {}
        spent = cache.get(_SCANS, 0) + len(s.plan["menu"])
        if spent > MAX_SCANS:
            raise BudgetExceeded(format_path(at), MAX_SCANS)
        cache[_SCANS] = spent
        return reduce(s, *_sort(s, s.plan["menu"], where, s.fund))

    if join is None and _mentions_selected(node.get("where")):
        return per_fund

    if join is None:
        def per_plan(s: EvalScope) -> Any:
            cache = s.cache if s.cache is not None else {}
            if token not in cache:
                cache[token] = reduce(s, *_sort(s, s.plan["menu"], where))
            return cache[token]
        return per_plan

    keep, fund_keys, (selected_getters, selected_paths) = join

    def per_group(s: EvalScope) -> Any:
        cache = s.cache if s.cache is not None else {}
        if token not in cache:
            cache[token] = _Groups(s, keep, fund_keys)
        groups: _Groups = cache[token]
        own = EvalScope(s.plan, s.as_of, None, s.fund)
        known = tuple([get(own) for get in selected_getters])
        key = _group_key(own, known, selected_paths)
        if groups.index is None or key is _UNHASHABLE:  # compare one by one, as written
            return per_fund(s)
        if key is None:  # the fund does not record all its join values: every group agreeing on the rest may hold it
            if not _hashable(known):  # a value that cannot key the cache (a group of fields): compare as written
                return per_fund(s)
            partial = (_PARTIAL, known)
            if partial not in groups.values:
                groups.values[partial] = reduce(s, [], *groups.agreeing(known))
            value = groups.values[partial]
            return Span(value.low, value.high, own.missing + value.missing) if isinstance(value, Span) else value
        if key not in groups.values:
            members, maybe, missing = groups.members(key)
            groups.values[key] = reduce(s, members, maybe, missing)
        return groups.values[key]
    return per_group


_UNHASHABLE = object()
_NO_GROUP = ("no group",)  # a key no fund's key equals (see _group_key)
_PARTIAL = ("partial key",)  # cache entries for funds that record only some of their join values
_SCANS = object()  # the cache entry that counts the fund scopes built by per-fund scans


class _Groups:
    """One plan's funds that may pass the `selected.`-free part of a `where`, filed by their join values.

    A fund whose join value is not (wholly) recorded may belong to any group whose recorded parts it matches: it
    is kept aside and joins those groups as a maybe-member, as is a fund whose `keep` is unknown."""

    __slots__ = ("index", "values", "open")

    def __init__(self, s: EvalScope, keep: Predicate, keys: tuple[tuple[Getter, ...], tuple[str, ...]]):
        self.values: dict[Any, Any] = {}  # group key -> the aggregate's value, filled as funds ask
        self.index: dict[tuple[Any, ...], list[tuple[dict[Any, Any], Truth, list[Any]]]] | None = {}
        # the funds a join value of which is not recorded, by the values they record (None for the rest): many
        # share them (a class, no style), so a group's question is put once to each set of values; values that
        # cannot be a key (a group of fields) get a set of their own
        self.open: dict[Any, tuple[tuple[Any, ...], list[tuple[int, dict[Any, Any], list[Any]]]]] = {}
        for position, fund in enumerate(s.plan["menu"]):
            scope = EvalScope(s.plan, s.as_of, fund)
            kept = keep(scope)
            if kept is False:
                continue
            values = tuple([get(scope) for get in keys[0]])
            key = _group_key(scope, values, keys[1])
            if key is _UNHASHABLE:
                self.index = None
                return
            if key is None:
                self.open.setdefault(values if _hashable(values) else object(), (values, []))[1].append(
                    (position, fund, scope.missing))
            elif key is not _NO_GROUP:
                self.index.setdefault(key, []).append((fund, kept, scope.missing))

    def agreeing(self, known: tuple[Any, ...]) -> tuple[list[dict[Any, Any]], list[Any]]:
        """Every kept fund whose join values agree with the recorded ones of `known` (None: not recorded): each may
        share the group, none surely does; and the facts that would decide them."""
        maybe: list[dict[Any, Any]] = []
        missing: list[Any] = []
        for key, entries in (self.index or {}).items():
            if _agree(key, known):
                for fund, _, lacking in entries:
                    maybe.append(fund)
                    missing.extend(lacking)
        for _, fund, lacking in self._open_agreeing(known):
            maybe.append(fund)
            missing.extend(lacking)
        return maybe, missing

    def members(self, key: tuple[Any, ...]) -> tuple[list[dict[Any, Any]], list[dict[Any, Any]], list[Any]]:
        """(funds in the group, funds that may be, the facts that would decide them); members in menu order."""
        members: list[dict[Any, Any]] = []
        maybe: list[dict[Any, Any]] = []
        missing: list[Any] = []
        for fund, kept, lacking in (self.index or {}).get(key, []):
            (members if kept else maybe).append(fund)
            if not kept:
                missing.extend(lacking)
        for _, fund, lacking in self._open_agreeing(key):
            maybe.append(fund)
            missing.extend(lacking)
        return members, maybe, missing

    def _open_agreeing(self, known: tuple[Any, ...]) -> list[tuple[int, dict[Any, Any], list[Any]]]:
        """The open funds whose recorded join values agree with `known`, in menu order."""
        found: list[tuple[int, dict[Any, Any], list[Any]]] = []
        sets = 0
        for values, entries in self.open.values():
            if _agree(values, known):
                found += entries
                sets += 1
        if sets > 1:
            found.sort(key=operator.itemgetter(0))
        return found


def _hashable(values: tuple[Any, ...]) -> bool:
    try:
        hash(values)
    except TypeError:
        return False
    return True


def _agree(values: tuple[Any, ...], known: tuple[Any, ...]) -> bool:
    """Whether two sets of join values may be the same: equal wherever both are recorded."""
    for v, k in zip(values, known, strict=True):  # noqa: SIM110 (a loop, not all(): asked for every open set of every group)
        if v is not None and k is not None and v != k:
            return False
    return True


def _group_key(s: EvalScope, key: tuple[Any, ...], paths: tuple[str, ...]) -> Any:
    """The join values `key` (read at `paths`) as a group key, or None when one is missing (`eq` can neither hold
    nor fail against a missing value: the fact is noted), or _UNHASHABLE."""
    lacking = False
    for v in key:
        if v is None:
            lacking = True
        elif v != v:  # NaN equals nothing, itself included: a group no fund belongs to
            return _NO_GROUP
    if lacking:
        for value, path in zip(key, paths, strict=True):
            if value is None:
                _note(s, path)
        return None
    return key if _hashable(key) else _UNHASHABLE


def _mentions_selected(node: Any) -> bool:
    if isinstance(node, dict):
        return any(_mentions_selected(v) for v in node.values())
    if isinstance(node, list):
        return any(_mentions_selected(v) for v in node)
    return isinstance(node, str) and node.startswith("selected.")


Keys = tuple[tuple[Getter, ...], tuple[str, ...]]


def _equality_join(where: Any, at: tuple[Any, ...], ctx: Context) -> tuple[Predicate, Keys, Keys] | None:
    """A `where` read as (the `selected.`-free conditions, the fund sides, the selected sides) of its
    `fund.X eq selected.Y` conjuncts, each side as (getters, paths); None when it has no such conjunct or
    another use of `selected.`."""
    if not isinstance(where, dict):
        return None
    joined = set(where) == {"all"}
    conjuncts = where["all"] if joined else [where]

    def at_of(i: int) -> tuple[Any, ...]:
        return at + ("all", i) if joined else at

    plain: list[Predicate] = []
    fund_keys: list[Getter] = []
    selected_keys: list[Getter] = []
    fund_paths: list[str] = []
    selected_paths: list[str] = []
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
        fund_paths.append(fund_path)
        selected_paths.append(selected_path)
    if not fund_keys:
        return None
    keep = plain[0] if len(plain) == 1 else (_all_of(tuple(plain)) if plain else always)
    return keep, (tuple(fund_keys), tuple(fund_paths)), (tuple(selected_keys), tuple(selected_paths))


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


# ------------------------------------------------------------------------------------------------ fields and values
def _compile_path(path: Any, at: tuple[Any, ...], ctx: Context) -> tuple[Getter, str]:
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
        return _getter(operator.attrgetter("plan"), parts), kind
    if len(rest) == 1:  # most paths name a fund's own field: one lookup, no call
        name = rest[0]
        if root == "fund":
            return (lambda s: f.get(name) if isinstance(f := s.fund, dict) else None), kind
        return (lambda s: f.get(name) if isinstance(f := s.selected, dict) else None), kind
    return _getter(operator.attrgetter(root), rest), kind


def _getter(holder: Callable[[EvalScope], Any], keys: tuple[str, ...]) -> Getter:
    """What lies at `keys` under what `holder` gives (None where a step is missing). Conditions read fields for
    every fund of every rule, so the one- and two-step paths most rules name are read without a loop."""
    if len(keys) == 1:
        (a,) = keys
        return lambda s: v.get(a) if isinstance(v := holder(s), dict) else None
    if len(keys) == 2:
        a, b = keys
        return lambda s: w.get(b) if isinstance(v := holder(s), dict) and isinstance(w := v.get(a), dict) else None
    return lambda s: _dig(holder(s), keys)


def _dig(value: Any, parts: tuple[Any, ...]) -> Any:
    for part in parts:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _own_field(path: str | None) -> str | None:
    """The key of the fund's own field `path` names (`fund.x`), else None. Most leaves compare one such field
    with a fixed value, for every fund of every rule: they read it inline rather than through a getter."""
    if path is not None and path.startswith("fund.") and path.count(".") == 1:
        return path[5:]
    return None


def _fixed_operand(value: Any, ctx: Context) -> Any:
    """The value of an operand `_compile_operand` has accepted, when it is the same for every scope (a literal,
    or a parameter not looked up `by` a field); None otherwise."""
    if not isinstance(value, dict):
        return value
    return ctx.parameters.get(value["param"]) if set(value) == {"param"} else None


def _operand_path(value: Any) -> str | None:
    """The field an operand reads (`{field: PATH}`, with or without `plus_bp`), or None for a value."""
    return value["field"] if isinstance(value, dict) and isinstance(value.get("field"), str) else None


def _compile_operand(value: Any, kind: str, at: tuple[Any, ...], ctx: Context) -> Getter:
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
        raise ctx.error(at, f"an operand is {_VALUE}")
    _check_literal(value, kind, at, ctx)
    return lambda s: value


def _parameter(name: Any, at: tuple[Any, ...], ctx: Context) -> Any:
    """The value of the tunable parameter a rule names with `{param: NAME}`."""
    if not isinstance(name, str) or name not in ctx.parameters:
        known = ", ".join(sorted(ctx.parameters)) or "none declared"
        raise ctx.error(at + ("param",), f"unknown parameter {name!r} (declared: {known})")
    return ctx.parameters[name]


def _months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day when it is shorter); "within 14
    months" of 2026-11-25 starts on 2025-09-25. `calendar` is imported here: a check whose packs count no months
    does not pay for its import."""
    import calendar

    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    if year < 1:
        return date.min
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _days_before(day: date, days: int) -> date:
    """The date `days` before `day`, or the first date there is when that would fall before year 1."""
    return day - timedelta(days=days) if day.toordinal() > days else date.min


def _operand(name: str) -> tuple[Callable[[Any], bool], str, str]:
    kind = KINDS[name]
    return TESTS[name], kind.word, kind.plural


# kind -> (test, "must be ..." words, plural words): the plan's value kinds (compliance/kinds.py) that a condition
# compares, and the counts of days and months a `within_` operator takes
_KINDS: dict[str, tuple[Callable[[Any], bool], str, str]] = {
    "number": _operand("number"),
    "integer": _operand("number"),  # an integer field compares with any number: 1 < 1.5
    "days": (lambda v: is_integer(v) and 0 <= v <= MAX_DAYS,
             f"a whole number of days from 0 to {MAX_DAYS}", "numbers of days"),
    "months": (lambda v: is_integer(v) and 0 <= v <= MAX_MONTHS,
               f"a whole number of months from 0 to {MAX_MONTHS}", "numbers of months"),
    "string": _operand("string"),
    "boolean": _operand("boolean"),
    "date": _operand("date"),  # a timestamp equals no date and cannot be ordered against one
}


def _fits(value: Any, kind: str) -> bool:
    """Whether a literal or parameter value can stand where a value of this kind is compared."""
    return _KINDS[kind][0](value)


def _check_literal(value: Any, kind: str, at: tuple[Any, ...], ctx: Context) -> None:
    if not _fits(value, kind):
        raise ctx.error(at, f"must be {_KINDS[kind][1]} here (got {value!r})")


def _compile_pattern(arg: Any, at: tuple[Any, ...], ctx: Context) -> Any:
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
