"""`--scheduler` on a real Dask cluster: a LocalCluster of two worker processes (one thread each) on the loopback
address, no dashboard, no fixed port. Every run is the real CLI in a subprocess, compared byte for byte with a local
run."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from distributed import Client

from compliance import __version__
from tests.cluster.clusters import compliance, local_cluster
from tests.helpers import EXAMPLE_PLAN, ROOT, write_plan

pytestmark = pytest.mark.cluster

POLICY = ROOT / "examples" / "sponsor-policy.yaml"


@pytest.fixture(scope="module")
def cluster():
    environment = dict(os.environ)  # Dask's nannies set OMP_NUM_THREADS, PYTHONHASHSEED... here for their workers
    with local_cluster(2) as local, Client(local, set_as_default=False) as client:
        http = client.scheduler_info()["services"]["dashboard"]  # Dask's health and metrics routes, no dashboard
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(f"http://127.0.0.1:{http}/status", timeout=10)
        assert all(a.startswith("tcp://127.0.0.1:") for a in [local.scheduler_address, *client.nthreads()])
        yield local.scheduler_address, client
    os.environ.clear()
    os.environ.update(environment)  # the tests after these start their subprocesses as before


def book(folder: Path, count: int) -> Path:
    """`count` plans (the example and clean ones), a broken plan and a rule pack among them."""
    plans = folder / "plans"
    plans.mkdir(parents=True)
    for n in range(count):
        if n % 2:
            write_plan(plans, {"plan": {"name": f"Clean Plan {n}"}}, name=f"p{n:02d}.yaml")
        else:
            shutil.copy(EXAMPLE_PLAN, plans / f"p{n:02d}.yaml")
    (plans / "p01-broken.yaml").write_text("plan: [unclosed\n")
    shutil.copy(POLICY, plans / "zz-policy.yaml")
    return plans


def test_check_on_the_cluster_writes_the_same_bytes_as_a_local_run(tmp_path, cluster):
    """Text on stdout, JSON and SARIF beside it, stderr and the exit code: all identical, with a sponsor pack
    that the workers only see as bytes sent by the client."""
    address, _ = cluster
    book(tmp_path, 40)
    runs = {}
    for where, extra in (("local", []), ("cluster", ["--scheduler", address])):
        proc = compliance("check", "plans", "--rules", "bundled", "--rules", str(POLICY), "--as-of", "2026-11-22",
                          "--also", f"json={where}.json", "--also", f"sarif={where}.sarif", *extra, cwd=tmp_path)
        runs[where] = (proc.returncode, proc.stdout, proc.stderr,
                       (tmp_path / f"{where}.json").read_bytes(), (tmp_path / f"{where}.sarif").read_bytes())
    assert runs["cluster"] == runs["local"]
    code, stdout, stderr, json_bytes, _ = runs["local"]
    assert code == 2 and b"plans/p01-broken.yaml:2:1: YAML syntax error" in stderr
    assert b"skipped plans/zz-policy.yaml" in stdout and b"retried" not in stderr
    assert stdout.index(b"plans/p00.yaml") < stdout.index(b"plans/p38.yaml")  # in the plans' order
    document = json.loads(json_bytes)
    assert len(document["plans"]) == 40 and "acme-ips" in [p["id"] for p in document["packs"]]


def test_impact_on_the_cluster_gives_the_same_bytes_as_a_local_run(tmp_path, cluster):
    """Each plan read once by the client and judged twice by a worker, which builds both rulesets (the packs
    and the packs under the scenario) from the recipes the client sends."""
    address, _ = cluster
    book(tmp_path, 12)
    scenario = ROOT / "rules" / "scenarios" / "dia-final-2027.yaml"
    runs = {}
    for where, extra in (("local", []), ("cluster", ["--scheduler", address])):
        proc = compliance("impact", "plans", "--rules", "bundled", "--rules", str(POLICY), "--scenario",
                          str(scenario), "--format", "json", *extra, cwd=tmp_path)
        runs[where] = (proc.returncode, proc.stdout, proc.stderr)
    assert runs["cluster"] == runs["local"]
    code, stdout, stderr = runs["local"]
    assert code == 2 and b"plans/p01-broken.yaml:2:1: YAML syntax error" in stderr
    document = json.loads(stdout)
    assert document["summary"]["plans"] == len(document["plans"]) == 12


def test_memos_on_the_cluster_are_byte_identical_to_local_ones(tmp_path, cluster):
    address, _ = cluster
    for where, extra in (("local", []), ("cluster", ["--scheduler", address])):
        folder = tmp_path / where
        book(folder, 2)
        proc = compliance("memo", "plans", "-o", "out", "--as-of", "2026-11-22", *extra, cwd=folder)
        assert proc.returncode == 2, proc.stderr  # the broken plan
        assert b"plans/p01-broken.yaml:2:1: YAML syntax error" in proc.stderr
        assert proc.stdout.decode().split() == ["out/p00.pdf", "out/p01.pdf"]
    for name in ("p00.pdf", "p01.pdf"):
        local = (tmp_path / "local" / "out" / name).read_bytes()
        assert local.startswith(b"%PDF-") and (tmp_path / "cluster" / "out" / name).read_bytes() == local


def test_a_custom_template_is_sent_to_the_workers_and_its_errors_are_located_as_locally(tmp_path, cluster):
    address, _ = cluster
    plan = write_plan(tmp_path, {"plan": {"name": "Templated Plan"}})
    template = tmp_path / "tpl"
    template.mkdir()
    (template / "memo.html.j2").write_text("<p>{{ plan_name }} for {{ committee }}</p>\n")
    outputs = []
    for extra in ([], ["--scheduler", address]):
        proc = compliance("memo", plan.name, "-o", "memo.html", "--template-dir", "tpl", "--format", "html",
                          "--as-of", "2026-11-22", *extra, cwd=tmp_path)
        outputs.append((proc.returncode, proc.stderr, (tmp_path / "memo.html").read_bytes()))
    assert outputs[1] == outputs[0] and outputs[0][2] == b"<p>Templated Plan for Investment Committee</p>"
    (template / "memo.html.j2").write_text("<p>{{ plan_name </p>\n")
    errors = [compliance("memo", plan.name, "-o", "memo.html", "--template-dir", "tpl", "--format", "html", *extra,
                         cwd=tmp_path) for extra in ([], ["--scheduler", address])]
    assert [(e.returncode, e.stderr) for e in errors] == [(2, errors[0].stderr)] * 2
    assert errors[0].stderr.startswith(b"tpl/memo.html.j2:1:0: template error")


def test_a_worker_killed_mid_run_leaves_every_memo_written_whole_once(tmp_path, cluster):
    """SIGKILL to a worker process while it renders a memo: Dask re-runs its tasks on the other worker, the run
    still exits 0, each memo is listed once and complete, and stderr (not a memo) says what was retried."""
    address, client = cluster
    plans = tmp_path / "plans"
    plans.mkdir()
    for n in range(6):
        shutil.copy(EXAMPLE_PLAN, plans / f"p{n}.yaml")
    pids = client.run(os.getpid)
    begun = time.time()
    run = subprocess.Popen([sys.executable, "-m", "compliance", "memo", "plans", "-o", "out", "--as-of", "2026-11-22",
                            "--scheduler", address], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    victim = None
    while victim is None and run.poll() is None and time.time() - begun < 240:
        started = {m["worker"]: m["index"] for t, m in client.get_events("plan-compliance") if t > begun}
        for worker, index in started.items():  # a worker still rendering the last memo it started
            if not (tmp_path / "out" / f"p{index}.pdf").exists() and client.processing(workers=[worker]).get(worker):
                os.kill(pids[worker], signal.SIGKILL)
                victim = worker
                break
        time.sleep(0.05)
    stdout, stderr = run.communicate(timeout=300)
    assert victim is not None, "the run ended before a worker could be killed"
    assert run.returncode == 0, stderr.decode()
    assert stdout.decode().split() == [f"out/p{n}.pdf" for n in range(6)]
    retried = re.findall(r"retried after a worker was lost: (plans/p\d\.yaml) \(started on (\S+),", stderr.decode())
    assert retried and all(first == victim for _, first in retried), stderr.decode()
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no partial file left
    local = compliance("memo", retried[0][0], "-o", "again.pdf", "--as-of", "2026-11-22", cwd=tmp_path)
    assert local.returncode == 0
    memo = Path(retried[0][0]).with_suffix(".pdf").name
    assert (tmp_path / "out" / memo).read_bytes() == (tmp_path / "again.pdf").read_bytes()
    for pdf in (tmp_path / "out").iterdir():
        assert pdf.read_bytes().rstrip().endswith(b"%%EOF")
    client.wait_for_workers(2, timeout=120)  # the nanny restarts the killed worker for the tests after this one


def test_an_unreachable_scheduler_is_a_clear_error_within_the_connect_timeout(tmp_path):
    begun = time.time()
    proc = compliance("check", str(EXAMPLE_PLAN), "--scheduler", "tcp://127.0.0.1:9", cwd=tmp_path,
                      env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
    assert proc.returncode == 3 and time.time() - begun < 60
    assert proc.stderr.decode().startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9 "
                                           "(connect timeout 2s)")
    assert b"Traceback" not in proc.stderr and proc.stdout == b""


def test_a_scheduler_without_workers_is_a_clear_error(tmp_path):
    with local_cluster(0) as empty:
        proc = compliance("memo", str(EXAMPLE_PLAN), "-o", "memo.pdf", "--scheduler", empty.scheduler_address,
                          cwd=tmp_path, env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
    assert proc.returncode == 3 and b"has no workers (waited 2s)" in proc.stderr and b"Traceback" not in proc.stderr
    assert not (tmp_path / "memo.pdf").exists()


def test_without_the_dask_extra_the_error_says_how_to_install_it(tmp_path):
    code = ("import sys; sys.modules['distributed'] = None  # as if the extra were not installed\n"
            f"sys.argv = ['compliance', 'check', {str(EXAMPLE_PLAN)!r}, '--scheduler', 'tcp://127.0.0.1:8786']\n"
            "from compliance.cli import main; main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3 and b"Traceback" not in proc.stderr.encode()
    assert proc.stderr == "Error: --scheduler needs Dask: pip install 'plan-compliance[dask]'\n"


def test_jobs_and_scheduler_together_are_refused(run_cli):
    result = run_cli("check", str(EXAMPLE_PLAN), "--jobs", "2", "--scheduler", "tcp://127.0.0.1:8786")
    assert result.exit_code == 2 and "--jobs is for one machine" in result.stderr


def test_a_worker_without_plan_compliance_is_a_clear_error(tmp_path):
    """Found before any task is sent (Dask would stall on a task no worker can read): exit code 3, one line."""
    hidden = "import sys; sys.modules['compliance'] = None; from distributed.cli.dask_worker import main; main()"
    with local_cluster(0) as empty, Client(empty, set_as_default=False) as client:
        worker = subprocess.Popen([sys.executable, "-c", hidden, empty.scheduler_address, "--nthreads", "1",
                                   "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"], stderr=subprocess.DEVNULL)
        try:
            client.wait_for_workers(1, timeout=60)
            proc = compliance("check", str(EXAMPLE_PLAN), "--scheduler", empty.scheduler_address, cwd=tmp_path)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    assert proc.returncode == 3 and b"Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith(b"Error: a Dask worker cannot run plan-compliance (")
    assert proc.stderr.rstrip().endswith(b"the scheduler and every worker need plan-compliance " + __version__.encode() + b" installed")


def test_a_memo_that_cannot_be_written_is_reported_as_in_a_local_run(tmp_path, cluster):
    address, _ = cluster
    runs = []
    for where, extra in (("local", []), ("cluster", ["--scheduler", address])):
        folder = tmp_path / where
        book(folder, 2)
        (folder / "out" / "p01.html").mkdir(parents=True)  # a folder where a memo should go
        proc = compliance("memo", "plans", "-o", "out", "--format", "html", "--as-of", "2026-11-22", *extra,
                          cwd=folder)
        runs.append((proc.returncode, proc.stdout, proc.stderr, (folder / "out" / "p00.html").read_bytes()))
    assert runs[1] == runs[0]
    assert runs[0][0] == 2 and b"out/p01.html: cannot write: is a directory" in runs[0][2]


def test_a_worker_address_is_not_taken_for_a_scheduler(tmp_path, cluster):
    _, client = cluster
    worker = sorted(client.nthreads())[0]
    proc = compliance("check", str(EXAMPLE_PLAN), "--scheduler", worker, cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (3, b"")
    assert proc.stderr.decode() == f"Error: {worker} is not a Dask scheduler (it says it is Worker)\n"
