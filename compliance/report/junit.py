"""JUnit XML for Jenkins and GitLab: one test suite per plan, one test case per rule (and fund).

Every value is passed through `printable` (shortened to `_p`): XML 1.0 cannot hold most control characters at all,
and a line break inside a value would let it start a line of a CI log.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from compliance.errors import Problem
from compliance.model import Report
from compliance.report.base import OutputFormat
from compliance.text import printable as _p


class JunitFormat(OutputFormat):
    name = "junit"
    reports_problems = True

    def render(self, reports: Sequence[Report], problems: Sequence[Problem] = (), *, color: bool = False,
               skipped: Sequence[Problem] = ()) -> str:
        return _render(reports, problems, skipped)


def _render(reports: Sequence[Report], problems: Sequence[Problem], skipped: Sequence[Problem]) -> str:
    root = ET.Element("testsuites", name="plan-compliance")
    totals = {"tests": 0, "failures": 0, "skipped": 0, "errors": 0}
    if problems or skipped:  # a broken input file is an error; a rule pack found among plans is skipped
        suite = ET.SubElement(root, "testsuite", name="input files", tests=str(len(problems) + len(skipped)),
                              failures="0", errors=str(len(problems)), skipped=str(len(skipped)))
        for problem, kind in [(p, "error") for p in problems] + [(p, "skipped") for p in skipped]:
            case = ET.SubElement(suite, "testcase", name=_p(problem.location.file), classname="input", time="0")
            ET.SubElement(case, kind, message=_p(str(problem)))
        totals["tests"] += len(problems) + len(skipped)
        totals["errors"] += len(problems)
    for report in reports:
        suite = ET.SubElement(root, "testsuite", name=_p(report.plan_file), timestamp=f"{report.as_of.isoformat()}T00:00:00")
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for outcome in report.outcomes:
            targets = outcome.findings or (None,)
            for finding in targets:
                name = outcome.rule_id + (f" [{finding.fund_id}]" if finding is not None and finding.fund_id else "")
                case = ET.SubElement(suite, "testcase", name=_p(name), classname=_p(report.plan_name), time="0")
                counts["tests"] += 1
                if finding is not None and finding.status == "fail":
                    cites = "; ".join(c.pinpoint for c in finding.citations)
                    failure = ET.SubElement(case, "failure", message=_p(finding.message), type=finding.severity)
                    failure.text = (f"{finding.location}: {_p(finding.message)}\nBasis: {_p(cites)}\n"
                                    f"Remediation: {_p(finding.remediation)}"
                                    + (f"\nNote: {_p(finding.note)}" if finding.note else ""))
                    counts["failures"] += 1
                elif finding is not None and finding.status == "undetermined":
                    facts = "; ".join(x.path for x in finding.facts)
                    ET.SubElement(case, "skipped", message=_p(f"to record: {facts}"))
                    counts["skipped"] += 1
                elif finding is not None or outcome.status == "not_applicable":
                    why = (f"{finding.status}: {finding.waiver.reason if finding.waiver else finding.message}"
                           if finding is not None else f"not applicable: {outcome.reason}")
                    ET.SubElement(case, "skipped", message=_p(why))
                    counts["skipped"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
    for key in ("tests", "failures", "errors"):  # the published schema (Jenkins xunit's junit-10.xsd) has no
        root.set(key, str(totals[key]))           # skipped here
    ET.indent(root)
    xml = ET.tostring(root, encoding="unicode").replace("##[", "#&#35;[")  # the runner's older command form
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml + "\n"


FORMAT = JunitFormat()
