"""Baselines: accept today's findings, fail only on new ones. Keyed by fingerprint, not by line number."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from compliance.atomic import write_atomic
from compliance.errors import InputError
from compliance.model import Report

BASELINE_VERSION = 1


def write_baseline_file(path: Path, fingerprints: set[str]) -> None:
    """Record failing and watch findings' fingerprints (collected while checking, not whole reports)."""
    body = {"format_version": BASELINE_VERSION, "fingerprints": sorted(fingerprints)}
    write_atomic(path, (json.dumps(body, indent=2) + "\n").encode())


def read_baseline(path: Path) -> set[str]:
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError.at(str(path), 0, 0, "baseline file not found (create it with --write-baseline)") from None
    except (ValueError, OSError) as exc:
        raise InputError.at(str(path), 0, 0, f"not a readable baseline: {exc}") from None
    if not isinstance(body, dict) or body.get("format_version") != BASELINE_VERSION or not isinstance(
            body.get("fingerprints"), list):
        raise InputError.at(str(path), 0, 0, f"not a baseline of format_version {BASELINE_VERSION}")
    return {str(f) for f in body["fingerprints"]}


def filter_new(reports: list[Report], known: set[str]) -> list[Report]:
    """The reports with baselined findings removed, so only new ones are shown and can fail the run."""
    return [replace(r, findings=tuple(f for f in r.findings if not is_known(f, known))) for r in reports]


def is_known(finding, known: set[str]) -> bool:
    """In the baseline: by its own fingerprint, or (a consolidated watch item) by all of its members'."""
    if finding.fingerprint in known:
        return True
    return bool(finding.members) and all(m in known for m in finding.members)
