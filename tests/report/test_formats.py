"""Machine formats: SARIF and JUnit validated against their schemas, GitHub annotations line by line."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

from compliance import api
from compliance.report import FORMATS, diff_formats, get_format
from tests.helpers import EXAMPLE_PLAN, TODAY, write_plan

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "schemas"


@pytest.fixture(scope="module")
def report():
    return api.check(EXAMPLE_PLAN, api.load_rules(["bundled"]), TODAY)


def test_sarif_is_valid_against_the_official_schema(report):
    log = json.loads(get_format("sarif").render([report]))
    schema = json.loads((SCHEMAS / "sarif-2.1.0-rtm.5.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(report.ruleset.rules)
    for result in run["results"]:
        if "ruleIndex" not in result:  # a consolidated watch item stands for several rules, so it indexes none
            assert result["ruleId"].startswith("watch.")
            continue
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1
    share = next(r for r in run["results"] if r["ruleId"] == "erisa.fees.lower-cost-share-class")
    assert share["level"] == "warning"
    assert share["locations"][0]["physicalLocation"]["region"] == {"startLine": 137, "startColumn": 18}
    waived = [r for r in run["results"] if "suppressions" in r]
    assert len(waived) == 1 and "Dividend Growth" in waived[0]["suppressions"][0]["justification"]
    descriptor = run["tool"]["driver"]["rules"][rule_ids.index("erisa.fees.lower-cost-share-class")]
    assert "843 F.3d 1187" in descriptor["help"]["text"]


def test_sarif_schema_rejects_a_broken_log(report):
    """The validation is real: a log without required parts fails."""
    log = json.loads(get_format("sarif").render([report]))
    del log["runs"][0]["tool"]["driver"]["name"]
    schema = json.loads((SCHEMAS / "sarif-2.1.0-rtm.5.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(log)


def test_junit_is_valid_and_counts_match(report, tmp_path, bundled):
    clean = api.check(write_plan(tmp_path), bundled, TODAY)
    xml = get_format("junit").render([report, clean]).encode()
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "junit-10.xsd")))
    doc = etree.fromstring(xml)
    schema.assertValid(doc)
    suites = doc.findall("testsuite")
    assert [s.get("name") for s in suites] == [str(EXAMPLE_PLAN), str(tmp_path / "plan.yaml")]
    failing = [f for f in report.findings if f.status == "fail"]
    assert int(suites[0].get("failures")) == len(failing)
    assert suites[1].get("failures") == "0"
    failure = doc.xpath("//testcase[@name='erisa.fees.lower-cost-share-class [lc-growth]']/failure")[0]
    assert failure.get("type") == "warning" and "Tibble" in failure.text
    assert int(doc.get("tests")) == sum(int(s.get("tests")) for s in suites)


def test_junit_schema_rejects_broken_xml():
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "junit-10.xsd")))
    assert not schema.validate(etree.fromstring(b"<testsuites tests='1'><testsuite name='x'/></testsuites>"))


def test_github_annotations_line_by_line(report):
    lines = get_format("github").render([report]).splitlines()
    expected = [f for f in report.findings if f.status != "waived"]
    assert len(lines) == len(expected)
    for line, f in zip(lines, expected, strict=True):
        kind = ("notice" if f.status == "undetermined"  # a fact to record is a question, not a finding
                else {"error": "error", "warning": "warning", "info": "notice", "watch": "notice"}[f.severity])
        assert line.startswith(f"::{kind} file={f.location.file},line={f.location.line},col={f.location.column},title=")
        head, message = line.split("::", 2)[1:]
        assert "\n" not in message and message.startswith(f.message.replace("%", "%25"))
    assert any("title=erisa.fees.lower-cost-share-class (lc-growth)::" in line for line in lines)


def test_github_annotation_escapes_newlines_and_separators(tmp_path, bundled):
    plan = write_plan(tmp_path, {"default_investment": None, "menu": [{"id": "f", "name": "A, B: 100% \nfund", "vehicle": "cit",
                                           "asset_class": "target_date", "qdia": True, "expense_ratio": 0.001}]})
    lines = get_format("github").render([api.check(plan, bundled, TODAY)]).splitlines()
    assert all(line.startswith("::") for line in lines)
    assert any("A, B: 100%25 %0Afund" in line for line in lines)


def test_github_format_annotates_bad_input(run_cli):
    corpus = Path(__file__).resolve().parents[1] / "fixtures" / "malformed" / "percent-expense-ratio.yaml"
    result = run_cli("check", str(corpus), "--format", "github")
    assert result.exit_code == 2
    assert result.stdout.strip() == (f"::error file={corpus},line=12,col=20,title=invalid input::menu[fund core].expense_ratio: "
                                     "must be a number (got '0.5%25'; write 0.005)")


def test_markdown_summary(report):
    text = get_format("markdown").render([report])
    assert text.startswith("## plan-compliance: 1 plan(s) as of 2026-11-22")
    c = report.counts()  # the row's numbers are the report's own counts, in the header's order
    row = f"| {c['error']} | {c['warning']} | {c['info']} | {c['watch']} | {c['waived']} | {c['to_record']} |"
    assert "| Acme Manufacturing 401(k) Savings Plan (`" in text and row in text and c["to_record"] > 0
    assert "`erisa.fees.lower-cost-share-class` | lc-growth |" in text


def test_every_format_is_registered_and_renders(report):
    for name in FORMATS:
        assert get_format(name).render([report]).strip()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_jobs_2_gives_the_same_output_as_jobs_1_in_every_format(tmp_path, fmt):
    """Worker processes send reports back without rules or plan data: no format may notice the difference."""
    import subprocess
    import sys

    plans = tmp_path / "plans"
    plans.mkdir()
    for n in range(5):
        (plans / f"p{n}-acme.yaml").write_bytes(EXAMPLE_PLAN.read_bytes())
        write_plan(plans, {"plan": {"name": f"Plan {n}"}}, name=f"p{n}-clean.yaml")
    (plans / "p2-broken.yaml").write_text("plan: [unclosed\n")
    outputs = []
    for jobs in ("1", "2"):
        proc = subprocess.run([sys.executable, "-m", "compliance", "check", str(plans), "--format", fmt, "--as-of",
                               "2026-11-22", "--jobs", jobs], capture_output=True, text=True, timeout=120)
        outputs.append((proc.returncode, proc.stdout, proc.stderr))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == 2 and "p2-broken.yaml:2:1: YAML syntax error" in outputs[0][2]  # the broken plan is reported, not lost
    assert "p4-acme.yaml" in outputs[0][1] or fmt == "summary"


def test_every_format_implements_what_it_declares(run_cli):
    """The registry is the one list and each format's flags are its declarations: each format renders a run;
    streaming ones render plan by plan to the same bytes; those that compare render a diff and the others refuse;
    those that report problems show an input problem; those that colour do so only when asked. The diff formats
    are derived from the declarations, and `diff --format` offers exactly them."""
    from compliance.diff import diff_reports
    from compliance.errors import InputError

    full = api.check(EXAMPLE_PLAN, api.load_rules(["bundled"]), TODAY)
    report = full.results()
    comparison = diff_reports(full, full)
    problem = InputError.at("broken-plan.yaml", 3, 1, "a problem to show").problems
    for name in FORMATS:
        fmt = get_format(name.upper())
        assert fmt.name == name
        whole = fmt.render([report])
        if fmt.streams:
            assert fmt.render_one(report) + fmt.render_end(1, 1, 0) == whole
        else:
            with pytest.raises(NotImplementedError):
                fmt.render_one(report)
        if fmt.compares:
            assert fmt.render_diff(comparison).strip()
        else:
            with pytest.raises(NotImplementedError):
                fmt.render_diff(comparison)
        assert ("broken-plan.yaml" in fmt.render([report], problem)) == fmt.reports_problems, name
        assert ("\x1b[" in fmt.render([report], color=True)) == fmt.colours, name
        assert "\x1b[" not in whole
    assert diff_formats() == tuple(n for n in FORMATS if get_format(n).compares) and "text" in diff_formats()
    help_text = run_cli("diff", "--help").stdout
    assert f"[{'|'.join(diff_formats())}]" in help_text


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_format_reads_no_more_of_the_checklist_than_it_declares(name, report):
    """Workers send back only the part of each checklist the run's formats declare they read; a format that
    read more would print something else after `--jobs 2` than after `--jobs 1`."""
    from compliance.batch import trimmed
    from tests.report.synthetic import reports as synthetic_reports

    fmt = get_format(name)
    for reports in ([report.results()], synthetic_reports()):
        cut = [trimmed(r, fmt.checklist) for r in reports]
        assert fmt.render(cut) == fmt.render(reports)
        if fmt.streams:
            assert [fmt.render_one(r) for r in cut] == [fmt.render_one(r) for r in reports]
    kept = trimmed(report.results(), fmt.checklist).outcomes
    assert (kept == report.outcomes) if fmt.checklist == "rows" else not any(o.findings or o.reason for o in kept)
