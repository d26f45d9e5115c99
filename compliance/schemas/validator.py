"""A fast yes/no validator compiled from the same Cerberus schema dicts, with Cerberus kept to explain failures.

Cerberus stays the authority: it defines the format and produces every error message. But it costs tens of
milliseconds per plan, and importing it costs more than a whole valid check, so valid documents (the common
case) are accepted by this compiled checker, and Cerberus is imported only when a document fails, to locate and
word the errors. A property test asserts both always agree. Only the Cerberus rules our schemas use are
supported; any other rule is refused when the checker is compiled.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from compliance.kinds import KINDS, TESTS

Check = Callable[[Any], bool]
MAX_FAILING = 100  # failing entries (and problems) of one document Cerberus explains; the rest are counted
_ANY: Check = lambda value: True  # noqa: E731


class Validator:
    """The check of one document format (plan, pack, settings, scenario): the fast check for valid documents,
    Cerberus (built on first need) for invalid ones."""

    def __init__(self, schema: dict[Any, Any]) -> None:
        self.schema = schema
        self.accepts = compile_mapping(schema)

    @functools.cached_property
    def cerberus(self) -> Any:
        """Cerberus's validator for the same schema; constructing it also checks the schema itself."""
        return _cerberus_class()(self.schema)

    def rejects(self, data: Any, limit: int = MAX_FAILING) -> tuple[Any, Cut] | None:
        """None when `data` is valid; otherwise the Cerberus validator that checked it, holding the errors, and
        what was cut before it did: at most `limit` failing entries reach Cerberus (see `Cut`)."""
        if self.accepts(data):
            return None
        cut = Cut(limit)
        if self.cerberus.validate(cut.mapping(self.schema, data, ())):
            return None
        return self.cerberus, cut


class Cut:
    """A failing document cut down to its first `limit` failing entries (list items, mapping values, unknown
    keys), with a count of the failing entries left out.

    Cerberus's ErrorTree re-sorts a list on every error it adds, so its time grows with the square of the errors
    (a menu of thousands of empty funds took minutes; docs/performance.md). The fast checks find the failing
    entries in linear time; a list is cut after its last kept failing item, so every kept entry keeps its path,
    and a mapping only loses keys.
    """

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.omitted = 0  # failing entries left out
        self.first: tuple[Any, ...] | None = None  # the path of the first one left out
        self._checks: dict[int, Check] = {}  # by the schema entry's id: entries live as long as their schema

    def mapping(self, schema: dict[Any, Any], value: Any, path: tuple[Any, ...]) -> Any:
        if not isinstance(value, (dict, Mapping)):
            return value
        kept = {}
        for key, item in value.items():
            rules = schema.get(key)
            if rules is None:  # an unknown field: one error each
                if self._take(path + (key,)):
                    kept[key] = item
            else:
                kept[key] = self.field(rules, item, path + (key,))
        return kept

    def field(self, rules: dict[Any, Any], value: Any, path: tuple[Any, ...]) -> Any:
        if self._check(rules)(value):
            return value
        if "schema" in rules and rules.get("type") == "list" and isinstance(value, list):
            return self._items(rules["schema"], value, path)
        if "schema" in rules and isinstance(value, (dict, Mapping)):
            return self.mapping(rules["schema"], value, path)
        if "valuesrules" in rules and isinstance(value, (dict, Mapping)):
            fits_key = self._check(rules["keysrules"]) if "keysrules" in rules else _ANY
            fits = self._check(rules["valuesrules"])
            return {key: self.field(rules["valuesrules"], item, path + (key,)) for key, item in value.items()
                    if (fits_key(key) and fits(item)) or self._take(path + (key,))}
        return value

    def _items(self, rules: dict[Any, Any], items: list[Any], path: tuple[Any, ...]) -> list[Any]:
        fits = self._check(rules)
        kept = []
        for i, item in enumerate(items):
            if fits(item):
                kept.append(item)
            elif self._take(path + (i,)):
                kept.append(self.field(rules, item, path + (i,)))
            else:
                self.omitted += sum(not fits(rest) for rest in items[i + 1:])
                break
        return kept

    def _take(self, path: tuple[Any, ...]) -> bool:
        """Whether one more failing entry goes to Cerberus; counted as left out when not."""
        if self.left > 0:
            self.left -= 1
            return True
        self.omitted += 1
        self.first = self.first or path
        return False

    def _check(self, rules: dict[Any, Any]) -> Check:
        if id(rules) not in self._checks:
            self._checks[id(rules)] = _compile_field(rules)
        return self._checks[id(rules)]


