"""Compiling one pack rule: its citations resolved, its conditions compiled, its severity held to the doctrine."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from compliance.conditions import Context, always, compile_condition, field_paths
from compliance.model import CHECKS_CEILING, Checks, Citation, Rule, RuleTest, Severity, Source
from compliance.text import placeholders


def compile_rule(ctx: Context, i: int, raw: dict[Any, Any], sources: dict[str, Source],
                  disabled: str | None) -> Rule:
    doc = ctx.doc
    at = ("rules", i)
    if "select" in raw and not ctx.fund_scope:
        raise ctx.error(at + ("select",), "select chooses funds, so it needs scope: fund")
    citations = []
    for j, c in enumerate(raw["citations"]):
        if c["source"] not in sources:
            raise ctx.error(at + ("citations", j, "source"),
                            f"cites {c['source']!r}, which is not a source of this pack or of a pack it extends")
        citations.append(Citation(sources[c["source"]], c["pinpoint"]))
    basis_ids = raw.get("basis") or list(dict.fromkeys(c["source"] for c in raw["citations"]))
    for j, sid in enumerate(basis_ids):
        if sid not in sources:
            raise ctx.error(at + ("basis", j), f"{sid!r} is not a source of this pack or of a pack it extends")
    window = raw.get("effective") or {}
    if window.get("from") and window.get("until") and window["until"] <= window["from"]:
        raise ctx.error(at + ("effective",), "effective.until must be after effective.from")
    basis = tuple(sources[s] for s in basis_ids)
    checks = _check_doctrine(ctx, at, raw, tuple(c.source for c in citations), basis)
    anchor = raw.get("at")
    if anchor is not None:
        compile_condition({"field": anchor, "exists": True}, at + ("at",), ctx)
    _check_message_fields(raw["message"], at + ("message",), ctx)
    test_as_of = doc.data["pack"].get("test_as_of")  # none: the case must name its date (never today's)
    tests = tuple(RuleTest(t["name"], t["expect"], t.get("as_of") or test_as_of, t.get("plan") or {},
                           tuple(t.get("funds") or ()), doc.locate(at + ("tests", k)))
                  for k, t in enumerate(raw.get("tests") or []))
    return Rule(
        id=raw["id"], title=raw["title"], severity=Severity(raw["severity"]), scope=raw["scope"],
        message=raw["message"].strip(), remediation=raw["remediation"].strip(), citations=tuple(citations),
        basis=basis, effective_from=window.get("from"),
        effective_until=window.get("until"), pack_id=doc.data["pack"]["id"], location=doc.locate(at),
        select=compile_condition(raw["select"], at + ("select",), ctx) if "select" in raw else always,
        when=compile_condition(raw["when"], at + ("when",), ctx) if "when" in raw else always,
        require=compile_condition(raw["require"], at + ("require",), replace(ctx, in_require=True)),
        anchor=tuple(anchor.split(".")) if anchor else None,
        description=(raw.get("description") or "").strip(), tests=tests,
        disabled_reason=disabled,
        headline=(raw.get("headline") or "").strip(), checks=checks, relies_on=(raw.get("relies_on") or "").strip(),
        reads=field_paths([raw.get("select"), raw.get("when"), raw["require"]]),
        require_reads=field_paths(raw["require"]),
    )


def _check_doctrine(ctx: Context, at: tuple[Any, ...], raw: dict[Any, Any], cited: tuple[Source, ...],
                    basis: tuple[Source, ...]
                    ) -> Checks:
    """Severity follows the weight of the source: refuse a rule heavier than what it checks and rests on allow.

    A federal pack's rule declares what it checks; its severity may not exceed that declaration's ceiling
    (an express condition: error; a prudence process: warning; a practice: info), nor the strongest ceiling
    of the documents it rests on (a statute or regulation: error; guidance or a decided case: warning; a
    proposal, a bill, an executive order or a pending case: watch). A sponsor's policy pack may be stricter,
    but then its rules rest on the sponsor's own policy, never on a statute. Returns what the rule checks.
    """
    authority = ctx.doc.data["pack"].get("authority", "federal")
    severity = Severity(raw["severity"])
    if authority == "sponsor_policy":
        checks: Checks = raw.get("checks", "sponsor_policy")
        others = [s.id for s in cited if s.kind != "policy"]
        if checks == "sponsor_policy" and others:
            raise ctx.error(at + ("citations",), f"a sponsor-policy rule cites the sponsor's own policy as its basis, "
                                                 f"never {', '.join(others)}; cite a source of kind policy (the "
                                                 f"investment policy statement), or declare what the rule checks "
                                                 f"(checks:) and keep within the federal ceilings")
        if checks == "sponsor_policy":
            return checks
    else:
        if "checks" not in raw:
            raise ctx.error(at, "a federal rule declares what it checks: checks: express_condition, "
                                "prudence_process or practice")
        checks = raw["checks"]
        if checks == "sponsor_policy":
            raise ctx.error(at + ("checks",), "sponsor_policy belongs in a pack with authority: sponsor_policy")
        if not raw.get("headline"):
            raise ctx.error(at, "a federal rule needs a headline: the problem in a few words")
        if any(s.kind == "policy" for s in basis):
            raise ctx.error(at + ("citations",), "a federal rule cannot rest on a sponsor's policy")
    ceiling = CHECKS_CEILING[checks]
    if severity > ceiling:
        raise ctx.error(at + ("severity",), f"{severity} is above the ceiling for a rule that checks a "
                                            f"{checks.replace('_', ' ')} ({ceiling}); see 'Severity follows the "
                                            f"weight of the source' in docs/rule-packs.md")
    strongest = max(s.ceiling() for s in basis)
    if severity > strongest:
        kinds = ", ".join(f"{s.id} ({s.kind if s.ceiling() != 'watch' or s.kind != 'case' else 'pending case'})"
                          for s in basis)
        raise ctx.error(at + ("severity",), f"{severity} is above what its sources can support ({strongest}): "
                                            f"it rests on {kinds}")
    if severity == "error" and not raw.get("relies_on"):
        raise ctx.error(at, "an error-level rule states what reliance gates it (relies_on: e.g. 'QDIA relief "
                            "claimed'): an express condition is an error only where the plan relies on it")
    return checks


def _check_message_fields(message: str, at: tuple[Any, ...], ctx: Context) -> None:
    for name in placeholders(message):
        if not name.startswith("param."):
            compile_condition({"field": name, "exists": True}, at, ctx)
        elif name[len("param."):] not in ctx.parameters:
            raise ctx.error(at, f"message names unknown parameter {name!r}")
