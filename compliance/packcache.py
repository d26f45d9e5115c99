"""Loaded rule packs kept on disk, keyed by a hash of their bytes, so a one-plan check does not re-parse them.

Parsing and locating the packs was the largest part of a pre-commit run. An entry holds one pack's Document
(data, value positions, key positions) as JSON: data only, never pickle. It is written atomically, only after the
pack validated, and only if it reads back exactly; an entry that cannot be read back is ignored and rebuilt. The
name covers the pack's bytes and the source of the loader and of this module, so an edited pack or another tool
version never meets a stale entry.

Anyone who can write to the cache folder could otherwise change the rules, and entry names are computable from
public bytes. So every entry is authenticated: an HMAC-SHA256, under a per-user secret key, over the entry's name
and its content. The key lives in the user's data folder, never in the cache folder or the working tree, and is
trusted only if it is a regular file that its owner alone can read and write. A cache folder or key inside a
working tree (a folder a checkout controls) is never used, wherever the run starts. PLAN_COMPLIANCE_CACHE names
the folder (`~` is the home folder), or turns the cache off with "off"; the default follows the platform's
convention for caches. What the cache declines or fails to do is logged (`compliance --verbose` shows it).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from compliance import __version__, loader
from compliance.collector import collector_paused
from compliance.errors import InputError
from compliance.loader import Document
from compliance.text import printable
from compliance.worktree import inside, working_tree

ENV = "PLAN_COMPLIANCE_CACHE"
APP = "plan-compliance"
MAX_ENTRIES = 64  # each entry is one version of one pack; the oldest are removed beyond this
MAX_ENTRY_BYTES = 8 * loader.MAX_FILE_BYTES  # a pack is at most MAX_FILE_BYTES; its JSON stays well within this
KEY_BYTES = 32
_FORMAT = 3
_MAC_HEX = 64  # an entry is the hex HMAC, a newline, then the JSON


def folder() -> Path | None:
    """Where entries live, or None when the cache is off or its folder lies inside a working tree."""
    setting = os.environ.get(ENV, "").strip()
    if setting.lower() in ("off", "0", "no", "false"):
        return None
    if setting:
        where = Path(setting).expanduser()
    else:
        import platformdirs

        where = platformdirs.user_cache_path(APP, appauthor=False) / "packs"
    return None if _in_a_checkout(where, "folder") else where


@lru_cache(maxsize=8)
def _in_a_checkout(path: Path, what: str) -> bool:
    """Whether `path` (links resolved) lies in any working tree: whichever checkout holds the files being checked,
    and wherever the run starts, a pull request could write there."""
    tree = working_tree(Path(os.path.realpath(path)))
    if tree is not None:
        _note(f"not used: the {what} {printable(str(path))} lies inside the checkout {printable(str(tree))}")
    return tree is not None


def _note(message: str) -> None:
    """What the cache declines or fails to do: only speed is lost, so it is logged, not shown (`--verbose` shows it).

    Logging is imported only then: a pre-commit run that never needs it does not pay for its import."""
    import logging

    logging.getLogger(__name__).info("pack cache: %s", message)


def key_path() -> Path:
    """The per-user secret that authenticates entries: in the data folder, apart from the cache it guards."""
    import platformdirs

    return platformdirs.user_data_path(APP, appauthor=False) / "pack-cache.key"


def _key(where: Path) -> bytes | None:
    """The secret key, created on first use; None (no cache) if it is not one that only this user controls."""
    path = key_path()
    if inside(path, where):
        _note(f"not used: the key {printable(str(path))} lies inside the cache folder")
        return None
    if _in_a_checkout(path, "key"):
        return None
    return _load_key(path)


@lru_cache(maxsize=8)
def _load_key(path: Path) -> bytes | None:
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
    except FileExistsError:
        pass  # another process made it first: use theirs
    except OSError:
        return None
    try:
        return _read_key(path)
    except OSError:
        return None


def _read_key(path: Path) -> bytes | None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        parent = path.parent.stat()
        uid = os.getuid()
        if (not stat.S_ISREG(info.st_mode) or info.st_uid != uid or info.st_mode & 0o077
                or parent.st_uid != uid or parent.st_mode & 0o022):
            return None
        key = handle.read(KEY_BYTES + 1)
    return key if len(key) == KEY_BYTES else None


def _mac(key: bytes, entry: Path, payload: bytes) -> bytes:
    return hmac.new(key, entry.name.encode() + b"\0" + payload, hashlib.sha256).hexdigest().encode()


def get(raw: bytes, name: str) -> Document | None:
    """The cached Document for these pack bytes, shown as `name`; None on a miss or an entry not proved ours."""
    found = _entry(raw)
    if found is None:
        return None
    entry, key = found
    try:
        content = loader.read_file(entry, entry.name, MAX_ENTRY_BYTES)
    except InputError:
        return None
    mac, _, payload = content.partition(b"\n")
    if not hmac.compare_digest(mac, _mac(key, entry, payload)):
        return None
    try:
        with collector_paused():  # a pack's data and positions live all run: the collector would find nothing
            stored = json.loads(payload, object_hook=_decode_tags)
            if stored.get("format") != _FORMAT:
                return None
            doc = Document(file=name, data=stored["data"], text=raw, positions=_positions(stored["positions"]),
                           key_positions=_positions(stored["key_positions"]), origins=_origins(stored["origins"]))
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    with contextlib.suppress(OSError):  # a read-only cache still serves its entries
        os.utime(entry)  # recently used entries survive pruning
    return doc


def put(doc: Document) -> None:
    """Store a validated pack's Document; skipped if it would not read back exactly or cannot be written (logged)."""
    found = _entry(doc.text)
    if found is None:
        return
    entry, key = found
    try:
        payload = json.dumps({"format": _FORMAT, "data": _encode(doc.data), "positions": _entries(doc.positions),
                              "key_positions": _entries(doc.key_positions),
                              "origins": [[list(path), line] for path, line in doc.origins.items()]},
                             separators=(",", ":")).encode()
        again = json.loads(payload, object_hook=_decode_tags)
        if not (_same(again["data"], doc.data) and _same_positions(again, doc)):
            raise _Unfaithful(doc.file)
        from compliance.atomic import write_atomic  # only on a miss: a hit need not pay for its tempfile import

        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(entry, _mac(key, entry, payload) + b"\n" + payload)
        _prune(entry.parent)
    except OSError as exc:
        _note(f"cannot write {printable(str(entry))}: {printable(exc.strerror or str(exc))}")
    except InputError as exc:
        _note(f"cannot write {printable(str(entry))}: {printable(exc.problems[0].message)}")
    except (_Unfaithful, RecursionError):
        _note(f"{printable(doc.file)} not stored: its values do not read back exactly")


