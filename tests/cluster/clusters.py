"""What the cluster tests share: the real CLI in a subprocess, a LocalCluster on loopback that binds no fixed port,
and TLS certificates made by the openssl command for one test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from distributed import LocalCluster, Security


def compliance(*args: str, cwd: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compliance", *args], cwd=cwd, capture_output=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def local_cluster(n_workers: int, **options: Any) -> LocalCluster:
    """Worker processes of one thread each on 127.0.0.1, with the scheduler, its HTTP routes (health and metrics;
    no dashboard) and the workers on ports the system picks: two clusters at once never meet on 8786 or 8787."""
    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        scheduler_port=0, dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
                        **options)


def certificates(folder: Path, *names: str) -> dict[str, Path]:
    """A certificate authority `folder.name` and, for each name, a certificate it signed with its key beside it:
    {"ca": ca.pem, name: name.pem, name + ".key": name.key}. EC keys: openssl makes them in milliseconds."""
    folder.mkdir(parents=True)
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", f"/CN={folder.name}")
    files = {"ca": folder / "ca.pem"}
    for name in names:
        openssl("req", "-new", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2")
        files[name], files[f"{name}.key"] = folder / f"{name}.pem", folder / f"{name}.key"
    return files


def tls_security(files: dict[str, Path], *roles: str) -> Security:
    """Dask's TLS settings with mutual authentication for the given roles (scheduler, worker, client), each with
    its own certificate from `files`."""
    paths = {f"tls_{role}_{part}": str(files[role + suffix]) for role in roles
             for part, suffix in (("cert", ""), ("key", ".key"))}
    return Security(tls_ca_file=str(files["ca"]), require_encryption=True, **paths)
