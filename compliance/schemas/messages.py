"""The one translator from Cerberus's errors to located messages in our words, for every file format.

Plan files, rule packs and `.compliance.yaml` all speak through `problems()`: one table of type words (from compliance/kinds.py), one
"did you mean", and field hints read from the schema entry itself (`meta.form`, `meta.unit`), never keyed by
the last name in a path.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from compliance.errors import Problem, format_path
from compliance.kinds import KINDS, is_number
from compliance.loader import Document
from compliance.schemas.validator import MAX_FAILING, Validator, leaf_errors

TYPE_WORDS = {name: kind.word for name, kind in KINDS.items()}  # "must be a number": compliance/kinds.py
SUGGESTION_CUTOFF = 0.6


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """"; did you mean 'x'?" for the closest of `choices`, or nothing: the one suggestion helper."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=SUGGESTION_CUTOFF)
    return f"; did you mean {close[0]!r}?" if close else ""


def problems(doc: Document, against: Validator, data: Any,
             name_path: Callable[[tuple[Any, ...]], str] = format_path) -> list[Problem]:
    """Every problem Cerberus finds in `data`, located in `doc` and sorted by position; [] when it is valid.

    Past MAX_FAILING problems, one last problem says how many more there are at least, and where they start.

    `name_path` words a path for people (a plan names a fund by its id rather than its position).
    """
    rejected = against.rejects(data)
    if rejected is None:
        return []
    validator, cut = rejected
    found = [_problem(doc, against.schema, err, name_path) for err in leaf_errors(validator._errors)]
    found.sort(key=lambda p: (p.location.line, p.location.column))
    if len(found) <= MAX_FAILING and cut.first is None:
        return found
    # each entry left out holds at least one problem
    more = len(found[MAX_FAILING:]) + cut.omitted
    where = found[MAX_FAILING].location if len(found) > MAX_FAILING else doc.locate(cut.first or ())
    return found[:MAX_FAILING] + [Problem(where, f"at least {more:,} more problems from here on are not listed; "
                                                 f"fix the ones above first")]


def entry_at(schema: dict[Any, Any], path: tuple[Any, ...]) -> dict[Any, Any]:
    """The schema entry for the value at a document path (list indices and mapping keys resolved)."""
    entry: dict[Any, Any] = {"type": "dict", "schema": schema}
    for part in path:
        if entry.get("type") == "list" or isinstance(part, int):
            entry = entry.get("schema", {})
            if isinstance(part, int):
                continue
        entry = entry["valuesrules"] if "valuesrules" in entry else entry.get("schema", {}).get(part, {})
    return entry


def _problem(doc: Document, schema: dict[Any, Any], err: Any, name_path: Callable[[tuple[Any, ...]], str]) -> Problem:
    """One Cerberus error (a cerberus.errors.ValidationError) as a located message."""
    from cerberus.errors import UNKNOWN_FIELD  # only reached for invalid input, after Cerberus has run

    path = tuple(err.document_path)
    where = name_path(path)
    value = err.value
    meta = entry_at(schema, path).get("meta", {}) if path else {}
    if err.rule == "type" and err.constraint == "string" and is_number(value):
        raw = _raw_scalar(doc, path) or str(value)
        return Problem(doc.locate(path), f"{where}: must be text (got the number {raw}, which YAML reads as "
                                         f"{value!r}); quote it: \"{raw}\"")
    if err.code == UNKNOWN_FIELD.code:
        allowed = list(entry_at(schema, path[:-1]).get("schema", {}))
        suffix = did_you_mean(path[-1], allowed) or f"; allowed here: {', '.join(allowed)}"
        return Problem(doc.locate(path, key=True), f"{where}: unknown field{suffix}")
    if err.rule == "required":
        return Problem(doc.locate(path[:-1], key=True), f"{where}: required field is missing")
    if err.rule == "type":
        return Problem(doc.locate(path), f"{where}: {type_message(err.constraint, value)}")
    if err.rule == "allowed":
        choices = ", ".join(map(str, err.constraint))
        return Problem(doc.locate(path), f"{where}: {value!r} is not one of: {choices}"
                                         f"{did_you_mean(value, err.constraint)}")
    if err.rule in ("min", "max"):
        word = "at least" if err.rule == "min" else "at most"
        note = ""
        if meta.get("unit") == "percent":
            note = "; percentages are written as numbers 0-100"
        elif meta.get("unit") == "fraction" and err.rule == "max":
            note = f"; write ratios as fractions ({value} looks like a percentage: {value}% is {value / 100:g})"
        return Problem(doc.locate(path), f"{where}: must be {word} {err.constraint} (got {value!r}){note}")
    if err.rule == "regex":
        return Problem(doc.locate(path), f"{where}: {value!r} does not match the expected form "
                                         f"{meta.get('form', err.constraint)}")
    if err.rule in ("empty", "minlength"):
        return Problem(doc.locate(path), f"{where}: must not be empty")
    if err.rule == "nullable":
        return Problem(doc.locate(path), f"{where}: has no value; give one or remove the key")
    custom = err.info[0] if err.info and isinstance(err.info[0], str) else None
    return Problem(doc.locate(path), f"{where}: {custom or f'failed the {err.rule} check'}")


def type_message(expected: str, value: Any) -> str:
    """"must be a date (got 'soon'; write YYYY-MM-DD)": what was expected, what was found, how to write it."""
    if isinstance(value, bool):
        got = f"got {str(value).lower()}"
    elif isinstance(value, datetime):
        got = f"got the timestamp {value.isoformat()}"
    elif isinstance(value, (dict, list)):
        got = f"got a {type(value).__name__}"
    else:
        got = f"got {value!r}"
    message = f"must be {TYPE_WORDS.get(expected, expected)} ({got}"
    if expected == "number" and isinstance(value, str) and value.strip().endswith("%"):
        with contextlib.suppress(ValueError):
            message += f"; write {float(value.strip().rstrip('%')) / 100:g}"
    elif expected == "date":
        message += "; a date takes no time of day: write YYYY-MM-DD" if isinstance(value, datetime) \
            else "; write YYYY-MM-DD"
    elif expected == "boolean" and isinstance(value, str):
        message += "; write true or false without quotes"
    elif isinstance(value, bool):
        message += "; YAML reads an unquoted yes, no, on, off, true or false as true or false"
    return message + ")"


def _raw_scalar(doc: Document, path: tuple[Any, ...]) -> str | None:
    """The value as written in the file (`001`, not the 1 YAML made of it), for messages."""
    loc = doc.locate(path)
    lines = doc.text.decode("utf-8", "replace").splitlines()
    if not loc.line or loc.line > len(lines):
        return None
    match = re.match(r"[^\s,#\]}]+", lines[loc.line - 1][loc.column - 1:])
    return match.group() if match else None
