"""No value from a plan, a pack, a waiver or a file name can start a CI runner command, move a terminal's cursor
or add markup to a pull-request comment, in any human-readable format or on stderr (docs/security.md)."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.helpers import EXAMPLE_PLAN

HOSTILE = "Bond Fund\n::error file=x.yaml,line=1::forged\r\n::add-mask::secret \x1b]52;c;cHduZWQ=\x07\x1b[2J" \
          "\x9b31m ##[error]old form \u202eevil\u202c ![x](https://evil.example/p.png) <details>@octocat"
HOSTILE_FILE = "::stop-commands::token\n::error::forged.yaml"
# a raw control character, C1 control, or bidi override anywhere in output is a failure
RAW_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
OUR_COMMANDS = re.compile(r"^::(error|warning|notice) file=[^\n]*$")


@pytest.fixture
def hostile_plans(tmp_path):
    plan = yaml.safe_load(EXAMPLE_PLAN.read_text())
    plan["plan"]["name"] = HOSTILE
    for fund in plan["menu"]:
        fund["name"] = HOSTILE
    folder = tmp_path / "plans"
    folder.mkdir()
    good = folder / HOSTILE_FILE
    good.write_text(yaml.safe_dump(plan, allow_unicode=False))
    broken = folder / "::error::broken\n::warning::x.yaml"
    broken.write_text("schema_version: 1\nplan: {name: 5}\n")
    return folder, good


def assert_safe(output: str, commands_allowed: bool = False) -> None:
    assert not RAW_CONTROLS.search(output), repr(RAW_CONTROLS.search(output))
    assert "##[" not in output
    for line in output.splitlines():
        if line.lstrip().startswith("::"):
            assert commands_allowed and OUR_COMMANDS.match(line), f"a line reads as a runner command: {line!r}"


@pytest.mark.parametrize("fmt", ["text", "summary", "markdown", "github"])
def test_check_output_and_stderr_carry_no_command_or_escape(hostile_plans, run_cli, fmt):
    folder, _ = hostile_plans
    result = run_cli("check", str(folder), "--as-of", "2026-11-22", "--format", fmt)
    assert result.exit_code == 2  # one broken plan in the batch
    assert "forged" in result.stdout  # the hostile text is shown, as text
    assert_safe(result.stdout, commands_allowed=fmt == "github")
    assert_safe(result.stderr)
    assert "broken" in result.stderr


def test_github_commands_keep_hostile_text_inside_their_message(hostile_plans, run_cli):
    folder, good = hostile_plans
    out = run_cli("check", str(good), "--as-of", "2026-11-22", "--format", "github").stdout
    lines = out.splitlines()
    assert lines and all(OUR_COMMANDS.match(line) for line in lines)
    assert all("%0A::error" in line for line in lines if "Bond Fund" in line)


def test_markdown_shows_plan_text_as_text(hostile_plans, run_cli):
    folder, good = hostile_plans
    out = run_cli("check", str(good), "--as-of", "2026-11-22", "--format", "markdown").stdout
    assert "![" not in out and "](" not in out.replace("\\](", "")
    assert "<details>" not in out and "&lt;details&gt;" in out
    assert "@octocat" not in out  # a word joiner follows the @: nobody is mentioned
    assert "https://" not in out


def test_diff_output_carries_no_command_or_escape(hostile_plans, run_cli, tmp_path):
    _, good = hostile_plans
    base = tmp_path / "base.yaml"
    base.write_bytes(EXAMPLE_PLAN.read_bytes())
    for fmt in ("text", "json"):
        result = run_cli("diff", str(base), str(good), "--as-of", "2026-11-22", "--format", fmt)
        assert result.exit_code in (0, 1)
        assert_safe(result.stdout)


def test_stderr_input_errors_name_the_file_safely(run_cli, tmp_path):
    bad = tmp_path / "x\n::error::y.yaml"
    bad.write_text("plan: [\n")
    result = run_cli("check", str(bad))
    assert result.exit_code == 2
    assert_safe(result.stderr)
    assert "\\n::error::y.yaml" in result.stderr


def test_a_relative_name_starting_with_colons_is_shown_as_a_path(run_cli, tmp_path):
    (tmp_path / "::warning::x.yaml").write_bytes(EXAMPLE_PLAN.read_bytes())
    result = run_cli("check", "::warning::x.yaml", "--as-of", "2026-11-22", cwd=tmp_path)
    assert result.stdout.startswith("./::warning::x.yaml: ")
    assert_safe(result.stdout)


def test_memo_lists_written_memos_one_line_each_whatever_the_plan_names(run_cli, tmp_path):
    """Found in review: `memo` printed each memo's path raw, so a plan named with a line break started a line of
    its own (a workflow command in a CI log)."""
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "evil\n::error::x.yaml").write_bytes(EXAMPLE_PLAN.read_bytes())
    result = run_cli("memo", str(plans), "-o", str(tmp_path / "out"), "--format", "html", "--as-of", "2026-11-22")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [f"{tmp_path / 'out'}/evil\\n::error::x.html"]
    assert_safe(result.stdout)
    assert (tmp_path / "out" / "evil\n::error::x.html").is_file()
