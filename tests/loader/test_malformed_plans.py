"""A corpus of malformed plan files: each must exit 2 with exactly this located, one-line error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "malformed"

EXPECTED = {
    "bad-ein.yaml": "4:8: plan.ein: '123456789' does not match the expected form NN-NNNNNNN",
    "boolean-count.yaml": "7:17: plan.participants: must be a whole number (got true; YAML reads an unquoted yes, no, "
                          "on, off, true or false as true or false)",
    "duplicate-fund-id.yaml": "13:9: menu[1].id: 'core' is already used by menu[0]; fund ids must be unique",
    "duplicate-key.yaml": "4:3: duplicate key plan.name (first defined on line 3); YAML keeps only the last one, so remove one",
    "empty-file.yaml": "1:1: file is empty",
    "empty-menu.yaml": "7:7: menu: must not be empty",
    "latin1-bytes.yaml": "2:12: not valid UTF-8 (byte 0xe9); save the file as UTF-8",
    "empty-plan-name.yaml": "3:9: plan.name: must not be empty",
    "missing-schema-version.yaml": "2:1: schema_version: required field is missing",
    "menu-not-a-list.yaml": "8:7: menu: must be a list (got 5)",
    "misspelled-key.yaml": "7:3: plan.partcipants: unknown field; did you mean 'participants'?",
    "nan-expense-ratio.yaml": "12:20: menu[fund core].expense_ratio: must be a finite number (got NaN or infinity)",
    "not-a-mapping.yaml": "1:1: a plan file must be a YAML mapping with schema_version, plan and menu",
    "odd-date.yaml": "13:21: menu[fund core].inception_date: must be a date (got '06/30/2024'; write YYYY-MM-DD)",
    "pct-over-100.yaml": "13:24: menu[fund core].digital_asset_pct: must be at most 100 (got 150); percentages are written as numbers 0-100",
    "percent-expense-ratio.yaml": "12:20: menu[fund core].expense_ratio: must be a number (got '0.5%'; write 0.005)",
    "python-tag.yaml": "13:15: YAML tag !!python/object:os.system is not allowed; plan files use plain YAML values",
    "quoted-boolean.yaml": "13:11: menu[fund core].qdia: must be true or false (got 'yes'; write true or false without quotes)",
    "ratio-as-percent.yaml": "12:20: menu[fund core].expense_ratio: must be at most 0.2 (got 0.45); write ratios as fractions "
                             "(0.45 looks like a percentage: 0.45% is 0.0045)",
    "tab-indent.yaml": "10:1: YAML syntax error: found a tab character that violates indentation "
                       "(a tab: YAML indentation must use spaces)",
    "unclosed-bracket.yaml": "4:6: YAML syntax error: did not find expected ',' or ']'",
    "unknown-asset-class.yaml": "11:18: menu[fund core].asset_class: 'bitcoin' is not one of: ",
    "wrong-schema-version.yaml": "1:17: schema_version: 2 is not supported (this version of the tool reads 1)",
}


def test_corpus_is_complete():
    assert sorted(p.name for p in CORPUS.glob("*.yaml")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 15


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_plan_exits_2_with_located_error(name, run_cli):
    path = CORPUS / name
    result = run_cli("check", str(path))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}:{EXPECTED[name]}")
    assert "Traceback" not in result.output


def test_several_problems_are_all_reported_in_line_order(tmp_path, run_cli):
    plan = tmp_path / "many.yaml"
    plan.write_text((CORPUS / "percent-expense-ratio.yaml").read_text().replace("ein: \"12-3456789\"", "ein: x")
                    .replace("type: 401k", "type: 401K"))
    result = run_cli("check", str(plan))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[1] for line in lines] == ["4", "6", "12"]
    assert "did you mean '401k'?" in lines[1]


def test_real_process_prints_no_traceback():
    """The installed entry point, in a real subprocess, on the nastiest file of the corpus."""
    proc = subprocess.run([sys.executable, "-m", "compliance", "check", str(CORPUS / "python-tag.yaml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "is not allowed" in proc.stderr
