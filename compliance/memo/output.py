"""Where memos go and what reproduces them: the output's format, one file per plan mirroring the plans' folders,
and the command recorded in each memo. Nothing here lays out a memo, so it loads neither Jinja2 nor WeasyPrint.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from compliance.errors import InputError
from compliance.memo.context import MemoOptions
from compliance.worktree import working_tree

MEMO_SUFFIXES = {".pdf": "pdf", ".html": "html", ".htm": "html"}
MEMO_FORMATS = tuple(dict.fromkeys(MEMO_SUFFIXES.values()))  # `compliance memo --format` offers these


def names_folder(output: Path) -> bool:
    """Whether `-o` names a folder (one memo per plan): it ends in a separator, is one, or has no extension."""
    return str(output).endswith(("/", os.sep)) or output.is_dir() or (not output.suffix and str(output) != "-")


def memo_format(output: Path, fmt: str | None, as_folder: bool) -> str:
    """The memo's format: --format, else the file's extension, else PDF; a file whose extension says otherwise
    is refused rather than written as something its name does not say."""
    if as_folder or str(output) == "-":
        return (fmt or "pdf").lower()
    named = MEMO_SUFFIXES.get(output.suffix.lower())
    if named is None:
        raise InputError.at(str(output), 0, 0, f"a memo is a .pdf or an .html file, not {output.suffix}; name a "
                                               f"folder as one (`{output.with_suffix('')}/`) for several memos")
    if fmt and fmt.lower() != named:
        raise InputError.at(str(output), 0, 0, f"--format {fmt.lower()} writes {fmt.lower().upper()}, but the file "
                                               f"is named {output.suffix}: name it .{fmt.lower()} or drop --format")
    return named


def memo_targets(plans: list[str], folder: Path, fmt: str) -> list[tuple[str, Path]]:
    """One memo per plan under `folder`, mirroring the plans' folders below their common parent, so two plans
    with the same name in different folders never share a memo; names that would still collide are refused."""
    parents = [os.path.dirname(os.path.abspath(p)) for p in plans]  # noqa: PTH100, PTH120 (normalised strings)
    root = os.path.commonpath(parents) if parents else ""
    targets: list[tuple[str, Path]] = []
    seen: dict[Path, str] = {}
    for plan, parent in zip(plans, parents, strict=True):
        target = folder / os.path.relpath(parent, root) / f"{Path(plan).stem}.{fmt}"
        target = Path(os.path.normpath(target))
        if target in seen:
            raise InputError.at(plan, 0, 0, f"its memo would be {target}, like the memo of {seen[target]}; "
                                            f"rename one of them")
        seen[target] = plan
        targets.append((plan, target))
    return targets


def reproduction_command(as_of: date, packs: Sequence[str], since: str | None, settings_file: str | Path | None) -> str:
    """What reproduces the memo's content: the date, the packs, the settings and the comparison (not --jobs or
    output paths, so a memo is byte-identical however it was run)."""
    pack_args = "".join(f" --rules {p}" for p in packs) if list(packs) != ["bundled"] else ""
    settings = f" (settings: {settings_file})" if settings_file else ""
    return f"compliance memo --as-of {as_of.isoformat()}{pack_args}{f' --since {since}' if since else ''}{settings}"


def memo_options(plans: Sequence[str], as_of: date, packs: Sequence[str], *, since: str | None,
                 settings_file: str | Path | None, prepared_by: str, committee: str) -> MemoOptions:
    """The options every memo of a run shares: who wrote it for whom, the comparison, the reproduction command,
    and the folder the command ran in with the checkouts holding the plans (for naming plan files)."""
    folders = dict.fromkeys(os.path.dirname(os.path.abspath(p)) for p in plans)  # noqa: PTH100, PTH120
    trees = {str(tree) for tree in map(working_tree, map(Path, folders)) if tree}
    return MemoOptions(prepared_by=prepared_by, committee=committee, since=since or "", cwd=str(Path.cwd()),
                       trees=tuple(sorted(trees)), command=reproduction_command(as_of, packs, since, settings_file))
