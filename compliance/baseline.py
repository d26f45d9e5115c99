"""Baselines: accept today's findings, fail only on new ones. Keyed by fingerprint, not by line number.

A baseline also records each finding's severity, so a finding that becomes more severe (a watch item whose
proposal is finalised, a warning that becomes an error) surfaces again instead of staying hidden.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from compliance.atomic import write_atomic
from compliance.errors import InputError
from compliance.model import SEVERITIES, Finding, Report, Severity

BASELINE_VERSION = 1


def write_baseline_file(path: Path, fingerprints: dict[str, str]) -> None:
    """Record failing and watch findings' fingerprints and severities (collected while checking)."""
    body = {"format_version": BASELINE_VERSION, "fingerprints": sorted(fingerprints),
            "severities": dict(sorted(fingerprints.items()))}
    write_atomic(path, (json.dumps(body, indent=2) + "\n").encode())


MAX_BASELINE_BYTES = 64 * 1024 * 1024


def read_baseline(path: Path) -> dict[str, str | None]:
    """Fingerprint -> the severity recorded for it (None in baselines written before severities were kept)."""
    from compliance.loader import read_file

    if not Path(path).exists():
        raise InputError.at(str(path), 0, 0, "baseline file not found (create it with --write-baseline)")
    raw = read_file(path, str(path), MAX_BASELINE_BYTES)  # a regular file, read with a cap: never a FIFO's hang
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise InputError.at(str(path), 0, 0, f"not a readable baseline: {why}") from None
    if not isinstance(body, dict) or body.get("format_version") != BASELINE_VERSION or not isinstance(
            body.get("fingerprints"), list):
        raise InputError.at(str(path), 0, 0, f"not a baseline of format_version {BASELINE_VERSION}")
    severities: dict[Any, Any] = body["severities"] if isinstance(body.get("severities"), dict) else {}
    return {str(f): severities.get(f) if severities.get(f) in SEVERITIES else None for f in body["fingerprints"]}


def filter_new(reports: list[Report], known: dict[str, str | None]) -> list[Report]:
    """The reports with baselined findings removed, so only new ones are shown and can fail the run."""
    return [replace(r, findings=tuple(f for f in r.findings if not is_known(f, known))) for r in reports]


def is_known(finding: Finding, known: dict[str, str | None]) -> bool:
    """In the baseline at no lower severity: by its own fingerprint, or (a consolidated watch item) by all of
    its members'."""
    if finding.fingerprint in known:
        recorded = known[finding.fingerprint]
        return recorded is None or finding.severity <= Severity(recorded)
    return bool(finding.members) and all(m in known for m in finding.members)
