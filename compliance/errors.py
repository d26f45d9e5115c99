"""The one exception type for bad user input (the CLI turns it into exit code 2), and how its places are named."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from compliance.text import lead_path, printable

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-]+")


def format_path(path: tuple[Any, ...]) -> str:
    """`('menu', 3, 'expense_ratio')` -> `menu[3].expense_ratio`, the form users see in errors.

    Keys that are not plain names (spaces, newlines, dots, quotes...) are shown quoted, `['odd key']`, so an
    error message always stays on one line and says exactly which key it means.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(str(part)):
            out += f"[{str(part)!r}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


class RunError(Exception):
    """A run that cannot go on for a reason other than bad input in a file (a cluster that cannot do it, a
    scheduler refused): the CLI shows it as one line and exits with its `exit_code`."""

    exit_code: int


class Location(NamedTuple):
    """Where something sits in a YAML file: 1-based line and column."""

    file: str
    line: int = 0
    column: int = 0
    origin: int = 0  # for a value merged from a YAML anchor: the line where the anchor gives it

    def __str__(self) -> str:
        """As printed for people: a file name from any source cannot break the line or start a runner command."""
        if not self.line:
            return lead_path(self.file)
        return f"{lead_path(self.file)}:{self.line}:{self.column}"


class Problem(NamedTuple):
    """One located, human-readable complaint about an input file."""

    location: Location
    message: str

    def __str__(self) -> str:
        origin = f" (the value comes from the anchor on line {self.location.origin})" if self.location.origin else ""
        return f"{self.location}: {printable(self.message)}{origin}"


class InputError(Exception):
    """Bad plan, pack, config or argument. Carries every problem found, each located."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, file: str, line: int, column: int, message: str) -> InputError:
        return cls(Problem(Location(file, line, column), message))


class NotAPlan(InputError):
    """A rule pack found where a plan file belongs (a folder holding both): a note for the user, not a defect."""
