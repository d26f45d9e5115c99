"""The real pre-commit, running this checkout's hook (try-repo) in a copy of the example plan repository."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.helpers import EXAMPLE_PLAN, ROOT

pytestmark = pytest.mark.packaging


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_pre_commit_hook_passes_a_good_plan_and_fails_a_bad_one(tmp_path):
    repo = tmp_path / "plan-repo"
    shutil.copytree(ROOT / "examples" / "plan-repo", repo)
    (repo / ".compliance.yaml").write_text((repo / ".compliance.yaml").read_text() + "as_of: 2026-11-22\n")
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "ci@example.invalid")
    _git(repo, "config", "user.name", "ci")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "plans")

    def try_repo(*files):
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "compliance-check",
                               "--files", *files], cwd=repo, capture_output=True, text=True, timeout=900)

    good = try_repo("plans/northwind-401k.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "plan-compliance check" in good.stdout and "Passed" in good.stdout

    shutil.copy(EXAMPLE_PLAN, repo / "plans" / "acme-401k.yaml")
    _git(repo, "add", ".")
    bad = try_repo("plans/acme-401k.yaml", "plans/northwind-401k.yaml")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "plans/acme-401k.yaml:42:5  [erisa.disclosure.participant-fee-disclosure]" in bad.stdout

    (repo / "plans" / "broken.yaml").write_text("schema_version: 1\nplan:\n  name: [unclosed\n")
    _git(repo, "add", ".")
    broken = try_repo("plans/broken.yaml")
    assert broken.returncode != 0
    assert "plans/broken.yaml:4:1: YAML syntax error" in broken.stdout
