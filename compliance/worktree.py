"""Where the working tree (a version-control checkout) begins, so files that a checkout controls can be told apart.

A checkout is untrusted input in CI: the pack cache never lives in one, and configuration is looked for only
inside the checkout that holds the current folder, never above it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

MARKERS = (".git", ".hg", ".svn")


def working_tree(start: Path) -> Path | None:
    """The nearest folder at or above `start` that holds a version-control marker; None outside any checkout."""
    return _working_tree(str(Path(start).absolute()))


@lru_cache(maxsize=64)
def _working_tree(start: str) -> Path | None:
    folder = Path(start)
    for candidate in (folder, *folder.parents):
        if any(os.path.lexists(candidate / marker) for marker in MARKERS):
            return candidate
    return None


def inside(path: Path, folder: Path) -> bool:
    """True if `path` is `folder` or lies below it, judged on real paths (links resolved as far as they exist)."""
    real, base = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return real == base or base in real.parents
