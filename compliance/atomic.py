"""Atomic file output: write a temporary file beside the target, then rename it into place.

A failed or interrupted run (including Ctrl-C and SIGTERM) never leaves a partial file and never damages an
existing one. A replaced file keeps its mode; a new one gets the mode the user's umask gives. A character device
or a FIFO (`-o /dev/null`, a pipe) is written through, since renaming over it would replace the device with a
plain file; other special files are refused, and `-` means standard output.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from compliance.errors import InputError
from compliance.worktree import refuse_leaving_tree

STDOUT = "-"


@contextmanager
def atomic_writer(target: Path) -> Iterator[IO[bytes]]:
    """Yields a binary file; on success it replaces `target` in one rename, on any failure it vanishes."""
    target = Path(target)
    if str(target) == STDOUT:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        existing = os.stat(target)
    except OSError:
        existing = None
    if existing is not None and (stat.S_ISCHR(existing.st_mode) or stat.S_ISFIFO(existing.st_mode)):
        with open(target, "wb") as stream:  # a device or a pipe: there is nothing to replace atomically
            yield stream
        return
    refuse_leaving_tree(target)
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise InputError.at(str(target), 0, 0, "cannot write: is a directory")
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise InputError.at(str(target), 0, 0, "cannot write: not a regular file, a character device or a FIFO")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError.at(str(target), 0, 0, f"cannot write: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise InputError.at(str(target), 0, 0, f"cannot write in {folder}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.S_IMODE(existing.st_mode) if existing is not None else _new_file_mode())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _new_file_mode() -> int:
    """What open() would give a new file: 0666 less the umask (read without changing it for long)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(target: Path, data: bytes) -> None:
    with atomic_writer(target) as handle:
        handle.write(data)
