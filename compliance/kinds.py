"""The kinds of value a plan or pack holds: one table, read by every part that tests or names a value's kind.

Each kind is declared once, by the Python types it takes and the types it refuses among those, and from that
declaration come the test (`number(1.5)`), the words a message uses ("must be a number"), the plural ("a list of
numbers"), the JSON Schema fragment, and the Cerberus type that explains a failure. So "a number is never a bool"
(YAML reads an unquoted `yes` as true, and Python counts True as 1) and "a date is never a timestamp" are each
written here and nowhere else.

The names are the plan schema's type words (`_s("number", ...)`). This module imports nothing from the package,
so any layer may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

Test = Callable[[Any], bool]


class Kind(NamedTuple):
    """One kind of value: what it takes, what it refuses among that, and how people and JSON Schema name it."""

    name: str  # the schema's type word
    takes: tuple[type, ...]  # isinstance of one of these ...
    refuses: tuple[type, ...]  # ... and of none of these
    word: str  # "must be a number"
    plural: str  # "a list of numbers"
    json: dict[str, str]  # the JSON Schema fragment that states the kind


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("string", (str,), (), "text", "texts", {"type": "string"}),
    Kind("integer", (int,), (bool,), "a whole number", "whole numbers", {"type": "integer"}),
    Kind("number", (int, float), (bool,), "a number", "numbers", {"type": "number"}),
    Kind("boolean", (bool,), (), "true or false", "true or false values", {"type": "boolean"}),
    Kind("date", (date,), (datetime,), "a date", "dates", {"type": "string", "format": "date"}),
    # dict and list first: the ABCs' isinstance is the slow path
    Kind("dict", (dict, Mapping), (), "a mapping of fields", "mappings of fields", {"type": "object"}),
    Kind("list", (list, Sequence), (str,), "a list", "lists", {"type": "array"}),
)}


def _compiled(kind: Kind) -> Test:
    """The kind's test as one closure over its tuples (called for every value of a plan: no attribute lookups)."""
    takes, refuses = kind.takes, kind.refuses
    if not refuses:
        return lambda value: isinstance(value, takes)
    return lambda value: isinstance(value, takes) and not isinstance(value, refuses)


TESTS: dict[str, Test] = {name: _compiled(kind) for name, kind in KINDS.items()}
is_number = TESTS["number"]
is_integer = TESTS["integer"]


def kind_of(value: Any) -> str | None:
    """The name of the kind a value is (1 and 0.5 are both a number, never an integer), or None for none."""
    for name in ("boolean", "number", "string", "date", "dict", "list"):
        if TESTS[name](value):
            return name
    return None
