"""Inline SVG charts for the site, drawn here: no charting library, nothing fetched when the page is viewed.

Each chart is a `role="img"` figure with a title and a description, every mark has a `<title>` that says what
it stands for, and each colour is also named in a legend and in text, so colour is never the only cue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from compliance.model import BINDING, ENDED, PENDING, RuleSet

if TYPE_CHECKING:
    from compliance.site import PlanRow

# Each at least 4.5:1 against white, so marks and their labels read (WCAG 1.4.11 and 1.4.3).
COLOURS = {"error": "#b00020", "warning": "#8a4b00", "info": "#1f5fa8", "watch": "#595959", "to_record": "#6a3d9a",
           "waived": "#2e6b30"}
STATES = ("error", "warning", "info", "watch", "to_record", "waived")
WORDS = {"to_record": "to record"}
LIMIT = 40  # plans a chart draws one by one; the overview table lists every plan


def _svg(width: int, height: int, title: str, desc: str, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}"><title>{escape(title)}</title><desc>{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _legend(x: int, y: int, states: Sequence[str] = STATES) -> list[str]:
    out = []
    for i, state in enumerate(states):
        out.append(f'<rect x="{x + i * 90}" y="{y}" width="12" height="12" fill="{COLOURS[state]}"/>'
                   f'<text x="{x + i * 90 + 16}" y="{y + 11}" class="small">{WORDS.get(state, state)}</text>')
    return out


def findings_by_rule(rows: Sequence[PlanRow]) -> Markup:
    """For each rule, the plans where it has a finding, split by the finding's worst state."""
    tally: dict[str, dict[str, int]] = {}
    for row in rows:
        for rule, state in row.rules.items():
            counts = tally.setdefault(rule, dict.fromkeys(STATES, 0))
            counts[state] += 1
    ranked = sorted(tally.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:25]
    most = max((sum(c.values()) for _, c in ranked), default=1)
    width, left, bar = 900, 330, 520
    body = _legend(left, 4)
    for i, (rule, counts) in enumerate(ranked):
        y, x = 28 + i * 20, left
        body.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end" class="small">{escape(rule)}</text>')
        for state in STATES:
            if counts[state]:
                w = max(1, round(bar * counts[state] / most))
                body.append(f'<rect x="{x}" y="{y}" width="{w}" height="15" fill="{COLOURS[state]}"><title>'
                            f'{escape(rule)}: {counts[state]} plan(s), {WORDS.get(state, state)}</title></rect>')
                x += w
        body.append(f'<text x="{x + 4}" y="{y + 12}" class="small">{sum(counts.values())}</text>')
    height = 36 + 20 * max(len(ranked), 1)
    if not ranked:
        body.append(f'<text x="{left}" y="40">No rule has a finding in this book.</text>')
    return _svg(width, height, "Findings by rule",
                f"Plans with a finding of each rule, the {len(ranked)} most frequent rules, split by worst state.", body)


def matrix(rows: Sequence[PlanRow]) -> Markup:
    """Rules down, plans across (the overview's first plans, worst first): where each rule has a finding."""
    plans = list(rows[:LIMIT])
    counts = Counter(rule for row in plans for rule in row.rules)
    rules = sorted(counts, key=lambda r: (-counts[r], r))[:30]
    left, cell = 330, 16
    width = max(left + cell * len(plans) + 20, 900)
    body = _legend(left, 4)
    for j, row in enumerate(plans):
        body.append(f'<text x="{left + j * cell + cell // 2}" y="40" text-anchor="middle" class="small">{j + 1}'
                    f'<title>{j + 1}: {escape(row.name)}</title></text>')
    for i, rule in enumerate(rules):
        y = 48 + i * cell
        body.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end" class="small">{escape(rule)}</text>')
        for j, row in enumerate(plans):
            state = row.rules.get(rule)
            fill = COLOURS[state] if state else "#f2f2f2"
            what = WORDS.get(state, state) if state else "no finding"
            body.append(f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}">'
                        f'<title>{escape(row.name)} / {escape(rule)}: {what}</title></rect>')
    height = 60 + cell * max(len(rules), 1)
    return _svg(width, height, "Rules by plan",
                f"Which of {len(rules)} rules have a finding in each of the first {len(plans)} plans of the overview "
                f"(numbered as in its table); a rule found everywhere is a book-wide problem, one found once is one "
                f"plan's.", body)


