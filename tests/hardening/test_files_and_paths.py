"""Outputs: never half-written, never written through a symlink, safe against concurrent runs and Ctrl-C."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pypdf
import pytest

from tests.helpers import EXAMPLE_PLAN, ROOT


def no_leftovers(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".part")]


def test_output_in_a_missing_directory(tmp_path, run_cli):
    target = tmp_path / "nope" / "report.json"
    result = run_cli("check", str(EXAMPLE_PLAN), "--format", "json", "-o", str(target))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{target}: cannot write: folder {target.parent} does not exist"


def test_output_in_an_unwritable_directory(run_cli):
    result = run_cli("check", str(EXAMPLE_PLAN), "-o", "/sys/plan-report.txt")
    assert result.exit_code == 2
    assert result.stderr.strip() == "/sys/plan-report.txt: cannot write in /sys: Permission denied"


def test_output_that_is_a_directory(tmp_path, run_cli):
    result = run_cli("check", str(EXAMPLE_PLAN), "-o", str(tmp_path))
    assert result.exit_code == 2


def test_existing_output_is_replaced_whole(tmp_path, run_cli):
    target = tmp_path / "report.json"
    target.write_text("old report")
    run_cli("check", str(EXAMPLE_PLAN), "--format", "json", "-o", str(target), "--as-of", "2026-11-22")
    assert target.read_text().startswith("{") and no_leftovers(tmp_path)


def test_symlinked_output_is_replaced_not_written_through(tmp_path, run_cli):
    victim = tmp_path / "victim.txt"
    victim.write_text("must not change")
    link = tmp_path / "report.txt"
    link.symlink_to(victim)
    run_cli("check", str(EXAMPLE_PLAN), "-o", str(link), "--as-of", "2026-11-22")
    assert victim.read_text() == "must not change"
    assert not link.is_symlink() and "Acme Manufacturing" in link.read_text()


@pytest.mark.pdf
def test_two_runs_writing_the_same_memo_at_once(tmp_path):
    target = tmp_path / "memo.pdf"
    cmd = [sys.executable, "-m", "compliance", "memo", str(EXAMPLE_PLAN), "-o", str(target), "--as-of", "2026-11-22"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    reader = pypdf.PdfReader(io.BytesIO(target.read_bytes()))
    assert "Acme Manufacturing" in reader.pages[0].extract_text()
    assert no_leftovers(tmp_path)


@pytest.mark.pdf
def test_ctrl_c_that_a_library_swallows_still_stops_the_batch(tmp_path):
    """Found by a rare failure of the test below: a KeyboardInterrupt raised inside a library that swallows it
    (a bare `except:`) let the run carry on. The memo being written is finished whole; the batch stops there."""
    plans = tmp_path / "plans"
    plans.mkdir()
    for i in range(3):
        (plans / f"p{i}.yaml").write_bytes(EXAMPLE_PLAN.read_bytes())
    out = tmp_path / "out"
    code = ("import os, signal, sys\n"
            "import compliance.memo.writer as writer\n"
            "real = writer.memo_bytes\n"
            "def swallowing(*args, **kwargs):  # as a library with a bare except would\n"
            "    try:\n"
            "        os.kill(os.getpid(), signal.SIGINT)\n"
            "    except BaseException:\n"
            "        pass\n"
            "    return real(*args, **kwargs)\n"
            "writer.memo_bytes = swallowing\n"
            f"sys.argv = ['compliance', 'memo', {str(plans)!r}, '-o', {str(out)!r}]\n"
            "from compliance.cli import main; main()\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=300)
    assert proc.returncode == 130, proc.stderr
    assert b"Interrupted." in proc.stderr and b"Traceback" not in proc.stderr
    assert [p.name for p in out.glob("*.pdf")] == ["p0.pdf"]
    assert proc.stdout.decode().splitlines() == [str(out / "p0.pdf")]  # the memo it finished is listed
    pypdf.PdfReader(io.BytesIO((out / "p0.pdf").read_bytes()))  # the memo it was writing is whole
    assert no_leftovers(out)


@pytest.mark.pdf
def test_interrupted_memo_leaves_no_partial_file(tmp_path):
    target = tmp_path / "memo.pdf"
    target.write_bytes(b"the previous memo")
    plans = tmp_path / "plans"
    plans.mkdir()
    for i in range(6):
        (plans / f"p{i}.yaml").write_bytes(EXAMPLE_PLAN.read_bytes())
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "compliance", "memo", str(plans), "-o", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and not (out.exists() and any(out.glob("*.pdf"))):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"Interrupted." in err and b"Traceback" not in err
    assert no_leftovers(out)
    for pdf in out.glob("*.pdf"):
        pypdf.PdfReader(io.BytesIO(pdf.read_bytes()))  # every memo that exists is complete
    assert len(list(out.glob("*.pdf"))) < 6
    assert target.read_bytes() == b"the previous memo"


def test_a_fifo_or_device_given_as_a_plan_is_refused_at_once(run_cli, tmp_path):
    fifo = tmp_path / "plan.yaml"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        result = run_cli("check", str(path))
        assert result.exit_code == 2
        assert result.stderr.strip() == f"{path}: is not a regular file (a device, FIFO or socket); refused"
