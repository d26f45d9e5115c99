"""Hardening, round 2: each hazard an independent attack found (docs/security.md), as a test that failed before."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import EXAMPLE_PLAN, ROOT, write_plan

AS_OF = ("--as-of", "2026-11-22")


@pytest.mark.skipif(os.geteuid() != 0, reason="making a character device (os.mknod) needs root")
def test_output_to_dev_null_keeps_the_device(tmp_path, run_cli):
    """Written to a null device of its own in the test's folder (never the machine's /dev/null, which a bug here
    would replace), the output goes into the device and the device stays."""
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the numbers of /dev/null
    result = run_cli("check", str(EXAMPLE_PLAN), *AS_OF, "-o", str(null))
    assert result.exit_code == 1, result.stderr
    assert stat.S_ISCHR(null.stat().st_mode) and null.stat().st_rdev == os.makedev(1, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]  # no temporary left beside it


def test_output_dash_is_standard_output(tmp_path):
    out = subprocess.run([sys.executable, "-m", "compliance", "check", str(EXAMPLE_PLAN), *AS_OF, "--format",
                          "summary", "-o", "-"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "acme-401k.yaml: 1 error" in out.stdout
    assert not (tmp_path / "-").exists()


def test_outputs_honour_the_umask_and_keep_an_existing_mode(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        from compliance.atomic import write_atomic
        os.umask(0o077)
        new, old = Path({str(tmp_path)!r}) / "new.txt", Path({str(tmp_path)!r}) / "old.txt"
        write_atomic(new, b"x")
        old.write_bytes(b"y"); os.chmod(old, 0o640)
        write_atomic(old, b"z")
        print(oct(new.stat().st_mode & 0o777), oct(old.stat().st_mode & 0o777))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.split() == ["0o600", "0o640"], out.stderr


def test_an_output_that_is_an_input_is_refused(tmp_path, run_cli):
    plan = tmp_path / "plan.yaml"
    shutil.copy(EXAMPLE_PLAN, plan)
    result = run_cli("check", str(plan), *AS_OF, "-o", str(plan))
    assert result.exit_code == 2 and "this file is also an input of the run" in result.stderr
    assert plan.read_bytes() == EXAMPLE_PLAN.read_bytes()


def test_memos_of_plans_with_the_same_name_mirror_their_folders(tmp_path, run_cli):
    for team in ("east", "west"):
        (tmp_path / "plans" / team).mkdir(parents=True)
        shutil.copy(EXAMPLE_PLAN, tmp_path / "plans" / team / "plan.yaml")
    result = run_cli("memo", str(tmp_path / "plans"), "-o", str(tmp_path / "out"), "--format", "html", *AS_OF)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.html")) == \
        ["east/plan.html", "west/plan.html"]


@pytest.mark.parametrize("where,text", [
    ("governance.investment_policy.last_reviewed", "last_reviewed: 2026-03-18T10:00:00+05:00"),
    ("waivers[0].approved_on", "approved_on: 2026-03-18 10:00:00"),
])
def test_a_timestamp_in_a_date_field_is_a_located_error(tmp_path, run_cli, where, text):
    key = text.split(":")[0]
    source = EXAMPLE_PLAN.read_text()
    plan = tmp_path / "plan.yaml"
    plan.write_text(source.replace(f"{key}: 2026-03-18", text, 1))
    result = run_cli("check", str(plan), *AS_OF)
    assert result.exit_code == 2
    assert f"{where}: must be a date (got the timestamp 2026-03-18" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_timestamp_as_the_configured_date_is_a_located_error(tmp_path, run_cli):
    (tmp_path / ".compliance.yaml").write_text("as_of: 2026-03-18T10:00:00+05:00\n")
    result = run_cli("check", str(EXAMPLE_PLAN), cwd=tmp_path)
    assert result.exit_code == 2 and ".compliance.yaml:1:8: as_of: must be a date (got the timestamp" in result.stderr


def test_waivers_that_cover_every_fund_or_expire_before_approval_are_refused(tmp_path, run_cli):
    source = EXAMPLE_PLAN.read_text()
    plan = tmp_path / "plan.yaml"
    plan.write_text(source.replace("    fund: lc-dividend", "    fund: ''").replace("expires: 2027-03-18", "expires: 2026-01-01"))
    result = run_cli("check", str(plan), *AS_OF)
    assert result.exit_code == 2
    assert "waivers[0].fund: must not be empty" in result.stderr
    assert "waivers[0].expires: 2026-01-01 is not after approved_on (2026-03-18)" in result.stderr


def test_a_fifo_or_deeply_nested_baseline_is_a_clear_error(tmp_path, run_cli):
    fifo = tmp_path / "baseline.json"
    os.mkfifo(fifo)
    result = run_cli("check", str(EXAMPLE_PLAN), *AS_OF, "--baseline", str(fifo))
    assert result.exit_code == 2 and "not a regular file" in result.stderr
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    result = run_cli("check", str(EXAMPLE_PLAN), *AS_OF, "--baseline", str(deep))
    assert result.exit_code == 2 and "not a readable baseline" in result.stderr


def test_a_finding_whose_severity_rises_surfaces_again(tmp_path, run_cli):
    baseline = tmp_path / "baseline.json"
    run_cli("check", str(EXAMPLE_PLAN), *AS_OF, "--write-baseline", str(baseline), "--fail-on", "never")
    body = json.loads(baseline.read_text())
    share = next(f for f in body["fingerprints"] if f.startswith("erisa.fees.lower-cost-share-class|"))
    assert body["severities"][share] == "warning"
    same = run_cli("check", str(EXAMPLE_PLAN), *AS_OF, "--baseline", str(baseline), "--fail-on", "warning")
    assert same.exit_code == 0
    body["severities"][share] = "watch"  # as if it had been baselined while a watch item
    baseline.write_text(json.dumps(body))
    rose = run_cli("check", str(EXAMPLE_PLAN), *AS_OF, "--baseline", str(baseline), "--fail-on", "warning")
    assert rose.exit_code == 1 and "[erisa.fees.lower-cost-share-class]" in rose.stdout


def test_diff_reports_newly_waived_findings_and_can_fail_on_them(tmp_path, run_cli):
    base, new = tmp_path / "base.yaml", tmp_path / "new.yaml"
    shutil.copy(EXAMPLE_PLAN, base)
    new.write_text(EXAMPLE_PLAN.read_text() + "\n".join([
        "  - rule: erisa.fees.lower-cost-share-class",
        "    fund: lc-growth",
        "    reason: R6 requires a platform change scheduled for 2027.",
        "    approved_by: Acme Investment Committee",
        "    approved_on: 2026-10-01",
        "    expires: 2027-06-30", ""]))
    result = run_cli("diff", str(base), str(new), *AS_OF, "--format", "json")
    body = json.loads(result.stdout)
    assert [f["rule"] for f in body["findings"]["newly_waived"]] == ["erisa.fees.lower-cost-share-class"]
    assert body["findings"]["newly_waived"][0]["waiver"]["approved_by"] == "Acme Investment Committee"
    assert "erisa.fees.lower-cost-share-class" not in [f["rule"] for f in body["findings"]["resolved"]]
    text = run_cli("diff", str(base), str(new), *AS_OF, "--fail-on", "never", "--fail-on-new-waivers")
    assert text.exit_code == 1 and "waived by Acme Investment Committee on 2026-10-01" in text.stdout


def test_diff_base_is_never_a_git_option(tmp_path, run_cli):
    target = tmp_path / "written-by-git"
    result = run_cli("diff", "--base", f"--output={target}", str(EXAMPLE_PLAN))
    assert result.exit_code == 2 and "may not start with '-'" in result.stderr
    assert not target.exists()
    odd = run_cli("diff", "--base", "HEAD", str(EXAMPLE_PLAN) + "/x.yaml")
    assert odd.exit_code == 2 and "Traceback" not in odd.stderr


def test_a_config_above_the_checkout_is_never_used(tmp_path, run_cli):
    (tmp_path / ".compliance.yaml").write_text("fail_on: never\n")  # a shared parent folder, e.g. /tmp
    checkout = tmp_path / "checkout"
    (checkout / ".git").mkdir(parents=True)
    plan = checkout / "plan.yaml"
    shutil.copy(EXAMPLE_PLAN, plan)
    result = run_cli("check", "plan.yaml", *AS_OF, cwd=checkout)
    assert result.exit_code == 1 and "settings from" not in result.stderr
    (checkout / ".compliance.yaml").write_text("fail_on: warning\n")
    inside = run_cli("check", "plan.yaml", *AS_OF, cwd=checkout)
    assert f"compliance: settings from {checkout / '.compliance.yaml'} (packs: bundled; fail_on: warning)" in inside.stderr


def test_sarif_uris_are_percent_encoded(tmp_path, run_cli):
    plan = tmp_path / "my plan #1.yaml"
    shutil.copy(EXAMPLE_PLAN, plan)
    body = json.loads(run_cli("check", str(plan), *AS_OF, "--format", "sarif").stdout)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in body["runs"][0]["results"]}
    assert uris == {str(plan).replace(" ", "%20").replace("#", "%23")}


@pytest.mark.slow
def test_deep_folders_and_symlink_loops_are_walked_once(tmp_path, run_cli):
    deep = tmp_path / "deep"
    folder = deep / "/".join(["d"] * 1200)
    subprocess.run(["mkdir", "-p", str(folder)], check=True)  # pathlib's own mkdir recurses too deep here
    try:
        write_plan(folder)
        result = run_cli("check", str(deep), *AS_OF, "--format", "summary")
        assert result.exit_code == 0, result.stderr[-300:]
        assert result.stdout.count("plan.yaml") == 1
    finally:  # Python's rmtree recurses too, so pytest could not clean this tree up
        subprocess.run(["rm", "-rf", str(deep)], check=True)
    loop = tmp_path / "loop"
    loop.mkdir()
    write_plan(loop)
    (loop / "again").symlink_to(loop)
    globbed = run_cli("check", str(loop) + "/**/*.yaml", *AS_OF, "--format", "summary")
    assert globbed.stdout.count("plan.yaml") == 1


def test_sigterm_leaves_no_partial_output(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from compliance import cli
        from compliance.atomic import atomic_writer
        signal.signal(signal.SIGTERM, cli._terminated)
        with atomic_writer(Path({str(tmp_path)!r}) / "memo.pdf") as out:
            out.write(b"half a memo")
            os.kill(os.getpid(), signal.SIGTERM)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 128 + 15
    assert list(Path(tmp_path).iterdir()) == []
