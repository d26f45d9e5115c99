"""Atomic file output: write a temporary file beside the target, then rename it into place.

A failed or interrupted run (including Ctrl-C) never leaves a partial file and never damages an existing one.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from compliance.errors import InputError


@contextmanager
def atomic_writer(target: Path) -> Iterator[IO[bytes]]:
    """Yields a binary file; on success it replaces `target` in one rename, on any failure it vanishes."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError.at(str(target), 0, 0, f"cannot write: folder {folder} does not exist")
    if target.is_dir():
        raise InputError.at(str(target), 0, 0, "cannot write: is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise InputError.at(str(target), 0, 0, f"cannot write in {folder}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(target: Path, data: bytes) -> None:
    with atomic_writer(target) as handle:
        handle.write(data)
