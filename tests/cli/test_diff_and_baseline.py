"""The pull-request view (diff) and baselines."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.helpers import EXAMPLE_PLAN

DIFF = Path(__file__).resolve().parents[1] / "fixtures" / "diff"
BEFORE, AFTER = DIFF / "acme-before.yaml", DIFF / "acme-after.yaml"


def test_diff_of_two_real_versions(run_cli):
    result = run_cli("diff", str(BEFORE), str(AFTER), "--as-of", "2026-11-22", "--format", "json")
    body = json.loads(result.output)
    assert body["funds"]["added"] == ["btc-etp"] and body["funds"]["removed"] == []
    assert sorted(body["funds"]["changed"]) == ["lc-growth", "lc-value"]
    # these findings follow from the edit; a bundled rule added later may add its own, but only on what changed
    # (the exact output of a comparison is pinned on a synthetic one, tests/report/golden/*.diff.*)
    new = {(f["rule"], f["fund"], f["status"]) for f in body["findings"]["new"]}
    assert new >= {
        ("digital.prudence.prompts", "btc-etp", "fail"),
        ("erisa.fees.lower-cost-share-class", "lc-value", "fail"),
        ("watch.dol-dia-proposal-2026", None, "watch"),  # one item for the proposal, naming btc-etp's factors
    }
    assert {fund for _, fund, _ in new} <= {"btc-etp", "lc-value", "lc-growth", None}
    resolved = {(f["rule"], f["fund"]) for f in body["findings"]["resolved"]}
    assert ("erisa.fees.lower-cost-share-class", "lc-growth") in resolved
    assert {fund for _, fund in resolved} <= {"lc-value", "lc-growth", None}
    assert not any(f["severity"] == "error" and f["status"] == "fail" for f in body["findings"]["new"])
    assert body["summary"] == (f"This change adds 1 fund (btc-etp), changes 2 funds, introduces {len(new)} new "
                               f"findings (0 errors) and resolves {len(resolved)}.")
    assert result.exit_code == 0  # no new error: the default --fail-on is error
    strict = run_cli("diff", str(BEFORE), str(AFTER), "--as-of", "2026-11-22", "--fail-on", "warning")
    assert strict.exit_code == 1


def test_fail_on_new_ignores_findings_already_in_the_base(run_cli):
    assert run_cli("diff", str(AFTER), str(AFTER), "--as-of", "2026-11-22", "--fail-on", "warning").exit_code == 1
    same = run_cli("diff", str(AFTER), str(AFTER), "--as-of", "2026-11-22", "--fail-on", "warning", "--fail-on-new")
    assert same.exit_code == 0 and "Findings: 0 new, 0 resolved" in same.output


def test_diff_base_from_git(tmp_path, run_cli):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    git("init", "-q")
    git("config", "user.email", "t@example.invalid")
    git("config", "user.name", "t")
    plan = tmp_path / "plans" / "acme.yaml"
    plan.parent.mkdir()
    shutil.copy(BEFORE, plan)
    git("add", ".")
    git("commit", "-qm", "base")
    shutil.copy(AFTER, plan)
    result = run_cli("diff", "--base", "HEAD", str(plan), "--as-of", "2026-11-22", "--fail-on", "warning", "--fail-on-new")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"HEAD:{plan} -> {plan} (as of 2026-11-22)"
    assert "  + btc-etp  Spot Bitcoin ETP (via plan menu)" in result.output
    missing = run_cli("diff", "--base", "no-such-ref", str(plan))
    assert missing.exit_code == 2 and "cannot read the base version from git" in missing.stderr


def test_baseline_reports_only_new_findings(tmp_path, run_cli):
    plan, baseline = tmp_path / "acme.yaml", tmp_path / "baseline.json"
    shutil.copy(BEFORE, plan)
    first = run_cli("check", str(plan), "--as-of", "2026-11-22", "--write-baseline", str(baseline), "--fail-on", "never")
    assert first.exit_code == 0
    prints = json.loads(baseline.read_text())["fingerprints"]
    assert f"erisa.fees.lower-cost-share-class|{plan}|lc-growth" in prints
    same = run_cli("check", str(plan), "--as-of", "2026-11-22", "--baseline", str(baseline))
    assert same.exit_code == 0 and "0 errors, 0 warnings" in same.output
    plan.write_text("# a comment that shifts every line down\n" + BEFORE.read_text())
    shifted = run_cli("check", str(plan), "--as-of", "2026-11-22", "--baseline", str(baseline))
    assert shifted.exit_code == 0, "fingerprints must not depend on line numbers"
    shutil.copy(AFTER, plan)
    changed = run_cli("check", str(plan), "--as-of", "2026-11-22", "--baseline", str(baseline), "--fail-on", "warning")
    assert changed.exit_code == 1
    assert "[erisa.fees.lower-cost-share-class]" in changed.output and "fund lc-value" in changed.output
    assert "fund lc-growth" not in changed.output


def test_bad_baseline_is_an_input_error(tmp_path, run_cli):
    bad = tmp_path / "b.json"
    bad.write_text("{not json")
    result = run_cli("check", str(EXAMPLE_PLAN), "--baseline", str(bad))
    assert result.exit_code == 2 and f"{bad}: not a readable baseline" in result.stderr


def test_a_baseline_written_before_consolidation_still_hides_the_watch_item(tmp_path, run_cli):
    """Baselines from before watch items were consolidated list one fingerprint per option and factor."""
    plan, baseline = tmp_path / "acme.yaml", tmp_path / "baseline.json"
    shutil.copy(AFTER, plan)
    report = json.loads(run_cli("check", str(plan), "--as-of", "2026-11-22", "--format", "json").stdout)
    (item,) = [f for f in report["plans"][0]["findings"] if f["rule"] == "watch.dol-dia-proposal-2026"]
    others = [f["fingerprint"] for f in report["plans"][0]["findings"] if f["rule"] != item["rule"]]
    baseline.write_text(json.dumps({"format_version": 1, "fingerprints": item["members"] + others}))
    hidden = run_cli("check", str(plan), "--as-of", "2026-11-22", "--baseline", str(baseline), "--format", "json")
    assert [f["rule"] for f in json.loads(hidden.stdout)["plans"][0]["findings"]] == []
    baseline.write_text(json.dumps({"format_version": 1, "fingerprints": item["members"][:1] + others}))
    partly = run_cli("check", str(plan), "--as-of", "2026-11-22", "--baseline", str(baseline), "--format", "json")
    assert [f["rule"] for f in json.loads(partly.stdout)["plans"][0]["findings"]] == [item["rule"]]
