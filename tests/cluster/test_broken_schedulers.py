"""Addresses that are no Dask scheduler (issue 27, item 17): a server that accepts and stays silent hung the run
for ever; garbage, or a frame header announcing exabytes, gave MemoryError or struct.error tracebacks with exit
code 1, then a hang in Client.__del__. Each must now end within the connect timeout, exit 3, one line."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.cluster.clusters import compliance
from tests.helpers import EXAMPLE_PLAN

pytestmark = pytest.mark.cluster


@contextmanager
def server(answer: bytes) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that sends `answer` to whoever connects and then says nothing more, keeping the
    connection open until the test is done (at most 60 s: it stops by itself)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    done = threading.Event()
    held = []

    def serve() -> None:
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)
            conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        done.set()
        thread.join(timeout=10)
        for conn in held:
            conn.close()
        listener.close()


@pytest.mark.parametrize(("answer", "says"), [
    (b"", "cannot reach the Dask scheduler at {} (connect timeout 2s): no answer"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4, "{} does not answer as a Dask scheduler (MemoryError)"),
    (struct.pack("<Q", 2**63 - 1), "{} does not answer as a Dask scheduler (MemoryError)"),
    (struct.pack("<QQQ", 16, 1, 2**64 - 1), "{} does not answer as a Dask scheduler ("),
], ids=["silent", "garbage", "huge-frame", "huge-part"])
def test_a_server_that_is_no_scheduler_ends_the_run_at_once_with_one_line(tmp_path, answer, says):
    with server(answer) as address:
        begun = time.monotonic()
        proc = compliance("check", str(EXAMPLE_PLAN), "--scheduler", address, cwd=tmp_path, timeout=60,
                          env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
        took = time.monotonic() - begun
    stderr = proc.stderr.decode()
    assert (proc.returncode, proc.stdout) == (3, b""), stderr
    assert stderr.startswith("Error: " + says.format(address)) and stderr.count("\n") == 1, stderr
    assert took < 20, took  # the interpreter, Dask's import and the 2 s timeout; it was for ever, or 60 s more
