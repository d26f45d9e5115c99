"""SARIF 2.1.0 for GitHub code scanning: the rules with their help and citations, results with locations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from compliance.errors import Problem
from compliance.model import Finding, Report, Rule
from compliance.report.base import OutputFormat
from compliance.text import json_text, markdown

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def file_uri(path: str) -> str:
    """A file name as a SARIF `uri` (a URI reference): percent-encoded, relative names kept relative."""
    return quote(path.replace("\\", "/"), safe="/")
_LEVEL = {"error": "error", "warning": "warning", "info": "note", "watch": "note"}


def _rule_descriptor(rule: Rule) -> dict[Any, Any]:
    citations = "\n".join(f"- {c.pinpoint}: {c.source.url}" for c in rule.citations)
    # code scanning renders help.markdown: pack text there is shown as text (no images, links or mentions)
    cited = "\n".join(f"- {markdown(c.pinpoint)}: {markdown(c.source.url)}" for c in rule.citations)
    return {
        "id": rule.id,
        "name": rule.id.replace(".", "_").replace("-", "_"),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description or rule.title},
        "help": {"text": f"{rule.remediation}\n\nBasis:\n{citations}",
                 "markdown": f"{markdown(rule.remediation)}\n\n**Basis**\n\n{cited}"},
        "helpUri": rule.citations[0].source.url,
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"pack": rule.pack_id, "tags": [rule.pack_id, rule.scope],
                       "citations": [{"source": c.source.id, "pinpoint": c.pinpoint, "url": c.source.url}
                                     for c in rule.citations]},
    }


def _result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    region = {"startLine": max(f.location.line, 1)}
    if f.location.column:
        region["startColumn"] = f.location.column
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": "note" if f.status == "undetermined" else _LEVEL[f.severity],
        "message": {"text": f.message + (f" ({f.note})" if f.note else "")},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": file_uri(f.location.file)},
                                            "region": region}}],
        "partialFingerprints": {"planCompliance/v1": f.fingerprint},
        "properties": {"status": f.status, "fund": f.fund_id}
        | ({"factsToRecord": [x.path for x in f.facts]} if f.facts else {}),
    }
    if f.rule_id in index:
        result["ruleIndex"] = index[f.rule_id]
    if f.waiver:
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f"{f.waiver.reason} (approved by {f.waiver.approved_by} on "
                                                    f"{f.waiver.approved_on}, expires {f.waiver.expires})"}]
    return result


INPUT_ERROR = "input-error"
SKIPPED = "skipped-rule-pack"  # a rule pack found in a folder of plans, and not checked


def _problem_result(problem: Problem, rule_id: str = INPUT_ERROR, level: str = "error") -> dict[str, Any]:
    loc = problem.location
    region = {"startLine": max(loc.line, 1)}
    if loc.column:
        region["startColumn"] = loc.column
    return {"ruleId": rule_id, "level": level, "message": {"text": problem.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": file_uri(loc.file)}, "region": region}}]}


class SarifFormat(OutputFormat):
    """SARIF 2.1.0; bad input becomes results too, so code scanning shows the broken file."""

    name = "sarif"
    checklist = "none"
    reports_problems = True

    def render(self, reports: Sequence[Report], problems: Sequence[Problem] = (), *, color: bool = False,
               skipped: Sequence[Problem] = ()) -> str:
        return _render(reports, problems, skipped)


def _render(reports: Sequence[Report], problems: Sequence[Problem], skipped: Sequence[Problem]) -> str:
    rules = list(reports[0].ruleset.rules) if reports else []
    index = {rule.id: i for i, rule in enumerate(rules)}
    version = reports[0].tool_version if reports else ""
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "plan-compliance", "version": version,
                                "informationUri": "https://pypi.org/project/plan-compliance/",
                                "rules": [_rule_descriptor(r) for r in rules]}},
            "results": [_result(f, index) for r in reports for f in r.findings]
            + [_problem_result(p) for p in problems] + [_problem_result(p, SKIPPED, "note") for p in skipped],
            "properties": {"asOf": reports[0].as_of.isoformat() if reports else None,
                           "federalChanges": [{"message": c.message, "file": c.location.file, "line": c.location.line}
                                              for c in (reports[0].ruleset.federal_changes if reports else ())]},
        }],
    }
    return json_text(log)


FORMAT = SarifFormat()
