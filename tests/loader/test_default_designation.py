"""The plan's default investment, stated as `default_investment` or as `qdia: true` on funds: each contradiction is
bad input, located at the entry that makes it, with exit 2."""

from __future__ import annotations

import pytest

from tests.helpers import write_plan

DEFAULT = "default_investment"
NOT_LISTED = ("qdia: true", "menu[0].qdia: 'target-2045' is marked as the default, but default_investment.funds does "
                            "not list it")
CASES = [  # id, patch to the clean plan, [(text on the line an error points at, its message)]; a list is
    # located at its first item
    ("unknown fund", {DEFAULT: {"funds": ["target-2054"]}}, [
        ("target-2054", "default_investment.funds[0]: 'target-2054' is not a fund id on the menu; did you mean "
                        "'target-2045'?"), NOT_LISTED]),
    ("none with funds", {DEFAULT: {"designation": "none"}}, [
        ("- target-2045", "default_investment.funds: the designation is none, so no fund can be listed")]),
    ("fund without funds", {DEFAULT: {"funds": []}}, [
        ("designation: fund", "default_investment: a fund default lists its menu ids under funds"), NOT_LISTED]),
    ("fund with two funds", {DEFAULT: {"funds": ["target-2045", "bond"]}}, [
        ("- target-2045", "default_investment.funds: a fund default is one option; use designation: series for a series")]),
    ("managed account with two", {DEFAULT: {"designation": "managed_account", "funds": ["target-2045", "bond"]}}, [
        ("- target-2045", "default_investment.funds: a managed_account default is one option; use designation: series for "
                   "a series")]),
    ("flagged but not listed", {DEFAULT: {"designation": "series", "funds": ["bond"]}}, [NOT_LISTED]),
]


@pytest.mark.parametrize("patch,errors", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_contradictory_default_is_a_located_input_error(tmp_path, run_cli, patch, errors):
    plan = write_plan(tmp_path, patch)
    lines = plan.read_text().splitlines()
    result = run_cli("check", str(plan), "--as-of", "2026-11-22")
    assert result.exit_code == 2
    found = []
    for error in result.stderr.splitlines():
        where, _, message = error.partition(": ")
        file, line, _ = where.rsplit(":", 2)
        assert file == str(plan)
        found.append((lines[int(line) - 1], message))
    assert len(found) == len(errors)
    for (line_text, message), (expected_text, expected) in zip(found, errors, strict=True):
        assert message == expected
        assert expected_text in line_text
