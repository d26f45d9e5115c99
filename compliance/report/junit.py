"""JUnit XML for Jenkins and GitLab: one test suite per plan, one test case per rule (and fund)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from compliance.model import Report


def render(reports: list[Report], *, color: bool = False) -> str:
    root = ET.Element("testsuites", name="plan-compliance")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for report in reports:
        suite = ET.SubElement(root, "testsuite", name=report.plan_file, timestamp=f"{report.as_of.isoformat()}T00:00:00")
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for outcome in report.outcomes:
            targets = outcome.findings or (None,)
            for finding in targets:
                name = outcome.rule_id + (f" [{finding.fund_id}]" if finding is not None and finding.fund_id else "")
                case = ET.SubElement(suite, "testcase", name=name, classname=report.plan_name, time="0")
                counts["tests"] += 1
                if finding is not None and finding.status == "fail":
                    cites = "; ".join(c.pinpoint for c in finding.citations)
                    failure = ET.SubElement(case, "failure", message=finding.message, type=finding.severity)
                    failure.text = (f"{finding.location}: {finding.message}\nBasis: {cites}\n"
                                    f"Remediation: {finding.remediation}" + (f"\nNote: {finding.note}" if finding.note else ""))
                    counts["failures"] += 1
                elif finding is not None or outcome.status == "not_applicable":
                    why = (f"{finding.status}: {finding.waiver.reason if finding.waiver else finding.message}"
                           if finding is not None else f"not applicable: {outcome.reason}")
                    ET.SubElement(case, "skipped", message=why)
                    counts["skipped"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
