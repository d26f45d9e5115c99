"""`compliance impact` output: text for people, JSON (docs/json-format.md, "Impact"), Markdown for a PR comment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compliance import __version__
from compliance.canonical import FORMAT_VERSION, problem_dict
from compliance.impact import Book, Move, PlanImpact, groups
from compliance.model import STATUS_WORDS, Finding
from compliance.text import code, counted, json_text, lead, lead_path, markdown, printable


def render(book: Book, fmt: str) -> str:
    return _RENDERERS[fmt](book)


def _state(f: Finding | None) -> str:
    if f is None:
        return "none"
    return f.severity if f.status in ("fail", "watch") else f"{f.severity} ({STATUS_WORDS[f.status]})"


def compared(book: Book) -> str:
    """What is compared with what, in one sentence."""
    s = book.sides
    if s.scenario is not None:
        return (f"Compared on {s.after_as_of.isoformat()}: the law as the packs record it, and under scenario "
                f"{s.scenario.id} ({s.scenario.file}).")
    return (f"Compared: the law as the packs record it on {s.before_as_of.isoformat()}, and on "
            f"{s.after_as_of.isoformat()}.")


def headline(book: Book) -> str:
    t = book.totals()
    affected = len(book.affected)
    return (f"{affected} of {counted(len(book.plans), 'plan')} affected, {len(book.plans) - affected} unaffected: "
            f"findings: {_verb(t['appears'], 'appear')}, {_verb(t['changes'], 'change')}, "
            f"{_verb(t['resolves'], 'resolve')}; new: "
            f"{counted(t['new_error'], 'error')}, {counted(t['new_warning'], 'warning')}, {t['new_info']} info; "
            f"{counted(t['facts_to_record'], 'fact')} to record.")


def _verb(n: int, verb: str) -> str:
    """`1 appears`, `3 appear`."""
    return f"{n} {verb}s" if n == 1 else f"{n} {verb}"


def _line(move: Move, options: list[str]) -> str:
    f = move.finding
    change = (_state(move.after) if move.shift == "appears" else _state(move.before) if move.shift == "resolves"
              else f"{_state(move.before)} -> {_state(move.after)}")
    who = "the plan" if options == ["the plan"] else f"option{'s' if len(options) > 1 else ''} {', '.join(options)}"
    return f"{move.shift} {change} {f.rule_id} ({who}): {f.headline or f.title}"


def text(book: Book) -> str:
    out = []
    if book.sides.scenario is not None:
        sc = book.sides.scenario
        out += [f"Impact: {printable(sc.title)}", f"Hypothetical: {printable(sc.hypothetical)}"]
    out += [compared(book), "", headline(book)]
    for plan in book.affected:
        out += ["", f"{lead_path(plan.plan_file)} ({printable(plan.plan_name)}): " + _shift_counts(plan)]
        out += [f"  {printable(_line(move, options))}" for move, options in groups(plan)]
        for fact, rules in plan.facts().values():
            out.append(f"  record {printable(fact.path)}: {printable(fact.label)} ({', '.join(rules)})")
    if book.rules:
        out += ["", "By rule:"]
        for t in book.tallies():
            shifts = ", ".join(f"{n} {s}" for s, n in t.shifts.items() if n)
            out.append(f"  {t.rule_id}: {counted(len(t.plans), 'plan')}, {counted(len(t.options), 'option')} "
                       f"({shifts}): {printable(t.title)}")
    unaffected = [p for p in book.plans if not p.affected]
    if unaffected:
        out += ["", f"Unaffected ({len(unaffected)}):"] + [f"  {lead_path(p.plan_file)}" for p in unaffected[:50]]
        if len(unaffected) > 50:
            out.append(f"  ... and {len(unaffected) - 50} more")
    out += [lead(str(p)) for p in book.problems]
    return "\n".join(out) + "\n"


def _shift_counts(plan: PlanImpact) -> str:
    """`3 appear, 1 changes`."""
    counts = {s: sum(1 for m in plan.moves if m.shift == s + "s") for s in ("appear", "change", "resolve")}
    return ", ".join(_verb(n, s) for s, n in counts.items() if n)


def document(book: Book) -> dict[str, Any]:
    s = book.sides
    scenario = None
    if s.scenario is not None:
        sc = s.scenario
        scenario = {"id": sc.id, "title": sc.title, "hypothetical": sc.hypothetical, "basis": sc.basis,
                    "file": sc.file, "sha256": sc.sha256,
                    "changes": [{"source": c.source, "status": c.change.status, "since": c.change.since.isoformat(),
                                 "kind": c.change.new_kind, "note": c.change.note} for c in sc.changes]}
    return {
        "format_version": FORMAT_VERSION,
        "kind": "impact",
        "tool": {"name": "plan-compliance", "version": __version__},
        "packs": [{"id": p.id, "version": p.version, "file": p.file, "sha256": p.sha256} for p in s.before.packs],
        "before": {"as_of": s.before_as_of.isoformat()},
        "after": {"as_of": s.after_as_of.isoformat(), "scenario": scenario},
        "summary": {"plans": len(book.plans), "affected": len(book.affected),
                    "unaffected": len(book.plans) - len(book.affected), **book.totals()},
        "plans": [_plan(p) for p in book.plans],
        "rules": [{"rule": t.rule_id, "headline": t.title, "plans": len(t.plans), "options": len(t.options), **t.shifts}
                  for t in book.tallies()],
        "input_errors": [problem_dict(p) for p in book.problems],
    }


def _plan(p: PlanImpact) -> dict[str, Any]:
    return {
        "file": p.plan_file, "plan": p.plan_name, "recordkeeper": p.recordkeeper, "affected": p.affected,
        "worst": p.worst(), "counts": {"before": p.before, "after": p.after},
        "changes": [_move(m) for m in p.moves],
        "facts_to_record": [{"path": f.path, "field": f.field, "label": f.label, "fund": f.fund_id, "rules": rules}
                            for f, rules in p.facts().values()],
    }


def _move(m: Move) -> dict[str, Any]:
    f = m.finding
    return {"change": m.shift, "rule": f.rule_id, "fund": f.fund_id, "headline": f.headline or f.title,
            "before": {"severity": m.before.severity, "status": m.before.status} if m.before else None,
            "after": {"severity": m.after.severity, "status": m.after.status, "message": m.after.message}
            if m.after else None,
            "line": f.location.line,
            "citations": [{"source": c.source.id, "pinpoint": c.pinpoint, "url": c.source.url} for c in f.citations]}


def markdown_text(book: Book) -> str:
    lines = []
    if book.sides.scenario is not None:
        sc = book.sides.scenario
        lines += [f"## Impact: {markdown(sc.title)}", "", f"> **Hypothetical.** {markdown(sc.hypothetical)}", ""]
    else:
        lines += ["## Impact of a change of date", ""]
    lines += [markdown(compared(book)), "", markdown(headline(book))]
    if book.affected:
        lines += ["", "| plan | change | was | becomes | rule | options | item |", "|---|---|---|---|---|---|---|"]
        for plan in book.affected:
            for move, options in groups(plan):
                f = move.finding
                lines.append(f"| {markdown(plan.plan_name)} ({code(plan.plan_file)}) | {move.shift} | "
                             f"{_state(move.before)} | {_state(move.after)} | {code(f.rule_id)} | "
                             f"{markdown(', '.join(options))} | {markdown(f.headline or f.title)} |")
    if book.rules:
        lines += ["", "### By rule", "", "| rule | plans | options | appear | change | resolve |",
                  "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {code(t.rule_id)} | {len(t.plans)} | {len(t.options)} | {t.shifts['appears']} | "
                  f"{t.shifts['changes']} | {t.shifts['resolves']} |" for t in book.tallies()]
    facts = [(plan, fact, rules) for plan in book.affected for fact, rules in plan.facts().values()]
    if facts:
        lines += ["", "### Facts to record", "", "| plan | where | fact | rules |", "|---|---|---|---|"]
        lines += [f"| {code(p.plan_file)} | {code(fact.path)} | {markdown(fact.label)} | {code(', '.join(rules))} |"
                  for p, fact, rules in facts]
    if book.problems:
        lines += ["", "### Input errors (exit 2)", "", "| file | message |", "|---|---|"]
        lines += [f"| {code(f'{p.location.file}:{p.location.line}')} | {markdown(p.message)} |" for p in book.problems]
    return "\n".join(lines) + "\n"


_RENDERERS: dict[str, Callable[[Book], str]] = {"text": text, "json": lambda b: json_text(document(b)),
                                                "markdown": markdown_text}
IMPACT_FORMATS = tuple(_RENDERERS)  # `compliance impact --format` offers these
