"""Helpers the tests import: where things are, the review date, and real plan and pack files written to disk."""

from __future__ import annotations

import copy
import textwrap
from datetime import date
from pathlib import Path

import yaml

from compliance.packtest import load_base, merge

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PLAN = ROOT / "examples" / "acme-401k.yaml"
TODAY = date(2026, 11, 22)


def clean_plan() -> dict:
    return copy.deepcopy(load_base()[0])


def write_plan(folder: Path, patch: dict | None = None, name: str = "plan.yaml") -> Path:
    plan = merge(clean_plan(), patch or {})
    path = folder / name
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def write_pack(folder: Path, body: str, name: str = "pack.yaml") -> Path:
    """A pack layered on the bundled sources; `body` is YAML text for its rules/parameters."""
    header = textwrap.dedent("""\
        pack:
          id: test-pack
          title: Test pack
          version: "1"
          jurisdiction: test
          extends: [us-federal-sources]
        """)
    path = folder / name
    path.write_text(header + textwrap.dedent(body))
    return path
