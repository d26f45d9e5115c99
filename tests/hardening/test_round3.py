"""Hardening, round 3 (issue 27): each hazard an independent attack found, as a test that failed before its fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import ROOT

AS_OF = ("--as-of", "2026-11-22")


@pytest.fixture
def plan_repo(tmp_path: Path) -> Path:
    """The example plan repository as a checkout: config, a policy pack in a folder, a plan."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "plan-repo", repo)
    (repo / ".git").mkdir()
    return repo


@pytest.mark.parametrize("args", [
    ("-o", "policy/northwind-ips.yaml"),
    ("--also", "sarif=.compliance.yaml"),
    ("--write-baseline", ".compliance.yaml"),
    ("--also", "markdown=policy/northwind-ips.yaml"),
])
def test_an_output_that_is_a_config_or_a_pack_found_in_a_folder_is_refused(plan_repo, run_cli, args):
    before = {p: p.read_bytes() for p in (plan_repo / ".compliance.yaml", plan_repo / "policy" / "northwind-ips.yaml")}
    result = run_cli("check", *AS_OF, *args, cwd=plan_repo)
    assert result.exit_code == 2, result.output
    assert f"{args[1].partition('=')[2] or args[1]}: cannot write: this file is also an input of the run" in result.stderr
    assert all(p.read_bytes() == data for p, data in before.items())


def test_rules_docs_refuses_to_write_over_a_pack_found_in_a_folder(plan_repo, run_cli):
    pack = plan_repo / "policy" / "northwind-ips.yaml"
    before = pack.read_bytes()
    result = run_cli("rules", "docs", "-o", "policy/northwind-ips.yaml", cwd=plan_repo)
    assert result.exit_code == 2 and "also an input of the run" in result.stderr, result.output
    assert pack.read_bytes() == before


@pytest.mark.parametrize("command", [
    ("memo", "plans/", "-o", "memos/", "--format", "html"),
    ("memo", "plans/northwind-401k.yaml", "-o", "memos/northwind.html", "--format", "html"),
    ("check", "-o", "memos/report.sarif", "--format", "sarif"),
    ("check", "--also", "markdown=memos/sub/summary.md"),
    ("rules", "docs", "-o", "memos/rules.md"),
])
def test_an_output_never_follows_a_committed_symlink_out_of_the_checkout(plan_repo, run_cli, command):
    elsewhere = plan_repo.parent / "elsewhere"
    elsewhere.mkdir()
    (plan_repo / "memos").symlink_to("../elsewhere")
    result = run_cli(*command, *AS_OF, cwd=plan_repo)
    assert result.exit_code == 2, result.output
    assert "leads out of the checkout through a symbolic link" in result.stderr
    assert list(elsewhere.rglob("*")) == []


def test_an_output_named_outside_the_checkout_is_still_written(plan_repo, run_cli, tmp_path):
    result = run_cli("check", *AS_OF, "--also", f"sarif={tmp_path / 'runner-temp.sarif'}", cwd=plan_repo)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runner-temp.sarif").is_file()