def leaf_errors(errors: list[Any]) -> list[Any]:
    """Cerberus's errors with the group errors (one per mapping or list) flattened into their leaves."""
    out = []
    for err in errors:
        if err.is_group_error:
            out += leaf_errors(err.child_errors)
        else:
            out.append(err)
    return out


@functools.cache
def _cerberus_class() -> type:
    import cerberus

    class OurKinds(cerberus.Validator):  # type: ignore[misc]  # Cerberus ships no types: its classes are Any
        # Cerberus counts True and False as integers (bool subclasses int), and a timestamp as a date (datetime
        # subclasses date): both types come from the same table as the fast check's, so the two always agree.
        types_mapping = {**cerberus.Validator.types_mapping,
                         **{name: cerberus.TypeDefinition(name, kind.takes, kind.refuses)
                            for name, kind in KINDS.items()}}

        def _check_with_finite(self, field: str, value: Any) -> None:
            if isinstance(value, float) and not math.isfinite(value):
                self._error(field, "must be a finite number (got NaN or infinity)")

    return OurKinds


_SUPPORTED = {"type", "required", "allowed", "min", "max", "regex", "empty", "minlength", "schema", "keysrules",
              "valuesrules", "nullable", "check_with", "meta"}


def compile_mapping(schema: dict[Any, Any]) -> Check:
    """A checker for a mapping whose fields follow `schema` (unknown keys rejected, as Cerberus does by default)."""
    fields = {name: _compile_field(rules) for name, rules in schema.items()}
    required = [name for name, rules in schema.items() if rules.get("required")]

    def check(doc: Any) -> bool:
        if not isinstance(doc, (dict, Mapping)):
            return False
        for name in required:
            if name not in doc:
                return False
        for key, value in doc.items():
            field = fields.get(key)
            if field is None or not field(value):
                return False
        return True

    return check


def _value_checks(rules: dict[Any, Any]) -> list[Check]:
    """The checks on a value itself: its type, range, pattern and size."""
    checks: list[Check] = []
    if rules.get("type"):
        checks.append(TESTS[rules["type"]])  # compliance/kinds.py: the one table of value kinds
    if "allowed" in rules:
        allowed = rules["allowed"]
        checks.append(lambda v: v in allowed)
    if "min" in rules:
        low = rules["min"]
        checks.append(lambda v: v >= low)
    if "max" in rules:
        high = rules["max"]
        checks.append(lambda v: v <= high)
    if "regex" in rules:
        pattern = rules["regex"] if rules["regex"].endswith("$") else rules["regex"] + "$"  # as Cerberus does
        matcher = re.compile(pattern).match
        checks.append(lambda v: not isinstance(v, str) or matcher(v) is not None)
    if rules.get("empty") is False:
        checks.append(lambda v: not (isinstance(v, (str, Sequence, Mapping)) and len(v) == 0))
    if "minlength" in rules:
        shortest = rules["minlength"]
        checks.append(lambda v: len(v) >= shortest)
    if rules.get("check_with") == "finite":
        checks.append(lambda v: not isinstance(v, float) or math.isfinite(v))
    elif "check_with" in rules:
        raise ValueError(f"fastcheck does not know check_with {rules['check_with']!r}")
    return checks


def _nested_checks(rules: dict[Any, Any]) -> list[Check]:
    """The checks on what a list or mapping holds (`all(map(...))`: no generator per value)."""
    checks: list[Check] = []
    if "schema" in rules:
        if rules.get("type") == "list":
            item = _compile_field(rules["schema"])
            checks.append(lambda v: all(map(item, v)))
        else:
            checks.append(compile_mapping(rules["schema"]))
    if "keysrules" in rules:
        key_check = _compile_field(rules["keysrules"])
        checks.append(lambda v: all(map(key_check, v)))
    if "valuesrules" in rules:
        value_check = _compile_field(rules["valuesrules"])
        checks.append(lambda v: all(map(value_check, v.values())))
    return checks


def _compile_field(rules: dict[Any, Any]) -> Check:
    unknown = set(rules) - _SUPPORTED
    if unknown:
        raise ValueError(f"fastcheck does not support the Cerberus rules {sorted(unknown)}")
    checks = _value_checks(rules) + _nested_checks(rules)
    nullable = bool(rules.get("nullable", False))

    def check(value: Any) -> bool:
        if value is None:
            return nullable
        try:
            for c in checks:
                if not c(value):
                    return False
        except TypeError:  # e.g. min on an unorderable value: Cerberus reports an error too
            return False
        return True

    return check
