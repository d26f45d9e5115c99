"""`compliance import --update PLAN`: a new quarter's line-up merged into a plan file the sponsor has worked on.

The plan file holds the committee's record (determinations, dates, reasons, comments), so it is edited in place,
never rewritten: only the values a line-up gives (SHEET_FIELDS) change, on their own lines; a fund the plan lacks
is appended to the menu; a fund the line-up no longer lists is kept and marked with a TODO comment (deleting it
would delete its record). Every other byte, comments and layout included, stays as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compliance.errors import InputError, Location, Problem
from compliance.lineup import SHEET_FIELDS, Fund, Lineup, fee_note, fund_lines, norm, unique_id, yaml_scalar
from compliance.loader import load_file
from compliance.text import show

REMOVED_MARK = "# TODO: not in the last line-up imported (compliance import --update); remove the fund if it left the menu"


@dataclass
class Merge:
    """The updated plan text, and what changed, each located for stderr."""

    text: str
    added: list[Problem] = field(default_factory=list)
    changed: list[Problem] = field(default_factory=list)
    removed: list[Problem] = field(default_factory=list)
    unchanged: int = 0
    new_funds: list[Fund] = field(default_factory=list)  # the funds added, for their facts to record


@dataclass
class _Edit:
    start: int
    end: int
    text: str


def update_plan(plan_path: Path, lineup: Lineup) -> Merge:
    doc = load_file(plan_path)  # the loader's limits and located errors first; then its nodes, for positions
    raw = doc.text.decode("utf-8")
    bom = "\ufeff" if raw.startswith("\ufeff") else ""
    text = raw[len(bom):]
    funds, items = _menu(doc, text)
    newline = "\r\n" if "\r\n" in text else "\n"
    edits: list[_Edit] = []
    merge = Merge("")
    matched = _match(lineup.funds, funds)
    default = doc.data.get("default_investment")
    designated = {str(f) for f in (default.get("funds") or [] if isinstance(default, dict) else [])}
    for index, (fund, node) in enumerate(zip(funds, items, strict=True)):
        sheet = matched.get(index)
        mark = _mark_before(text, node)
        if sheet is None:
            if mark is None:
                at = _line_start(text, node.start_mark.index)
                edits.append(_Edit(at, at, f"{_indent(text, node)}{REMOVED_MARK}{newline}"))
            merge.removed.append(Problem(doc.locate(("menu", index)), f"{fund.get('id')} ({fund.get('name')}) is "
                                         "not in the line-up: kept, marked with a TODO comment; remove it if it "
                                         "left the menu" + ("; it is part of the default" if fund.get("id") in
                                                            designated else "")))
            continue
        if mark is not None:  # back in the line-up
            edits.append(_Edit(mark, text.index("\n", mark) + 1, ""))
        changes = _update_fund(doc, text, index, fund, node, sheet, edits, newline)
        merge.changed += changes
        merge.unchanged += not changes
        if bool(sheet.values.get("default")) != (fund.get("id") in designated or bool(fund.get("qdia"))):
            said = "flags" if sheet.values.get("default") else "does not flag"
            merge.changed.append(Problem(doc.locate(("menu", index)), f"{fund.get('id')}: the line-up {said} it as "
                                         "the default; default_investment is left as recorded: change it if the "
                                         "default changed"))
    taken = {id(f) for f in matched.values()}
    added = [f for f in lineup.funds if id(f) not in taken]
    merge.new_funds = added
    if added:
        edits.append(_append(text, items[-1], newline, added, {str(f.get("id")) for f in funds}))
        merge.added = [Problem(Location(lineup.source, f.row, 1), f"added {f.values['id']}: {f.values['name']}"
                               + ("; the line-up flags it as the default: add it to default_investment if it is"
                                  if f.values.get("default") else "")) for f in added]
    merge.changed, merge.removed = _shifted(merge.changed, text, edits), _shifted(merge.removed, text, edits)
    for _, edit in sorted(enumerate(edits), key=lambda e: (e[1].start, e[0]), reverse=True):  # lines added at
        text = text[:edit.start] + edit.text + text[edit.end:]  # one place keep the order they were made in
    merge.text = bom + text
    return merge


def _shifted(problems: list[Problem], text: str, edits: list[_Edit]) -> list[Problem]:
    """Problems located in the plan as it was, moved to their lines in the plan as written."""
    starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
    out = []
    for problem in problems:
        at = starts[max(min(problem.location.line, len(starts)), 1) - 1]
        lines = sum(e.text.count("\n") - text.count("\n", e.start, e.end) for e in edits if e.start <= at)
        out.append(problem._replace(location=problem.location._replace(line=problem.location.line + lines)))
    return out


def _menu(doc: Any, text: str) -> tuple[list[dict[Any, Any]], list[yaml.MappingNode]]:
    """The plan's funds and their YAML nodes; --update needs a block-style menu of mappings."""
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("menu"), list) or not data["menu"]:
        raise InputError.at(doc.file, 1, 1, "--update needs a plan file with a menu of funds")
    root = yaml.compose(text, Loader=yaml.SafeLoader)  # nesting and aliases were bounded by load_file above
    menu = next((v for k, v in root.value if k.value == "menu"), None) if isinstance(root, yaml.MappingNode) else None
    items = menu.value if isinstance(menu, yaml.SequenceNode) and not menu.flow_style else []
    if len(items) != len(data["menu"]) or not all(isinstance(i, yaml.MappingNode) and not i.flow_style
                                                  and isinstance(f, dict) for i, f in zip(items, data["menu"], strict=False)):
        raise InputError(Problem(doc.locate(("menu",)), "--update edits the menu in place and needs it in block "
                                 "style, one `- id: ...` mapping per fund on its own lines (this one is not)"))
    return data["menu"], items


