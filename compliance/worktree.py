"""Where the working tree (a version-control checkout) begins, so files that a checkout controls can be told apart.

A checkout is untrusted input in CI: the pack cache never lives in one, configuration is looked for only
inside the checkout that holds the current folder, never above it, and an output named inside the checkout never
follows a committed symbolic link out of it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from compliance.errors import InputError

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


def refuse_leaving_tree(target: Path) -> None:
    """Refuse an output named inside the current checkout whose folder resolves outside it: a committed symlink
    (`memos -> ../elsewhere`) must not carry a write out of the checkout. An output named outside it is the
    user's own choice (`-o "$RUNNER_TEMP/x.sarif"`)."""
    tree = working_tree(Path.cwd())
    folder = Path(os.path.abspath(target)).parent  # noqa: PTH100 (named, links not followed)
    if tree is None or not (folder == tree or tree in folder.parents) or inside(folder, tree):
        return
    raise InputError.at(str(target), 0, 0, f"cannot write: {folder} leads out of the checkout through a symbolic "
                                           f"link (to {os.path.realpath(folder)}); name an output inside it")
