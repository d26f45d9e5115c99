"""Who the client trusts (issue 27, item 3): a hostile scheduler or worker can run code in the client, whose
results arrive as pickles, and forge its reports. So the client talks to a `tls://` cluster whose members prove
themselves with certificates from one authority, or to `tcp://` on this machine, or elsewhere only with
--insecure-scheduler; and never to a scheduler named by a repository's files. Certificates are made here."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from distributed import Client

from tests.cluster.clusters import certificates, compliance, local_cluster, tls_security
from tests.helpers import EXAMPLE_PLAN

pytestmark = pytest.mark.cluster

FAST = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "5s"}


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A cluster of one worker on tls://127.0.0.1, every member with its own certificate from one authority;
    and a stranger's authority that signed a client certificate too."""
    folder = tmp_path_factory.mktemp("tls")
    trusted = certificates(folder / "trusted", "scheduler", "worker", "client")
    stranger = certificates(folder / "stranger", "client")
    security = tls_security(trusted, "scheduler", "worker", "client")
    with local_cluster(1, protocol="tls", security=security) as cluster, \
            Client(cluster, security=security, set_as_default=False) as client:
        assert cluster.scheduler_address.startswith("tls://127.0.0.1:")
        assert all(worker.startswith("tls://") for worker in client.nthreads())
        yield cluster.scheduler_address, trusted, stranger, client


def one_line_error(proc: subprocess.CompletedProcess, code: int) -> str:
    """The run failed with `code`, wrote nothing to stdout and exactly one line to stderr, which it returns."""
    stderr = proc.stderr.decode()
    assert (proc.returncode, proc.stdout) == (code, b""), stderr
    assert stderr.startswith("Error: ") and stderr.count("\n") == 1, stderr
    return stderr


def test_a_check_over_tls_with_the_certificates_from_the_environment_is_a_local_run(tmp_path, tls):
    address, trusted, _, client = tls
    tasks = len(client.get_events("plan-compliance"))  # each task says where it started
    env = {**FAST, "PLAN_COMPLIANCE_SCHEDULER": address, "PLAN_COMPLIANCE_TLS_CA_FILE": str(trusted["ca"]),
           "PLAN_COMPLIANCE_TLS_CERT": str(trusted["client"]), "PLAN_COMPLIANCE_TLS_KEY": str(trusted["client.key"])}
    local = compliance("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22", cwd=tmp_path)
    remote = compliance("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22", cwd=tmp_path, env=env)
    assert (remote.returncode, remote.stdout, remote.stderr) == (local.returncode, local.stdout, local.stderr)
    assert local.returncode == 1 and b"1 error" in local.stdout
    assert len(client.get_events("plan-compliance")) == tasks + 1  # checked on the cluster


def test_a_client_certificate_from_another_authority_is_refused_by_the_scheduler(tmp_path, tls, caplog):
    address, trusted, stranger, _ = tls
    proc = compliance("check", str(EXAMPLE_PLAN), "--scheduler", address, "--tls-ca-file", str(trusted["ca"]),
                      "--tls-cert", str(stranger["client"]), "--tls-key", str(stranger["client.key"]),
                      cwd=tmp_path, env=FAST)
    error = one_line_error(proc, 3)
    assert error.startswith(f"Error: cannot reach the Dask scheduler at {address} (connect timeout 5s): ")
    assert "SSL" in error  # an alert or a closed stream, as the TLS version has it; the scheduler says why:
    assert "TLS handshake failed" in caplog.text and "certificate verify failed" in caplog.text


def test_a_scheduler_whose_certificate_the_client_does_not_trust_is_refused(tmp_path, tls):
    address, trusted, stranger, _ = tls
    proc = compliance("check", str(EXAMPLE_PLAN), "--scheduler", address, "--tls-ca-file", str(stranger["ca"]),
                      "--tls-cert", str(trusted["client"]), "--tls-key", str(trusted["client.key"]),
                      cwd=tmp_path, env=FAST)
    assert "TLS certificate does not match" in one_line_error(proc, 3)


