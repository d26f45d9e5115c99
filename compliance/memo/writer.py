"""Writes memos: one plan to one file, atomically; many plans in parallel, one process per core."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

from compliance import api
from compliance.atomic import write_atomic
from compliance.canonical import document
from compliance.errors import InputError
from compliance.memo.context import MemoOptions, build_context
from compliance.memo.html import render_html
from compliance.model import PlanReport, RuleSet
from compliance.rulesets import worker_pool


def memo_bytes(report: PlanReport, options: MemoOptions, fmt: str = "pdf", template_dir: Path | None = None) -> bytes:
    since = None
    if options.since:
        from compliance.memo.since import since_section

        since = since_section(report, options.since, report.ruleset)
    context = build_context(report, options, since)
    if fmt == "pdf":  # a browser reading the HTML has its own fonts; the PDF has only the machine's
        from compliance.memo.glyphs import glyph_notice

        context["glyph_notice"] = glyph_notice(report.plan_text.decode("utf-8-sig"))
    html = render_html(context, template_dir, for_pdf=fmt == "pdf")
    if fmt == "html":
        return html.encode("utf-8")
    from compliance.memo.pdf import render_pdf

    attachments = {"plan.yaml": report.plan_text.decode("utf-8-sig"),
                   "findings.json": json.dumps(document([report]), indent=2)}
    return render_pdf(html, report.as_of, attachments)


def write_memo(plan: str | Path, output: Path, ruleset: RuleSet, as_of: date, options: MemoOptions,
               fmt: str = "pdf", template_dir: Path | None = None) -> Path:
    """Check one plan and write its memo; the target is replaced only once the whole file is ready."""
    write_atomic(output, memo_for(plan, ruleset, as_of, options, fmt, template_dir))
    return output


def memo_for(plan: str | Path, ruleset: RuleSet, as_of: date, options: MemoOptions, fmt: str = "pdf",
             template_dir: Path | None = None) -> bytes:
    """Check one plan and lay out its memo."""
    return memo_bytes(api.check(plan, ruleset, as_of), options, fmt, template_dir)


def write_memos(jobs: Sequence[tuple[str | Path, Path]], ruleset: RuleSet, as_of: date, options: MemoOptions,
                fmt: str, template_dir: Path | None, workers: int
                ) -> Iterator[tuple[str | Path, Path, InputError | None]]:
    """Yields (plan, output, error) in order as memos finish; an InputError stays with its plan."""
    args = (ruleset, as_of, options, fmt, template_dir)
    if workers <= 1 or len(jobs) <= 1:
        for plan, output in jobs:
            yield _memo_or_error(plan, output, *args)
        return
    with worker_pool([ruleset], workers) as pool:
        yield from pool.map(_memo_or_error, *zip(*[(plan, output, *args) for plan, output in jobs], strict=True))


def _memo_or_error(plan: str | Path, output: Path, ruleset: RuleSet, as_of: date, options: MemoOptions, fmt: str,
                   template_dir: Path | None) -> tuple[str | Path, Path, InputError | None]:
    try:
        return plan, write_memo(plan, output, ruleset, as_of, options, fmt, template_dir), None
    except InputError as exc:
        return plan, output, exc
