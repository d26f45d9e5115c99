"""The command line: exit codes, formats, config, posture, schema, rules commands."""

from __future__ import annotations

import json
import select
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import jsonschema
import yaml

from compliance import __version__, api
from tests.helpers import EXAMPLE_PLAN, ROOT, write_plan


def test_version_and_help(run_cli):
    assert run_cli("--version").output.strip() == f"compliance, version {__version__}"
    for command in ("check", "posture", "memo", "diff", "schema", "rules"):
        result = run_cli(command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_exit_0_when_nothing_at_or_above_fail_on(tmp_path, run_cli):
    assert run_cli("check", str(write_plan(tmp_path)), "--as-of", "2026-11-22").exit_code == 0


def test_exit_1_on_findings_and_fail_on_controls_it(run_cli):
    assert run_cli("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22").exit_code == 1
    assert run_cli("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22", "--fail-on", "never").exit_code == 0


def test_exit_1_on_warning_only_when_asked(tmp_path, run_cli):
    plan = write_plan(tmp_path, {"governance": {"disclosures": {"service_provider_fees_reviewed": None}}})
    assert run_cli("check", str(plan), "--as-of", "2026-11-22").exit_code == 0
    assert run_cli("check", str(plan), "--as-of", "2026-11-22", "--fail-on", "warning").exit_code == 1


def test_exit_2_on_usage_errors(run_cli, tmp_path):
    assert run_cli("check").exit_code == 2
    assert run_cli("check", str(EXAMPLE_PLAN), "--as-of", "22/11/2026").exit_code == 2
    missing = run_cli("check", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2 and missing.stderr.strip() == f"{tmp_path / 'nope.yaml'}: no such file or directory"


def test_one_bad_plan_in_a_batch_still_reports_the_others(tmp_path, run_cli):
    write_plan(tmp_path, name="good.yaml")
    (tmp_path / "bad.yaml").write_text("schema_version: 1\nplan: [\n")
    result = run_cli("check", str(tmp_path), "--as-of", "2026-11-22")
    assert result.exit_code == 2
    assert "good.yaml: Clean Example 401(k) Plan" in result.stdout
    assert "bad.yaml:3:1: YAML syntax error" in result.stderr


def test_json_output_is_documented_shape(run_cli, tmp_path):
    out = tmp_path / "report.json"
    result = run_cli("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22", "--format", "json", "-o", str(out))
    assert result.exit_code == 1 and result.output == ""
    body = json.loads(out.read_text())
    assert body["format_version"] == 1
    (plan,) = body["plans"]
    share_class = [f for f in plan["findings"] if f["rule"] == "erisa.fees.lower-cost-share-class"]
    assert share_class[0]["fund"] == "lc-growth"
    assert share_class[0]["citations"][0]["url"] == api.load_rules(["bundled"]).sources["tibble-9th-cir-2016"].url
    line = EXAMPLE_PLAN.read_text().splitlines()[share_class[0]["line"] - 1]
    assert line.strip() == "share_class: Investor A"


def test_config_file_sets_packs_fail_on_and_as_of(tmp_path, run_cli):
    plan = write_plan(tmp_path, {"governance": {"disclosures": {"service_provider_fees_reviewed": None}}})
    (tmp_path / ".compliance.yaml").write_text("packs: [bundled]\nfail_on: warning\nas_of: 2026-11-22\n")
    result = run_cli("check", plan.name, cwd=tmp_path)
    assert result.exit_code == 1
    assert "(as of 2026-11-22)" in result.output


def test_bad_config_is_a_located_error(tmp_path, run_cli):
    (tmp_path / ".compliance.yaml").write_text("fail_on: sometimes\n")
    result = run_cli("check", "x.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert ".compliance.yaml:1:10: fail_on: 'sometimes' is not one of: error, warning, info, never" in result.stderr


def test_posture_timeline_changes_with_the_date(run_cli):
    today = run_cli("posture", "--as-of", "2026-11-22").output
    then = run_cli("posture", "--as-of", "2024-06-30").output
    assert "dol-car-2022-01" in today and "rescinded since 2025-05-28 by dol-car-2025-01" in today
    assert "in force since 2022-03-10" in then
    assert "dol-dia-proposal-2026      not yet issued" in then


def test_schema_plan_validates_the_example(run_cli):
    schema = json.loads(run_cli("schema", "plan").output)
    plan = yaml.safe_load(EXAMPLE_PLAN.read_text())
    plan = {k: v for k, v in plan.items() if not k.startswith("x-")}
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        json.loads(json.dumps(plan, default=str)))
    assert (ROOT / "docs" / "plan-schema.json").read_text() == run_cli("schema", "plan").output


def test_rules_show_and_list(run_cli):
    shown = run_cli("rules", "show", "digital.car2022.extreme-care", "--as-of", "2026-11-22").output
    assert "not_applicable (dol-car-2022-01 rescinded since 2025-05-28 by dol-car-2025-01)" in shown
    assert "https://www.dol.gov/agencies/ebsa/" in shown
    listed = run_cli("rules", "list", "--as-of", "2024-06-30").output
    assert "digital.car2022.extreme-care" in listed and listed.rstrip().endswith("as of 2024-06-30")
    unknown = run_cli("rules", "show", "digital.car2022.extreme")
    assert unknown.exit_code == 2 and "did you mean 'digital.car2022.extreme-care'?" in unknown.stderr


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "compliance", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and __version__ in proc.stdout


HEAVY = ("weasyprint", "jinja2", "cerberus", "concurrent", "multiprocessing", "dask", "distributed")


def _modules_after_check(plan: Path, heavy: tuple[str, ...] = HEAVY) -> tuple[list[str], str]:
    """Run `compliance check PLAN` in a fresh interpreter; the heavy top-level modules it imported, and stderr."""
    code = (f"import sys, runpy; sys.argv=['compliance','check',{str(plan)!r},'--fail-on','never'];\n"
            "try:\n runpy.run_module('compliance', run_name='__main__')\nexcept SystemExit: pass\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return eval(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_check_imports_only_what_a_valid_plan_needs():
    """Start-up is the pre-commit hook's latency: no memo stack, no process pool, no git, and no Cerberus for a valid
    plan. (Only a valid plan: Cerberus 1.3.1, the floor, imports subprocess itself, through pkg_resources.)"""
    modules, _ = _modules_after_check(EXAMPLE_PLAN, HEAVY + ("subprocess",))
    assert modules == []


def test_an_invalid_plan_still_gets_cerberus_messages(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE_PLAN.read_text().replace("expense_ratio: 0.0002", "expense_ratio: 2%", 1))
    modules, stderr = _modules_after_check(bad)
    assert modules == ["cerberus"]
    assert "expense_ratio: must be a number (got '2%'; write 0.02)" in stderr


def test_empty_plan_folder_and_empty_pack_folder_are_input_errors(tmp_path, run_cli):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("check", str(empty))
    assert result.exit_code == 2 and result.stderr.strip() == f"{empty}: no plan files (*.yaml, *.yml) in this folder"
    result = run_cli("check", str(EXAMPLE_PLAN), "--rules", str(empty))
    assert result.exit_code == 2 and result.stderr.strip() == f"{empty}: no rule packs (*.yaml) in this folder"


def test_plan_folders_expand_in_path_order_without_hidden_or_linked_folders(tmp_path, monkeypatch):
    from compliance.api import expand_plan_paths

    for rel in ["b.yaml", "a-x/c.yml", "a/z.yaml", "a/b/y.yaml", ".git/h.yaml", "a/.hidden.yaml", "a/notes.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x: 1\n")
    (tmp_path / "linked").symlink_to(tmp_path / "a", target_is_directory=True)
    expected = ["a/b/y.yaml", "a/z.yaml", "a-x/c.yml", "b.yaml"]  # component by component, as Path sorts
    assert expand_plan_paths([str(tmp_path)]) == [str(tmp_path / p) for p in expected]
    monkeypatch.chdir(tmp_path)
    assert expand_plan_paths(["."]) == expected
    assert expand_plan_paths(["./a/", "a/z.yaml", "b.yaml"]) == ["a/b/y.yaml", "a/z.yaml", "b.yaml"]


def test_format_is_case_insensitive_and_colour_follows_no_color(run_cli, monkeypatch):
    upper = run_cli("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22", "--format", "JSON")
    assert upper.stdout.lstrip().startswith("{")
    forced = run_cli("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22", "--color")
    assert "\x1b[" in forced.stdout
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run_cli("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22").stdout
    assert "\x1b[" not in run_cli("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22", "--no-color").stdout


def test_a_review_date_after_the_packs_posture_says_so_in_every_output(run_cli, tmp_path):
    later = ("--as-of", "2027-03-01")
    notice = api.load_rules(["bundled"]).currency_notice(date(2027, 3, 1))
    assert notice is not None
    assert f"  note: {notice}" in run_cli("check", str(EXAMPLE_PLAN), *later).stdout
    body = json.loads(run_cli("check", str(EXAMPLE_PLAN), *later, "--format", "json").stdout)
    assert body["plans"][0]["notice"] == notice
    html = tmp_path / "memo.html"
    assert run_cli("memo", str(EXAMPLE_PLAN), "-o", str(html), "--format", "html", *later).exit_code == 0
    assert notice in html.read_text()
    on_time = json.loads(run_cli("check", str(EXAMPLE_PLAN), "--as-of", "2026-07-01", "--format", "json").stdout)
    assert on_time["plans"][0]["notice"] is None


def test_a_mixed_batch_counts_broken_files_and_skips_packs_with_a_note(tmp_path, run_cli):
    import shutil

    shutil.copy(EXAMPLE_PLAN, tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("schema_version: 1\nplan: [\n")
    shutil.copy(EXAMPLE_PLAN.parent / "starter-pack.yaml", tmp_path / "c-pack.yaml")
    result = run_cli("check", str(tmp_path), "--as-of", "2026-11-22", "--format", "summary")
    assert result.exit_code == 2
    assert result.stdout.splitlines()[-1] == "2 plans: 1 checked, 1 with input errors; 1 with failing findings."
    assert f"skipped {tmp_path / 'c-pack.yaml'}: is a rule pack, not a plan file: load it with --rules" \
        in result.stdout
    named = run_cli("check", str(tmp_path / "c-pack.yaml"))  # named on its own: never skipped
    assert named.exit_code == 2 and f"{tmp_path / 'c-pack.yaml'}: is a rule pack, not a plan file" in named.stderr


def test_min_severity_shows_only_what_was_asked_and_help_is_complete(run_cli):
    import click

    from compliance.cli import cli

    shown = run_cli("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22", "--min-severity", "warning").stdout
    assert "  WARNING " in shown and "  INFO " not in shown and "  WATCH " not in shown

    def undocumented(cmd, name):
        if isinstance(cmd, click.Group):
            for sub, child in cmd.commands.items():
                yield from undocumented(child, f"{name} {sub}")
        else:
            yield from ((name, p.opts) for p in cmd.params if isinstance(p, click.Option) and not p.help)
    assert list(undocumented(cli, "compliance")) == []
    commands = run_cli("--help").stdout.split("Commands:", 1)[1]
    assert "..." not in commands  # no command's summary is cut off


def test_input_errors_reach_stderr_as_their_file_is_checked(tmp_path):
    """Issue 27, item 19: a run killed by a CI time limit must already have shown the input errors it found.

    The run writes more than a pipe holds to stdout, which this test does not read until stderr has shown the
    broken plan's error: the run cannot end first, so the error can only come while it is under way.
    """
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "a-broken.yaml").write_text("schema_version: 1\nplan: [\n")
    for i in range(20):  # about 11 KB of text report each: more than the 64 KB a pipe buffers
        shutil.copy(EXAMPLE_PLAN, plans / f"p{i:02}.yaml")
    proc = subprocess.Popen([sys.executable, "-m", "compliance", "check", "plans", "--as-of", "2026-11-22"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        ready, _, _ = select.select([proc.stderr], [], [], 120)
        assert ready, "no input error on stderr while the run was under way"
        first = proc.stderr.readline().decode()
        assert first.startswith("plans/a-broken.yaml:3:1: YAML syntax error")
        assert proc.poll() is None  # still running: its report waits for the stdout nobody has read yet
        out, rest = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 2
    assert out.decode().endswith("\n21 plans: 20 checked, 1 with input errors; 20 with failing findings.\n")
    assert rest == b""  # each problem is shown once


def test_posture_and_rules_list_give_the_currency_notice_too(run_cli):
    """Issue 25: every output says when the review date is later than the date the packs' sources were checked."""
    later = ("--as-of", "2027-03-01")
    notice = api.load_rules(["bundled"]).currency_notice(date(2027, 3, 1))
    assert notice is not None
    assert f"note: {notice}" in run_cli("posture", *later).stdout
    assert json.loads(run_cli("posture", *later, "--format", "json").stdout)["notice"] == notice
    assert f"note: {notice}" in run_cli("rules", "list", *later).stdout
    on_time = api.load_rules(["bundled"]).packs[0].current_to
    assert "note:" not in run_cli("posture", "--as-of", on_time.isoformat()).stdout
def test_posture_json_gives_each_source_its_status_on_the_date(run_cli):
    today = json.loads(run_cli("posture", "--format", "json", "--as-of", "2026-11-22").stdout)
    then = json.loads(run_cli("posture", "--format", "json", "--as-of", "2024-06-30").stdout)
    assert (today["as_of"], then["as_of"]) == ("2026-11-22", "2024-06-30")
    ids = [s["id"] for s in today["sources"]]
    assert len(ids) == len(set(ids)) and ids == [s["id"] for s in then["sources"]]
    car_now, car_then = (next(s for s in d["sources"] if s["id"] == "dol-car-2022-01") for d in (today, then))
    assert (car_now["status"], car_now["status_text"]) == ("rescinded", "rescinded since 2025-05-28 by dol-car-2025-01")
    assert (car_then["status"], car_then["status_text"]) == ("in_force", "in force since 2022-03-10")


def test_schema_plan_markdown_and_rules_docs_are_the_committed_docs(tmp_path, run_cli):
    """What the docs say to run to regenerate them gives the committed files, on stdout and with -o."""
    for command, doc in ((("schema", "plan", "--format", "markdown"), "plan-fields.md"),
                         (("rules", "docs"), "rules.md")):
        committed = (ROOT / "docs" / doc).read_text()
        shown = run_cli(*command)
        assert (shown.exit_code, shown.stdout) == (0, committed)
        written = run_cli(*command, "-o", str(tmp_path / doc))
        assert written.exit_code == 0 and (tmp_path / doc).read_text() == committed


def test_only_the_cli_speaks_click(run_cli):
    """Library modules raise and return plain values; cli.py alone turns them into click output and exit codes."""
    code = ("import importlib, pkgutil, sys, compliance\n"
            "for m in pkgutil.walk_packages(compliance.__path__, 'compliance.'):\n"
            "    if m.name not in ('compliance.cli', 'compliance.__main__'):\n"
            "        importlib.import_module(m.name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'click'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert (proc.returncode, proc.stdout) == (0, "[]\n"), proc.stderr
    refused = run_cli("check", str(EXAMPLE_PLAN), "--scheduler", "udp://127.0.0.1:8786")
    assert refused.exit_code == 2
    assert refused.stderr == "Error: --scheduler takes tls://HOST:PORT (or tcp://HOST:PORT), not udp://127.0.0.1:8786\n"


def _check_with_stderr_on_a_terminal(tmp_path: Path, plans: int, env: dict[str, str]) -> tuple[str, list[str]]:
    """Run `check` on `plans` copies of the example with stderr on a pseudo-terminal; what the terminal showed,
    and click's modules the run imported."""
    import os
    import pty

    folder = tmp_path / "plans"
    folder.mkdir(parents=True)
    for i in range(plans):
        shutil.copy(EXAMPLE_PLAN, folder / f"p{i}.yaml")
    code = ("import sys, runpy\n"
            f"sys.argv = ['compliance', 'check', {str(folder)!r}, '--fail-on', 'never', '-o', 'out.txt']\n"
            "try:\n runpy.run_module('compliance', run_name='__main__')\nexcept SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('click._termui')))")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=follower, cwd=tmp_path,
                              env={k: v for k, v in {**os.environ, **env}.items() if v}, timeout=120)
        os.close(follower)
        shown = b""
        while select.select([leader], [], [], 0.5)[0]:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal is closed once the run has ended and all is read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert proc.returncode == 0
    return shown.decode(), eval(proc.stdout.decode().strip().splitlines()[-1])


def test_a_batch_shows_progress_on_a_terminal_and_nothing_elsewhere(tmp_path):
    """The progress bar is for a person at a terminal. In CI, or for one plan, the run shows none and does not
    import click's terminal code for it."""
    shown, modules = _check_with_stderr_on_a_terminal(tmp_path, 3, {"CI": "", "NO_COLOR": "1"})
    assert "Checking plans" in shown and "100%" in shown and modules == ["click._termui_impl"]
    shown, modules = _check_with_stderr_on_a_terminal(tmp_path / "ci", 3, {"CI": "true"})
    assert (shown, modules) == ("", [])
    shown, modules = _check_with_stderr_on_a_terminal(tmp_path / "one", 1, {"CI": ""})
    assert (shown, modules) == ("", [])
