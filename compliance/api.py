"""The library face: what the CLI, the memo, the benchmarks and the tests all call.

    ruleset = load_rules(["bundled"])
    report = check("plans/acme.yaml", ruleset, date(2026, 11, 22))

Rules and packs (`load_rules`, `find_rule`, `pack_files`, `rule_tests`), one plan (`check`, or `read_plan` then `judge`), one
plan against another version of itself (`compare`) and the plan files named on a command line
(`expand_plan_paths`).
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from compliance import __version__, rulesets
from compliance.engine import evaluate
from compliance.errors import InputError, NotAPlan
from compliance.loader import Document, load_bytes, load_file
from compliance.model import PlanReport, Rule, RuleSet, Waiver
from compliance.packs import discover
from compliance.schemas.pack import PACK_VALIDATOR
from compliance.schemas.plan import validate_plan
from compliance.waivers import read_waivers

if TYPE_CHECKING:
    from compliance.diff import PlanDiff
    from compliance.packtest import TestResult

PLAN_SUFFIXES = (".yaml", ".yml")


def load_rules(packs: Sequence[str | Path] = ("bundled",), settings_file: str | None = None) -> RuleSet:
    """The packs named (files, folders, `bundled`), compiled once per process (`compliance.rulesets`)."""
    return rulesets.load(list(packs), settings_file)


def find_rule(ruleset: RuleSet, rule_id: str) -> Rule:
    """The loaded rule with this id; an InputError, with the nearest id, if none has it."""
    rule = ruleset.rule(rule_id)
    if rule is None:
        from compliance.schemas.messages import did_you_mean

        raise InputError.at(rule_id, 0, 0, f"no loaded rule has this id{did_you_mean(rule_id, (r.id for r in ruleset.rules))}")
    return rule


def pack_files(packs: Sequence[str | Path]) -> list[Path]:
    """Every pack file `packs` name, including those found in folders (`bundled` names the built-in ones)."""
    return discover(packs)


def rule_tests(ruleset: RuleSet) -> list[TestResult]:
    """Run every loaded rule's own test cases (docs/rule-packs.md): a fragment that must fire it, one that must not."""
    from compliance.packtest import run_rule_tests

    return run_rule_tests(ruleset)


def check(plan_path: str | Path, ruleset: RuleSet, as_of: date, text: bytes | None = None,
          display_name: str | None = None) -> PlanReport:
    """Load, validate and evaluate one plan file (or its given bytes). Bad input raises InputError with file and line."""
    return judge(read_plan(plan_path, text, display_name), ruleset, as_of)


def compare(base_path: str | Path, new_path: str | Path, ruleset: RuleSet, as_of: date,
            base_ref: str | None = None) -> PlanDiff:
    """What changed from a base version of a plan to a new one: the base is the file `base_path`, or with
    `base_ref` the file `base_path` as that git revision holds it. The base is checked first."""
    from compliance.diff import diff_reports, git_show  # only here: a check does not load subprocess

    if base_ref:
        base = check(base_path, ruleset, as_of, text=git_show(base_ref, Path(base_path)),
                     display_name=f"{base_ref}:{base_path}")
    else:
        base = check(base_path, ruleset, as_of)
    return diff_reports(base, check(new_path, ruleset, as_of))


class PlanFile(NamedTuple):
    """A plan file read and validated once, to be judged under one ruleset and date or several."""

    doc: Document
    plan: dict[Any, Any]
    waivers: tuple[Waiver, ...]

    @property
    def recordkeeper(self) -> str | None:
        return (self.plan["plan"].get("recordkeeper") or {}).get("name")


def read_plan(plan_path: str | Path, text: bytes | None = None, display_name: str | None = None) -> PlanFile:
    doc = load_bytes(text, display_name or str(plan_path)) if text is not None else load_file(plan_path, display_name)
    if isinstance(doc.data, dict) and "pack" in doc.data and "menu" not in doc.data and PACK_VALIDATOR.accepts(doc.data):
        raise NotAPlan.at(doc.file, 0, 0, f"is a rule pack, not a plan file: load it with --rules {doc.file} (or "
                                          f"list it under packs: in .compliance.yaml)")
    plan = validate_plan(doc)
    return PlanFile(doc, plan, read_waivers(plan, doc))


def judge(read: PlanFile, ruleset: RuleSet, as_of: date) -> PlanReport:
    """Evaluate a plan file already read under `ruleset` on `as_of`."""
    doc, plan = read.doc, read.plan
    outcomes, findings = evaluate(ruleset, plan, doc, as_of, read.waivers)
    return PlanReport(
        plan_file=doc.file, plan_name=plan["plan"].get("name") or Path(doc.file).name, plan=plan, as_of=as_of, outcomes=outcomes,
        findings=findings, plan_sha256=hashlib.sha256(doc.text).hexdigest(), plan_text=doc.text, ruleset=ruleset,
        tool_version=__version__, waivers=read.waivers, recordkeeper=read.recordkeeper,
    )


def expand_plan_paths(arguments: list[str]) -> list[str]:
    """Plan files named by paths, directories (searched recursively for *.yaml, *.yml) and globs, in path order.

    Names are kept as strings, not Path objects: at 50,000 plans the list is the one thing a batch holds for
    every plan, and Paths cost about six times as much memory.
    """
    found: list[str] = []
    for arg in arguments:
        path = Path(arg)
        if path.is_dir():
            inside = _plans_in(str(path))
            if not inside:
                raise InputError.at(arg, 0, 0, "no plan files (*.yaml, *.yml) in this folder")
            found += inside
        elif path.exists():
            found.append(str(path))
        elif any(ch in arg for ch in "*?["):
            matches = sorted(str(Path(m)) for m in glob.iglob(arg, recursive=True) if os.path.isfile(m))
            if not matches:
                raise InputError.at(arg, 0, 0, "the pattern matches no file")
            found += matches
        else:
            raise InputError.at(arg, 0, 0, "no such file or directory")
    return _once_each(found)


def _once_each(paths: list[str]) -> list[str]:
    """Each file once, however many names reach it (a symlink loop under a glob names one file many times)."""
    seen: set[str] = set()
    out = []
    for path in paths:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            out.append(path)
    return out


def _plans_in(top: str) -> list[str]:
    """Plan files under `top`, depth first in name order; hidden names and symlinked folders are skipped.

    The walk keeps its own stack, so a deeply nested tree cannot exhaust Python's recursion limit.
    """
    found: list[str] = []
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            raise InputError.at(folder, 0, 0, f"cannot read this folder: {exc.strerror or exc}") from None
        subfolders = []
        for name in names:
            if name.startswith("."):
                continue
            full = name if folder == "." else os.path.join(folder, name)
            if os.path.isdir(full):
                if not os.path.islink(full):
                    subfolders.append(full)
            elif name.endswith(PLAN_SUFFIXES) and os.path.isfile(full):
                found.append(full)
        stack += reversed(subfolders)
    return sorted(found, key=_path_order)


def _path_order(path: str) -> tuple[str, ...]:
    """Depth first in name order, as the recursive walk listed them: compare path components, not strings."""
    return tuple(path.split(os.sep))
