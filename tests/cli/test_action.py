"""The composite GitHub Action's shell step, run as the runner runs it (bash -eo pipefail) with its environment."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import EXAMPLE_PLAN, ROOT


def run_step(tmp_path: Path, paths: str, fail_on: str = "error") -> tuple[subprocess.CompletedProcess, Path, Path]:
    step = next(s for s in yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"] if s.get("id") == "check")
    runner_temp, workspace = tmp_path / "runner-temp", tmp_path / "workspace"
    runner_temp.mkdir(exist_ok=True)
    sarif = runner_temp / "plan-compliance.sarif"
    outputs, summary = tmp_path / "github-output", tmp_path / "summary.md"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PC_PATHS": paths, "PC_PACKS": "", "PC_FAIL_ON": fail_on, "PC_FORMAT": "github", "PC_AS_OF": "2026-11-22",
           "PC_SARIF": str(sarif), "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary),
           "RUNNER_TEMP": str(runner_temp)}
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=workspace,
                            env=env, capture_output=True, text=True, timeout=300)
    return result, sarif, outputs


def test_a_stale_sarif_is_replaced_by_one_that_reports_the_broken_plan(tmp_path):
    workspace = tmp_path / "workspace" / "plans"
    workspace.mkdir(parents=True)
    (workspace / "broken.yaml").write_text("schema_version: 1\nplan:\n  name: [unclosed\n")
    (tmp_path / "runner-temp").mkdir()
    stale = tmp_path / "runner-temp" / "plan-compliance.sarif"
    stale.write_text('{"stale": true}')
    result, sarif, outputs = run_step(tmp_path, "plans/")
    assert result.returncode == 2, result.stderr
    log = json.loads(sarif.read_text())
    (found,) = log["runs"][0]["results"]
    assert found["ruleId"] == "input-error" and "YAML syntax error" in found["message"]["text"]
    assert found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "plans/broken.yaml"
    assert f"sarif={sarif}" in outputs.read_text()


def test_findings_fail_the_step_after_the_summary_and_sarif_are_written(tmp_path):
    workspace = tmp_path / "workspace" / "plans"
    workspace.mkdir(parents=True)
    shutil.copy(EXAMPLE_PLAN, workspace / "acme.yaml")
    result, sarif, outputs = run_step(tmp_path, "plans/")
    assert result.returncode == 1  # the example has an error-level finding
    assert "::error file=plans/acme.yaml,line=42" in result.stdout
    assert json.loads(sarif.read_text())["runs"][0]["results"]
    assert "plan-compliance: 1 plan(s)" in (tmp_path / "summary.md").read_text()
    passed, _, _ = run_step(tmp_path, "plans/", fail_on="never")
    assert passed.returncode == 0


def test_the_action_checks_the_configured_plans_once(tmp_path):
    workspace = tmp_path / "workspace"
    (workspace / "plans").mkdir(parents=True)
    shutil.copy(EXAMPLE_PLAN, workspace / "plans" / "acme.yaml")
    (workspace / ".compliance.yaml").write_text("plans: [plans/]\n")
    (workspace / "other.yaml").write_text("not: a plan\n")  # outside the configured plans: never read
    result, sarif, _ = run_step(tmp_path, "")
    assert result.returncode == 1, result.stderr
    assert "settings from" in result.stderr and "other.yaml" not in result.stdout + result.stderr
    assert json.loads(sarif.read_text())["runs"][0]["results"]
    step = next(s for s in yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"] if s.get("id") == "check")
    assert step["run"].count("compliance check") == 1


def test_the_action_and_the_example_workflow_pin_every_action_by_commit():
    """A tag can be moved to other code; a full commit hash cannot (GitHub's hardening guide)."""
    workflow = yaml.safe_load((ROOT / "examples/plan-repo/.github/workflows/plan-compliance.yml").read_text())
    steps = yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
    steps += [s for job in workflow["jobs"].values() for s in job["steps"]]
    used = [s["uses"] for s in steps if "uses" in s]
    assert len(used) >= 3
    for ref in used:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref
