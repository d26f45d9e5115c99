"""Every output format on a synthetic report (tests/report/synthetic.py), compared byte for byte with a reviewed
file under tests/report/golden/.

After a deliberate change of output, regenerate the files and read the diff before committing it:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/report/test_golden.py
    git diff tests/report/golden/

A golden file is an expectation someone has read (escaping, counts, severities), not a snapshot: a new format
adds `golden/<name>.<ext>` (test_every_format_has_a_golden_file fails until it does), and one that `compares`
adds `golden/<name>.diff.<ext>` too.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compliance.model import failing_count
from compliance.report import FORMATS, diff_formats, get_format
from tests.report import synthetic

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
EXTENSIONS = {"json": "json", "sarif": "sarif", "junit": "xml", "markdown": "md"}  # any other format: .txt


def golden_path(name: str, variant: str = "") -> Path:
    return GOLDEN / f"{name}{'.' + variant if variant else ''}.{EXTENSIONS.get(name, 'txt')}"


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # no newline translation: the bytes are the expectation


def check_golden(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    assert path.exists(), f"{path.name} is missing: run with UPDATE_GOLDEN=1, then read it before committing it"
    expected = read(path)
    assert text == expected, f"{path.name} differs: run with UPDATE_GOLDEN=1 and review `git diff {GOLDEN}`"


@pytest.mark.parametrize("name", list(FORMATS))
def test_a_run_renders_as_its_golden_file(name):
    fmt = get_format(name)
    check_golden(golden_path(name), fmt.render(synthetic.reports(), synthetic.PROBLEMS, skipped=synthetic.SKIPPED))


@pytest.mark.parametrize("name", [n for n in FORMATS if get_format(n).streams])
def test_a_streamed_run_writes_the_same_bytes_plan_by_plan(name):
    """What a streaming format writes before, per plan and after gives its golden file, so a batch that streams
    thousands of plans prints what a small run does."""
    fmt, reports = get_format(name), synthetic.reports()
    streamed = (fmt.render_start(synthetic.RULESET) + "".join(fmt.render_one(r) for r in reports)
                + fmt.render_end(len(reports), failing_count(reports), 0, synthetic.PROBLEMS, synthetic.SKIPPED))
    assert streamed == read(golden_path(name))


@pytest.mark.parametrize("name", [n for n in FORMATS if get_format(n).colours])
def test_a_colouring_format_on_a_terminal_renders_as_its_golden_file(name):
    text = get_format(name).render(synthetic.reports(), synthetic.PROBLEMS, color=True, skipped=synthetic.SKIPPED)
    check_golden(golden_path(name, "color"), text)


@pytest.mark.parametrize("name", diff_formats())
def test_a_comparison_renders_as_its_golden_file(name):
    check_golden(golden_path(name, "diff"), get_format(name).render_diff(synthetic.plan_diff()))


def test_every_format_has_a_golden_file_and_no_golden_file_is_stale():
    """A new format must come with its golden files; a removed one must take them away."""
    wanted = {golden_path(n) for n in FORMATS} | {golden_path(n, "diff") for n in diff_formats()}
    wanted |= {golden_path(n, "color") for n in FORMATS if get_format(n).colours}
    assert {p for p in wanted if not p.exists()} == set()
    assert set(GOLDEN.iterdir()) == wanted


def test_the_synthetic_report_has_what_the_golden_files_are_meant_to_show():
    """The golden files are only as good as their input: it must keep every severity and status, a waiver, plan
    and fund items, facts to record, and a plan name that needs escaping."""
    acme, beta = synthetic.reports()
    assert acme.counts() == {"error": 1, "warning": 1, "info": 1, "waived": 1, "watch": 1, "undetermined": 1,
                             "to_record": 2}
    assert beta.counts() == {"error": 0, "warning": 1, "info": 0, "waived": 0, "watch": 0, "undetermined": 0,
                             "to_record": 0}
    assert {o.status for o in acme.outcomes} == {"pass", "fail", "waived", "watch", "undetermined", "not_applicable"}
    assert {f.fund_id is None for f in acme.findings} == {True, False}
    assert all(c in acme.plan_name for c in "<>&\"'\n\x1b")
    diff = synthetic.plan_diff()
    assert [len(x) for x in (diff.added, diff.removed, diff.changed, diff.new_findings, diff.resolved,
                             diff.unchanged, diff.newly_waived)] == [1, 1, 1, 1, 1, 1, 1]


def test_the_golden_sarif_and_junit_files_are_valid_against_their_schemas():
    """A reviewed expectation that code scanning or Jenkins would refuse is no expectation."""
    import json

    import jsonschema
    from lxml import etree

    schemas = Path(__file__).resolve().parents[1] / "fixtures" / "schemas"
    sarif = json.loads(read(golden_path("sarif")))
    jsonschema.Draft4Validator(json.loads((schemas / "sarif-2.1.0-rtm.5.json").read_text())).validate(sarif)
    junit = etree.XMLSchema(etree.parse(str(schemas / "junit-10.xsd")))
    junit.assertValid(etree.fromstring(golden_path("junit").read_bytes()))