def test_a_worker_without_a_trusted_certificate_cannot_join(tls, caplog):
    address, trusted, stranger, client = tls
    before = set(client.nthreads())
    worker = subprocess.run([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                             "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--death-timeout", "5",
                             "--tls-ca-file", str(trusted["ca"]), "--tls-cert", str(stranger["client"]),
                             "--tls-key", str(stranger["client.key"])], capture_output=True, timeout=120)
    assert worker.returncode != 0 and b"Timed out starting worker" in worker.stderr
    assert "TLS handshake failed" in caplog.text and "certificate verify failed" in caplog.text  # the scheduler
    assert set(client.nthreads()) == before


def test_tls_files_that_are_no_certificate_are_a_bad_argument(tmp_path, tls):
    address, trusted, _, _ = tls
    proc = compliance("check", str(EXAMPLE_PLAN), "--scheduler", address, "--tls-ca-file", str(trusted["ca"]),
                      "--tls-cert", str(trusted["ca"]), "--tls-key", str(trusted["client.key"]), cwd=tmp_path)
    assert one_line_error(proc, 2).startswith(f"Error: cannot use the TLS files for {address}: SSLError: ")


@pytest.mark.parametrize(("args", "env", "says"), [
    (["--scheduler", "tcp://10.0.0.5:8786"], {}, "Error: --scheduler tcp://10.0.0.5:8786 is neither encrypted nor "
     "authenticated: whoever reaches it can run code in this process and forge its results; use tls:// with "
     "--tls-ca-file and --tls-cert (and --tls-key unless the certificate file holds the key) (docs/scale.md), or "
     "accept that with --insecure-scheduler\n"),
    ([], {"PLAN_COMPLIANCE_SCHEDULER": "scheduler.example:8786"}, "Error: --scheduler scheduler.example:8786 is "
     "neither encrypted nor authenticated"),
    (["--scheduler", "tls://10.0.0.5:8786"], {}, "Error: --scheduler tls://10.0.0.5:8786 needs --tls-ca-file and "
     "--tls-cert (and --tls-key unless the certificate file holds the key)\n"),
    (["--scheduler", "tcp://127.0.0.1:8786", "--tls-cert", "plan.yaml"], {}, "Error: --tls-ca-file, --tls-cert and "
     "--tls-key are for a tls:// scheduler, not tcp://127.0.0.1:8786\n"),
    (["--scheduler", "ws://10.0.0.5:8786"], {}, "Error: --scheduler takes tls://HOST:PORT (or tcp://HOST:PORT), not "
     "ws://10.0.0.5:8786\n"),
])
def test_an_unauthenticated_or_incomplete_scheduler_is_refused_before_connecting(tmp_path, args, env, says):
    (tmp_path / "plan.yaml").write_bytes(EXAMPLE_PLAN.read_bytes())
    begun = time.time()
    proc = compliance("check", "plan.yaml", *args, cwd=tmp_path, env=env)
    assert one_line_error(proc, 2).startswith(says) and time.time() - begun < 30


def test_the_opt_in_lets_a_tcp_scheduler_elsewhere_be_tried_and_says_so(tmp_path):
    proc = compliance("check", str(EXAMPLE_PLAN), "--scheduler", "tcp://192.0.2.1:8786", cwd=tmp_path,
                      env={"PLAN_COMPLIANCE_INSECURE_SCHEDULER": "1", "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"})
    warning, error = proc.stderr.decode().splitlines()
    assert warning == ("compliance: warning: the Dask scheduler at tcp://192.0.2.1:8786 is neither encrypted nor "
                       "authenticated (--insecure-scheduler)")
    assert proc.returncode == 3 and error.startswith("Error: ")


def test_a_config_file_cannot_name_a_scheduler(tmp_path):
    """A pull request edits .compliance.yaml; it must not be able to send CI's plans (and trust) to a cluster."""
    (tmp_path / ".compliance.yaml").write_text("packs: [bundled]\nscheduler: tcp://127.0.0.1:8786\n")
    (tmp_path / "plan.yaml").write_bytes(EXAMPLE_PLAN.read_bytes())
    proc = compliance("check", "plan.yaml", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert proc.stderr.decode().endswith(
        ".compliance.yaml:2:1: scheduler: a config file cannot choose a Dask cluster (a pull request could point CI "
        "at one); pass --scheduler or set PLAN_COMPLIANCE_SCHEDULER\n")
