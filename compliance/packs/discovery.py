"""Finding rule-pack files and reading each one, validated (or from the verified cache)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from compliance import packcache
from compliance.errors import InputError
from compliance.loader import Document, load_bytes, read_file
from compliance.schemas.pack import PACK_VALIDATOR, check_pack

BUNDLED_RULES = Path(__file__).parent.parent / "rules"


def discover(references: Sequence[str | Path]) -> list[Path]:
    """Pack files named by paths (files, or directories holding *.yaml) in a stable order; 'bundled' = ours."""
    files: list[Path] = []
    for ref in references:
        path = BUNDLED_RULES if str(ref) == "bundled" else Path(ref)
        if path.is_dir():
            inside = sorted(p for p in path.glob("*.yaml") if p.is_file())
            if not inside:  # loading no rules would pass every plan: never silently
                raise InputError.at(str(ref), 0, 0, "no rule packs (*.yaml) in this folder")
            files += inside
        elif path.is_file():
            files.append(path)
        else:
            raise InputError.at(str(ref), 0, 0, "no such rule pack file or directory")
    unique: dict[Path, None] = {}
    for f in files:
        unique.setdefault(f.resolve(), None)
    return list(unique)


def read_pack_bytes(path: Path) -> bytes:
    return read_file(path, display_name(path))


def load_pack_bytes(raw: bytes, name: str) -> Document:
    """A pack's bytes, loaded and validated (or taken from the cache when these bytes were validated before)."""
    doc = packcache.get(raw, name)
    if doc is not None and PACK_VALIDATOR.accepts(doc.data):
        return doc
    doc = load_bytes(raw, name)
    check_pack(doc)
    packcache.put(doc)
    return doc


def display_name(path: Path) -> str:
    """Paths in messages: relative to the working directory when possible, 'rules/x.yaml' for bundled packs."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        try:
            return "rules/" + str(resolved.relative_to(BUNDLED_RULES.resolve()))
        except ValueError:
            return str(path)
