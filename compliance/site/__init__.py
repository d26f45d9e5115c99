"""`compliance report`: a static site for a book of plans, opened from file:// or any static host.

Every page is self-contained: its style sheet and its one script are inlined and allowed by their SHA-256 hashes
in a Content-Security-Policy meta tag, so nothing is fetched, nothing else runs, and no server is needed. Every
plan-supplied string goes through Jinja's autoescaping. Plan pages are written as each plan is checked, and only
a small row per plan is kept for the overview, so a book of any size is written in bounded memory. The same
inputs give the same bytes: no clock, no randomness, every list in a stated order.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from compliance import __version__
from compliance.errors import InputError, Problem
from compliance.impact import Book
from compliance.model import FAIL_LEVELS, STATUS_WORDS, Report, RuleSet
from compliance.site import charts

HERE = Path(__file__).parent
MARKER = ".compliance-site"  # names a folder this command wrote, which a later run may replace
COUNTED = ("error", "warning", "info", "watch", "waived", "to_record")


def _inline(name: str) -> tuple[str, str]:
    text = (HERE / "static" / name).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return text, f"'sha256-{digest}'"


CSS, CSS_HASH = _inline("site.css")
JS, JS_HASH = _inline("site.js")
CSP = (f"default-src 'none'; style-src {CSS_HASH}; script-src {JS_HASH}; img-src data:; base-uri 'none'; "
       f"form-action 'none'")


@dataclass(slots=True)
class PlanRow:
    """What the overview keeps of a plan: its page, counts, worst severity, rules with findings, completeness."""

    file: str
    name: str
    page: str
    recordkeeper: str
    counts: dict[str, int]
    worst: str
    rules: dict[str, str]  # rule id -> the worst state it has in this plan (a severity, or "to_record")
    decided: int
    applicable: int

    @property
    def completeness(self) -> int:
        """Percent of the checklist items that apply and that the recorded facts decide."""
        return round(100 * self.decided / self.applicable) if self.applicable else 100


@dataclass
class Site:
    out: Path
    ruleset: RuleSet
    as_of: date
    memos: dict[str, Path] = field(default_factory=dict)
    rows: list[PlanRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                               keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
        self.env.filters["word"] = lambda status: STATUS_WORDS.get(status, status)
        self.env.filters["safe_url"] = _safe_url
        self.common = {"css": CSS, "js": JS, "csp": CSP, "version": __version__, "as_of": self.as_of.isoformat()}

    def render(self, template: str, path: Path, **context: Any) -> None:
        """Write a page as Jinja produces it, piece by piece: the overview of a large book is never one string."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            out.writelines(self.env.get_template(template).generate(**self.common, **context))

    def add(self, report: Report) -> None:
        """Write one plan's page and keep its overview row."""
        page = self._page_name(report.plan_file)
        counts = report.counts()
        rules: dict[str, str] = {}
        for f in report.findings:
            state = "to_record" if f.status == "undetermined" else "waived" if f.status == "waived" else f.severity
            if f.rule_id not in rules or _state_rank(state) > _state_rank(rules[f.rule_id]):
                rules[f.rule_id] = state
        applicable = [o for o in report.outcomes if o.status != "not_applicable"]
        row = PlanRow(report.plan_file, report.plan_name, page, report.recordkeeper or "",
                      {k: counts[k] for k in COUNTED},
                      report.worst() or ("watch" if counts["watch"] else "none"), rules,
                      sum(1 for o in applicable if o.status != "undetermined"), len(applicable))
        memo = self.memos.get(report.plan_file)
        memo_href = os.path.relpath(memo, (self.out / page).parent).replace(os.sep, "/") if memo else None
        self.render("plan.html.j2", self.out / page, plan=row, report=report, memo=memo_href, root="../",
                    facts=list(report.facts_to_record().values()), findings=_ordered(report))
        self.rows.append(row)

    def _page_name(self, plan_file: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(plan_file).stem).strip("-.")[:60] or "plan"
        digest = hashlib.sha256(plan_file.encode("utf-8", "surrogateescape")).hexdigest()[:10]
        return f"plans/{stem}-{digest}.html"

    def finish(self, book: Book | None) -> None:
        rows = sorted(self.rows, key=lambda r: (-_state_rank(r.worst), -r.counts["error"], -r.counts["warning"],
                                                -r.counts["to_record"], r.file))
        totals = {k: sum(r.counts[k] for r in rows) for k in COUNTED}
        rules = sorted({rule for r in rows for rule in r.rules})
        keepers = sorted({r.recordkeeper for r in rows if r.recordkeeper})
        svg = {"bars": charts.findings_by_rule(rows), "matrix": charts.matrix(rows),
               "completeness": charts.completeness(rows), "timeline": charts.timeline(self.ruleset, self.as_of)}
        self.render("index.html.j2", self.out / "index.html", rows=rows, totals=totals, rules=rules,
                    keepers=keepers, svg=svg, packs=self.ruleset.packs, problems=self.problems,
                    impact=book is not None, notice=self.ruleset.currency_notice(self.as_of), root="")
        if book is not None:
            from compliance.impact import groups
            from compliance.report.impact import compared, headline

            pages = {r.file: r.page for r in rows}
            self.render("impact.html.j2", self.out / "impact.html", book=book, groups=groups, pages=pages,
                        compared=compared(book), headline=headline(book), root="")
        (self.out / MARKER).write_text("written by compliance report; a later run replaces this folder\n")


def _ordered(report: Report) -> list[Any]:
    order = {"fail": 0, "undetermined": 1, "watch": 2, "waived": 3}
    return sorted(report.findings, key=lambda f: (order[f.status], -f.severity.rank, f.rule_id,
                                                  f.fund_id or ""))


_STATES = ("none", "waived", "to_record", "watch", *FAIL_LEVELS)


def _state_rank(state: str) -> int:
    return _STATES.index(state)


def _safe_url(url: str) -> str:
    """A source's address as a link only when it is plain http(s); anything else is not linked."""
    return url if re.fullmatch(r"https?://[^\s\"'<>]+", url or "") else ""


def write_site(out: Path, results: Iterable[Report | InputError], ruleset: RuleSet, as_of: date,
               memos: dict[str, Path], book: Book | None, each: Callable[[], object] = lambda: None) -> Site:
    """Write each plan's page as its check result arrives (`batch.check_many`, in this process or in workers),
    into a new folder beside `out`, then the overview, then put the folder in place of `out`."""
    _refuse_foreign(out)
    staging = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    site = Site(staging, ruleset, as_of, memos)
    try:
        for item in results:
            each()
            if isinstance(item, InputError):
                site.problems += item.problems
            else:
                site.add(item)
        site.finish(book)
        _swap(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    site.out = out
    return site


def _refuse_foreign(out: Path) -> None:
    """Never replace a folder this command did not write (it may be the user's work)."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise InputError.at(str(out), 0, 0, "cannot write the site here: it exists and was not written by "
                                            "compliance report; name a new or empty folder")


def _swap(staging: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