def _match(sheet: list[Fund], funds: list[dict[Any, Any]]) -> dict[int, Fund]:
    """Plan fund index -> line-up fund: by ticker, then id, then name; each matched at most once."""
    matched: dict[int, Fund] = {}
    keys: tuple[tuple[Callable[[dict[Any, Any]], str], Callable[[Fund], str]], ...] = (
        (lambda f: str(f.get("ticker") or "").upper(), lambda f: f.values.get("ticker", "")),  # by ticker,
        (lambda f: str(f.get("id")), lambda f: f.values["id"]),  # then id,
        (lambda f: norm(f.get("name") or ""), lambda f: norm(f.values["name"])))  # then name
    for of_plan, of_sheet in keys:
        index: dict[str, int] = {}
        for i, fund in enumerate(funds):
            if i not in matched and of_plan(fund):
                index.setdefault(of_plan(fund), i)
        taken = set(map(id, matched.values()))
        for candidate in sheet:
            found = index.pop(of_sheet(candidate), None) if of_sheet(candidate) and id(candidate) not in taken \
                else None
            if found is not None:
                matched[found] = candidate
    return matched


def _update_fund(doc: Any, text: str, index: int, fund: dict[Any, Any], node: yaml.MappingNode, sheet: Fund,
                 edits: list[_Edit], newline: str) -> list[Problem]:
    keys = {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    changes = []
    for key in SHEET_FIELDS:
        new = sheet.values.get(key)
        if new is None or key == "id" or _same(fund.get(key), new):
            continue
        where = doc.locate(("menu", index, key)) if key in fund else doc.locate(("menu", index))
        changes.append(Problem(where, f"{fund.get('id')}: {key} {_shown(fund.get(key))} -> {_shown(new)}"))
        value, note = yaml_scalar(key, new), fee_note(new)
        if key in keys:
            edits.append(_replace(doc, text, index, key, keys[key][1], node, value, note))
            continue
        # a value the plan lacks, or one merged from an anchor (`<<: *core`, which an explicit key overrides):
        # a line of its own after the fund's first plain value
        anchor = next(((k, v) for k, v in node.value if isinstance(v, yaml.ScalarNode)), None)
        if anchor is None:
            raise InputError(Problem(where, f"--update cannot add {key} to this fund (it has no plain value to "
                                     "put it after): add it by hand"))
        at = _after_line(text, max(anchor[1].end_mark.index - 1, anchor[1].start_mark.index))
        edits.append(_Edit(at, at, " " * anchor[0].start_mark.column + f"{key}: {value}{note}" + newline))
    return changes


def _replace(doc: Any, text: str, index: int, key: str, value: yaml.Node, node: yaml.MappingNode, new: str,
             note: str) -> _Edit:
    start, end = value.start_mark.index, value.end_mark.index
    if not isinstance(value, yaml.ScalarNode) or not node.start_mark.index <= start < node.end_mark.index:
        raise InputError(Problem(doc.locate(("menu", index, key)), f"--update cannot change {key} in place (it "
                                 "is not a plain value on this fund, e.g. an alias): change it by hand"))
    rest = text[end:_after_line(text, end)]
    if note and re.fullmatch(r"\s*#\s*[0-9.]+\s*%\s*", rest):  # our own "# 0.08%" beside a fee: keep it true
        return _Edit(start, end + len(rest.rstrip("\r\n")), new + note)
    return _Edit(start, end, new)


def _append(text: str, last: yaml.MappingNode, newline: str, added: list[Fund], ids: set[str]) -> _Edit:
    """The added funds' entries, after the last line of the menu's last fund, with its indentation."""
    end = max(n.end_mark.index for n in _scalars(last))
    at = _after_line(text, max(end - 1, 0))
    lines = []
    for fund in added:
        fund.values["id"] = unique_id(fund.values["name"], fund.values.get("ticker"), ids)
        lines += fund_lines(fund, _indent(text, last))
    lead = "" if at == 0 or text[at - 1] == "\n" else newline
    return _Edit(at, at, lead + newline.join(lines) + newline)


def _scalars(node: yaml.Node) -> list[yaml.Node]:
    found: list[yaml.Node] = []
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            found.append(current)
        elif isinstance(current, yaml.SequenceNode):
            stack += current.value
        elif isinstance(current, yaml.MappingNode):
            stack += [part for pair in current.value for part in pair]
    return found


def _mark_before(text: str, node: yaml.MappingNode) -> int | None:
    """Where the removed-fund TODO line sits above this fund, if it does."""
    start = _line_start(text, node.start_mark.index)
    above = _line_start(text, max(start - 1, 0))
    return above if start and text[above:start].strip() == REMOVED_MARK else None


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _after_line(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def _indent(text: str, node: yaml.MappingNode) -> str:
    """The indentation of a menu entry's `-`."""
    start = _line_start(text, node.start_mark.index)
    dash = text.rfind("-", start, node.start_mark.index)
    return " " * ((dash if dash >= 0 else node.start_mark.index) - start)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float) and isinstance(new, float):
        return abs(old - new) < 1e-12
    return bool(old == new)


def _shown(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else show(value)
