"""What a change to a plan does: funds added, removed and changed; findings new, resolved and unchanged.

Findings are matched by rule and fund, not by line, so moving YAML around changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.errors import InputError
from compliance.model import Finding, PlanReport, Report, fund_name, worst_first
from compliance.text import counted, printable


@dataclass(frozen=True)
class FundChange:
    fund_id: str
    name: str
    fields: tuple[tuple[str, object, object], ...] = ()


@dataclass(frozen=True)
class PlanDiff:
    base: PlanReport
    new: PlanReport
    added: tuple[FundChange, ...]
    removed: tuple[FundChange, ...]
    changed: tuple[FundChange, ...]
    new_findings: tuple[Finding, ...]
    resolved: tuple[Finding, ...]
    unchanged: tuple[Finding, ...]
    newly_waived: tuple[Finding, ...] = ()  # active in the base, waived now: a new determination to review


def _key(f: Finding) -> tuple[str, str | None]:
    return f.rule_id, f.fund_id


def _active(report: Report) -> dict[tuple[Any, ...], Finding]:
    return {_key(f): f for f in report.findings if f.status in ("fail", "watch")}


def _flatten(value: Any, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, inner in value.items():
            out.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def diff_reports(base: PlanReport, new: PlanReport) -> PlanDiff:
    old_funds = {f["id"]: f for f in base.plan["menu"]}
    new_funds = {f["id"]: f for f in new.plan["menu"]}
    changed = []
    for fund_id in old_funds.keys() & new_funds.keys():
        before, after = _flatten(old_funds[fund_id]), _flatten(new_funds[fund_id])
        fields = tuple((k, before.get(k), after.get(k)) for k in sorted(before.keys() | after.keys())
                       if before.get(k) != after.get(k))
        if fields:
            changed.append(FundChange(fund_id, fund_name(new_funds[fund_id]), fields))
    old_active, new_active = _active(base), _active(new)
    new_waived = {_key(f): f for f in new.findings if f.status == "waived"}
    order = worst_first
    return PlanDiff(
        base=base, new=new,
        added=tuple(FundChange(i, fund_name(new_funds[i])) for i in new_funds if i not in old_funds),
        removed=tuple(FundChange(i, fund_name(old_funds[i])) for i in old_funds if i not in new_funds),
        changed=tuple(sorted(changed, key=lambda c: c.fund_id)),
        new_findings=tuple(sorted((f for k, f in new_active.items() if k not in old_active), key=order)),
        resolved=tuple(sorted((f for k, f in old_active.items() if k not in new_active and k not in new_waived),
                              key=order)),
        unchanged=tuple(sorted((f for k, f in new_active.items() if k in old_active), key=order)),
        newly_waived=tuple(sorted((f for k, f in new_waived.items() if k in old_active), key=order)),
    )


def git_show(ref: str, path: Path) -> bytes:
    """The file's bytes at a git revision, for `--base REF`. A ref is never read as an option of git's."""
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n"):
        raise InputError.at(f"{ref}:{path}", 0, 0, "--base takes a revision (a branch, tag or commit); "
                                                   "it may not start with '-'")
    import subprocess  # only here: the text and JSON formats import this module, and a check runs no git

    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path.parent or ".", capture_output=True,
                             text=True, check=True).stdout.strip()
        relative = path.resolve().relative_to(Path(top).resolve())
        return subprocess.run(["git", "show", "--end-of-options", f"{ref}:{relative.as_posix()}"], cwd=top, capture_output=True,
                              check=True).stdout
    except (subprocess.CalledProcessError, ValueError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        detail = detail.decode(errors="replace").strip() if isinstance(detail, bytes) else str(detail).strip()
        raise InputError.at(f"{ref}:{path}", 0, 0, f"cannot read the base version from git ({detail or exc})") from None


def summary(d: PlanDiff) -> str:
    errors = sum(1 for f in d.new_findings if f.status == "fail" and f.severity == "error")
    parts = []
    if d.added:
        parts.append(f"adds {counted(len(d.added), 'fund')} ({', '.join(printable(c.fund_id) for c in d.added)})")
    if d.removed:
        parts.append(f"removes {counted(len(d.removed), 'fund')} ({', '.join(printable(c.fund_id) for c in d.removed)})")
    if d.changed:
        parts.append(f"changes {counted(len(d.changed), 'fund')}")
    what = ", ".join(parts) or "changes no fund"
    waived = f", and waives {len(d.newly_waived)}" if d.newly_waived else ""
    return (f"This change {what}, introduces {counted(len(d.new_findings), 'new finding')} "
            f"({counted(errors, 'error')}) "
            f"and resolves {len(d.resolved)}{waived}.")