def _entry(raw: bytes) -> tuple[Path, bytes] | None:
    """The entry's path for these pack bytes and the key that authenticates it; None when there is no cache."""
    where = folder()
    if where is None or _SALT is None:
        return None
    key = _key(where)
    if key is None:
        return None
    return where / (hashlib.sha256(_SALT + raw).hexdigest() + ".json"), key


def _salt() -> bytes | None:
    """What, besides the pack's bytes, decides a Document: the tool version and the loader's own source."""
    try:
        parts = [__version__.encode(), Path(loader.__file__).read_bytes(), Path(__file__).read_bytes()]
    except (OSError, TypeError):
        return None  # no source to hash (an unusual install): run without a cache rather than risk a stale one
    return hashlib.sha256(b"\0".join(parts)).digest()


_SALT = _salt()


class _Unfaithful(Exception):
    """A value JSON cannot carry exactly; the pack is then simply not cached."""


def _encode(value: Any) -> Any:
    """Plain YAML data as JSON; dates and non-text keys are tagged by a one-key object whose key starts with $."""
    if isinstance(value, dict):
        if all(type(k) is str and not k.startswith("$") for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise _Unfaithful(type(value).__name__)


def _decode_tags(obj: dict[Any, Any]) -> Any:
    if len(obj) == 1:
        tag, value = next(iter(obj.items()))
        if tag == "$date":
            return date.fromisoformat(value)
        if tag == "$datetime":
            return datetime.fromisoformat(value)
        if tag == "$map":
            return {k: v for k, v in value}
    return obj


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (so 1, 1.0 and True are three different values)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and list(map(type, a)) == list(map(type, b)) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b or (a != a and b != b))  # NaN is not equal to itself, but it is faithfully kept


def _same_positions(stored: dict[Any, Any], doc: Document) -> bool:
    for field, original in (("positions", doc.positions), ("key_positions", doc.key_positions)):
        again = _positions(stored[field])
        if not _same(list(again), list(original)) or list(again.values()) != list(original.values()):
            return False
    origins = _origins(stored["origins"])
    return _same(list(origins), list(doc.origins)) and list(origins.values()) == list(doc.origins.values())


def _entries(positions: dict[Any, Any]) -> list[Any]:
    """{path: (line, column)} as JSON-ready [[path...], line, column] rows (JSON objects have text keys only)."""
    return [[list(path), *at] for path, at in positions.items()]


def _positions(entries: list[Any]) -> dict[Any, Any]:
    return {tuple(path): (line, column) for path, line, column in entries}


def _origins(entries: list[Any]) -> dict[Any, Any]:
    """The anchor lines of merged values, so a cached pack's errors still say where a merged value comes from."""
    return {tuple(path): line for path, line in entries}


def _prune(where: Path) -> None:
    entries = sorted(where.glob("*.json"), key=lambda p: p.stat().st_mtime)
    for old in entries[:-MAX_ENTRIES]:
        old.unlink(missing_ok=True)