def completeness(rows: Sequence[PlanRow]) -> Markup:
    """The share of each plan's applicable checklist that its recorded facts decide, least complete first."""
    plans = sorted(rows, key=lambda r: (r.completeness, r.file))[:LIMIT]
    left, bar = 330, 480
    body = []
    for i, row in enumerate(plans):
        y = 8 + i * 18
        w = round(bar * row.completeness / 100)
        body.append(f'<text x="{left - 6}" y="{y + 11}" text-anchor="end" class="small">{escape(row.name[:48])}</text>'
                    f'<rect x="{left}" y="{y}" width="{bar}" height="13" fill="#f2f2f2"/>'
                    f'<rect x="{left}" y="{y}" width="{w}" height="13" fill="#1f5fa8"><title>{escape(row.name)}: '
                    f'{row.decided} of {row.applicable} applicable checks decided</title></rect>'
                    f'<text x="{left + bar + 6}" y="{y + 11}" class="small">{row.completeness}%</text>')
    return _svg(900, 16 + 18 * max(len(plans), 1), "Record completeness",
                f"For the {len(plans)} least complete plans: the percent of applicable checks the recorded facts "
                f"decide (the rest wait on facts to record).", body)


def timeline(ruleset: RuleSet, as_of: date) -> Markup:
    """Each source's status over time (in effect, pending, ended), with the as-of date marked."""
    sources = sorted(ruleset.sources.values(), key=lambda s: (s.dated, s.id))
    start = date(min((s.dated.year for s in sources), default=as_of.year), 1, 1)
    last = max([as_of, *(h.since for s in sources for h in s.history)])
    end = date(last.year + 2, 1, 1)
    left, span = 250, 620
    colours = {BINDING: "#2e6b30", PENDING: "#8a4b00", ENDED: "#767676"}
    words = {BINDING: "in effect", PENDING: "pending", ENDED: "ended"}

    def x(day: date) -> float:
        return round(left + span * (day - start).days / (end - start).days, 1)

    body = []
    for i, (kind, colour) in enumerate(colours.items()):
        body.append(f'<rect x="{left + i * 120}" y="4" width="12" height="12" fill="{colour}"/>'
                    f'<text x="{left + i * 120 + 16}" y="15" class="small">{words[kind]}</text>')
    for year in range(start.year, end.year + 1, 5):
        body.append(f'<text x="{x(date(year, 1, 1))}" y="34" text-anchor="middle" class="small">{year}</text>')
    for i, source in enumerate(sources):
        y = 42 + i * 16
        body.append(f'<text x="{left - 6}" y="{y + 10}" text-anchor="end" class="small">{escape(source.id)}</text>')
        for j, change in enumerate(source.history):
            until = source.history[j + 1].since if j + 1 < len(source.history) else end
            body.append(f'<rect x="{x(change.since)}" y="{y}" width="{max(1.0, round(x(until) - x(change.since), 1))}" '
                        f'height="11" fill="{colours[change.kind]}"><title>{escape(source.id)}: '
                        f'{escape(change.describe())}</title></rect>')
    height = 50 + 16 * len(sources)
    body.append(f'<line x1="{x(as_of)}" y1="22" x2="{x(as_of)}" y2="{height - 4}" stroke="#000" stroke-width="2"/>'
                f'<text x="{x(as_of) + 4}" y="26" class="small">as of {as_of.isoformat()}</text>')
    return _svg(900, height, "Posture timeline",
                f"The status of each of {len(sources)} sources over time; the line marks the as-of date "
                f"{as_of.isoformat()}.", body)
