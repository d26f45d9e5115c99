"""Recordkeeper line-ups (CSV or Excel) turned into a plan file a sponsor completes and checks.

Nobody types a 30-fund menu into YAML: sponsors get it from the recordkeeper as a spreadsheet. This reads the
sheet, maps its columns (a default set of common headers, or the sponsor's own `--map`), understands fees
written as fractions, percent strings, percent-formatted cells or basis points, and maps fund categories to the
plan format's asset classes. What the sheet does not say is never guessed: it is written as a commented
placeholder naming what to fill in, and listed on stderr.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.errors import InputError, Location, Problem
from compliance.loader import MAX_FILE_BYTES, read_file
from compliance.schemas.messages import did_you_mean
from compliance.schemas.plan import ASSET_CLASSES, VEHICLES
from compliance.text import printable

# our field -> headers recordkeepers commonly use for it (compared without case, spaces or punctuation)
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("fund name", "investment name", "investment option", "investment", "fund", "name", "option name"),
    "ticker": ("ticker", "symbol", "ticker symbol"),
    "cusip": ("cusip",),
    "share_class": ("share class", "class"),
    "category": ("category", "asset class", "morningstar category", "asset category", "investment category"),
    "expense_ratio": ("expense ratio", "net expense ratio", "total annual operating expense", "expense ratio net",
                      "net expense", "er", "total expense ratio", "exp ratio", "net exp ratio", "expense ratio %",
                      "net expense ratio %", "exp ratio %", "fund expense"),
    "vehicle": ("vehicle", "investment type", "fund type"),
    "revenue_sharing": ("revenue sharing", "revenue share"),
    "default": ("default", "qdia", "default fund", "default investment"),
    "benchmark": ("benchmark", "index", "benchmark index"),
}
FIELDS = tuple(DEFAULT_COLUMNS)

CATEGORIES = Path(__file__).parent / "lineup_categories.yaml"  # category names -> asset classes (data)
TRUE_WORDS = {"yes", "y", "x", "true", "1", "default", "qdia", "d"}
MAX_ROWS = 20_000  # a line-up has tens of funds; a sheet of millions of rows (or a zip bomb) is refused


@dataclass
class Fund:
    """One line-up row as plan-format values; `todo` holds what the sponsor must still fill in, and why."""

    values: dict[str, Any]
    todo: dict[str, str] = field(default_factory=dict)
    row: int = 0


@dataclass
class Lineup:
    funds: list[Fund]
    source: str


def _norm(text: Any) -> str:
    return re.sub(r"[^a-z0-9%]+", " ", str(text).lower()).strip()


def read_rows(path: Path, name: str) -> list[list[Any]]:
    """The sheet's rows as values: the first worksheet of an .xlsx, or a CSV in any common dialect.

    A percent-formatted Excel cell is returned as the text "N%" of its shown value, so it reads as a percent.
    """
    raw = read_file(path, name, MAX_FILE_BYTES)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            import openpyxl
        except ImportError:  # pragma: no cover - a declared dependency
            raise InputError.at(name, 0, 0, "reading .xlsx needs openpyxl (pip install openpyxl)") from None
        try:
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise InputError.at(name, 0, 0, f"not a readable .xlsx workbook ({type(exc).__name__})") from None
        sheet = book.worksheets[0]
        rows = []
        for number, cells in enumerate(sheet.iter_rows(max_col=50), start=1):
            if number > MAX_ROWS:
                raise InputError.at(name, number, 1, f"more than {MAX_ROWS:,} rows; a line-up is refused past that")
            row = []
            for cell in cells:
                value = cell.value
                if isinstance(value, (int, float)) and "%" in str(cell.number_format or ""):
                    value = f"{value * 100:.6g}%"
                row.append(value)
            rows.append(row)
        return rows
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # spreadsheets saved as "CSV" on Windows
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = []
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        for number, row in enumerate(reader, start=1):
            if number > MAX_ROWS:
                raise InputError.at(name, number, 1, f"more than {MAX_ROWS:,} rows; a line-up is refused past that")
            rows.append(row[:50])
    except csv.Error as exc:
        raise InputError.at(name, reader.line_num, 1, f"not a readable CSV line: {exc}") from None
    return rows


def find_columns(header: list[Any], mapping: dict[str, str] | None, name: str) -> dict[str, int]:
    """Our field -> column index, from the sponsor's map or the default header names; the name is required."""
    normalised = [_norm(h) for h in header]
    columns: dict[str, int] = {}
    if mapping:
        for fld, heading in mapping.items():
            if fld not in FIELDS:
                raise InputError.at(name, 0, 0, f"--map names {fld!r}, which is not a line-up field "
                                                f"({', '.join(FIELDS)}){did_you_mean(fld, FIELDS)}")
            if _norm(heading) not in normalised:
                raise InputError.at(name, 1, 1, f"--map: no column {heading!r} in the header "
                                                f"({', '.join(str(h) for h in header)})")
            columns[fld] = normalised.index(_norm(heading))
    for fld, aliases in DEFAULT_COLUMNS.items():
        if fld in columns:
            continue
        found = next((normalised.index(a) for a in aliases if a in normalised), None)
        if found is None:  # a header such as "Net Expense Ratio (as of 6/30)": the longest alias it starts with
            found = next((i for a in sorted(aliases, key=len, reverse=True) if len(a) > 3
                          for i, h in enumerate(normalised) if h.startswith(a + " ")), None)
        if found is not None and found not in columns.values():
            columns[fld] = found
    if "name" not in columns:
        raise InputError.at(name, 1, 1, "no fund-name column found (looked for "
                                        f"{', '.join(repr(a) for a in DEFAULT_COLUMNS['name'])}); name it with --map")
    return columns


def parse_fee(value: Any, numbers: str | None) -> tuple[float | None, str | None]:
    """A fee as a fraction (0.0045), or None with the reason it could not be read without guessing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "not given in the line-up"
    text = str(value).strip().lower().replace(",", "")
    match = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*(%|bps?|basis points?)?", text)
    if not match:
        return None, f"{value!r} is not a number, a percent or basis points"
    number, unit = float(match.group(1)), match.group(2)
    if unit == "%":
        return number / 100, None
    if unit:
        return number / 10_000, None
    if numbers == "percent":
        return number / 100, None
    if numbers == "fraction":
        return number, None
    return None, (f"{value!r} could be a fraction ({number:g}) or a percent ({number:g}%); say which with "
                  f"--numbers fraction or --numbers percent")


def asset_class(category: Any) -> tuple[str | None, str | None]:
    """The plan-format asset class for a line-up category, or None with what the sponsor should check."""
    if category is None or not str(category).strip():
        return None, "no category in the line-up"
    text = _norm(category).replace(" ", "_")
    if text in ASSET_CLASSES:
        return text, None
    spaced = _norm(category)
    for pattern, cls in _category_patterns():
        if re.search(pattern, spaced):
            return cls, None
    return None, f"category {str(category)!r} not recognised{did_you_mean(text, ASSET_CLASSES)}"


@functools.cache
def _category_patterns() -> tuple[tuple[str, str], ...]:
    from compliance.loader import load_file

    return tuple((str(p), str(c)) for p, c in load_file(CATEGORIES).data["patterns"])


def read_lineup(path: Path, mapping: dict[str, str] | None = None, numbers: str | None = None) -> Lineup:
    name = str(path)
    rows = [r for r in read_rows(path, name) if any(c not in (None, "") for c in r)]
    if not rows:
        raise InputError.at(name, 0, 0, "the line-up is empty")
    columns = find_columns(rows[0], mapping, name)
    funds: list[Fund] = []
    seen_ids: set[str] = set()
    problems = []
    for number, row in enumerate(rows[1:], start=2):
        values = {fld: row[i] if i < len(row) else None for fld, i in columns.items()}
        cell = values.get
        fund_name = str(cell("name") or "").strip()
        if not fund_name:
            continue
        fund = Fund(values={"name": fund_name}, row=number)
        fund.values["id"] = _unique_id(fund_name, cell("ticker"), seen_ids)
        if cell("ticker"):
            fund.values["ticker"] = str(cell("ticker")).strip().upper()
        if cell("cusip"):
            fund.values["cusip"] = str(cell("cusip")).strip().upper()
        if cell("share_class"):
            fund.values["share_class"] = str(cell("share_class")).strip()
        cls, why = asset_class(cell("category"))
        _set(fund, "asset_class", cls, why)
        vehicle = _norm(cell("vehicle") or "").replace(" ", "_")
        if vehicle in VEHICLES:
            fund.values["vehicle"] = vehicle
        else:
            fund.todo["vehicle"] = (f"{cell('vehicle')!r} not recognised" if vehicle else "not given in the line-up")
        fee, why = parse_fee(cell("expense_ratio"), numbers)
        if why and "--numbers" in why:
            problems.append(Problem(_at(name, number), f"row {number}, expense ratio: {why}"))
        _set(fund, "expense_ratio", fee, why)
        if cell("revenue_sharing") not in (None, ""):
            share, why = parse_fee(cell("revenue_sharing"), numbers)
            _set(fund, "revenue_sharing", share, why)
        if cell("benchmark"):
            fund.values["benchmark"] = str(cell("benchmark")).strip()
        if str(cell("default") or "").strip().lower() in TRUE_WORDS:
            fund.values["default"] = True
            fund.todo["diversified"] = "a designated default must be diversified (29 CFR 2550.404c-5): true or false"
            fund.todo["liquidity"] = "how often participants may leave it (the QDIA conditions need at least quarterly)"
        funds.append(fund)
    if problems:
        raise InputError(problems)
    if not funds:
        raise InputError.at(name, 0, 0, "no fund rows under the header")
    return Lineup(funds, name)


def _at(name: str, row: int) -> Location:
    return Location(name, row, 1)


def _set(fund: Fund, key: str, value: Any, why: str | None) -> None:
    if value is None:
        fund.todo[key] = why or "not given in the line-up"
    else:
        fund.values[key] = value


def _unique_id(fund_name: str, ticker: Any, seen: set[str]) -> str:
    base = (str(ticker).strip().lower() if ticker else "") or re.sub(r"[^a-z0-9]+", "-", fund_name.lower()).strip("-")
    base = re.sub(r"[^a-z0-9._-]", "-", base)[:60] or "fund"
    candidate, n = base, 2
    while candidate in seen:
        candidate, n = f"{base}-{n}", n + 1
    seen.add(candidate)
    return candidate


def plan_yaml(lineup: Lineup, plan_name: str | None) -> str:
    """The plan file: what the line-up said as values, the rest as commented placeholders to fill in."""
    out = [f"# Plan file written by `compliance import` from {printable(Path(lineup.source).name)}.",
           "# Lines marked TODO are facts the line-up does not give: fill them in (never guessed), then run",
           "# `compliance check` on this file. docs/plan-format.md describes every field.",
           "schema_version: 1", "", "plan:"]
    out.append(f"  name: {_quote(plan_name)}" if plan_name else "  name: \"TODO: plan name as on Form 5500\"")
    out += ["  ein: \"00-0000000\"          # TODO: the sponsor's EIN", "  plan_number: \"001\"         # TODO",
            "  type: 401k                  # TODO: 401k, 403b, 457b or 401a",
            "  # intends_404c: true        # TODO: does the plan claim ERISA 404(c) relief?",
            "  # transfer_frequency: daily", "",
            "# governance:                # TODO: the evidence of the process, as dates (docs/plan-format.md)",
            "#   disclosures:",
            "#     participant_fee_disclosure_sent: YYYY-MM-DD    # the last 404a-5 comparative chart",
            "#     service_provider_disclosure_received: YYYY-MM-DD",
            "#     service_provider_fees_reviewed: YYYY-MM-DD", "", "brokerage_window:",
            "  offered: false              # TODO: confirm", ""]
    defaults = [f for f in lineup.funds if f.values.get("default")]
    if defaults:
        series = len(defaults) > 1
        out += ["default_investment:", f"  designation: {'series' if series else 'fund'}"]
        if series:
            out.append("  series_basis: retirement_year   # TODO: age or retirement_year")
        out += ["  funds: [" + ", ".join(f.values["id"] for f in defaults) + "]",
                "  # qdia_relief: true   # taken as true; say false if the plan does not rely on 29 CFR 2550.404c-5",
                ""]
    else:
        out += ["# No default is flagged in the line-up: add default_investment if the plan has one.", ""]
    out.append("menu:")
    for fund in lineup.funds:
        v = fund.values
        out.append(f"  - id: {v['id']}                # line-up row {fund.row}")
        out.append(f"    name: {_quote(v['name'])}")
        for key in ("ticker", "cusip", "share_class", "vehicle", "asset_class", "expense_ratio", "revenue_sharing",
                    "benchmark", "diversified", "liquidity"):
            if key in v:
                value = v[key]
                text = f"{value:.6g}" if isinstance(value, float) else _quote(value)
                note = f"   # {value * 100:.4g}%" if key in ("expense_ratio", "revenue_sharing") else ""
                out.append(f"    {key}: {text}{note}")
            elif key in fund.todo:
                hint = f" one of {', '.join(VEHICLES)};" if key == "vehicle" else ""
                out.append(f"    # {key}:     # TODO:{hint} {fund.todo[key]}")
    return "\n".join(out) + "\n"


def _quote(value: Any) -> str:
    """A YAML scalar for any text: plain when it is safely plain, else a JSON string (valid YAML, every control
    character escaped), so a hostile cell cannot break the file or smuggle in keys."""
    text = str(value)
    plain = re.fullmatch(r"[A-Za-z][A-Za-z0-9 ._()&/-]*", text) and text.lower() not in (
        "yes", "no", "on", "off", "true", "false", "null", "y", "n")
    if plain:
        return text
    quoted = json.dumps(text, ensure_ascii=False)  # YAML reads a JSON string; escape what YAML will not take raw
    return re.sub("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]",
                  lambda m: f"\\u{ord(m.group()):04x}", quoted)


def todo_lines(lineup: Lineup) -> list[str]:
    """What the sponsor must fill in, one line per fund (for stderr)."""
    return [f"{lineup.source}:{f.row}: {f.values['name']}: fill in {', '.join(f'{k} ({why})' for k, why in f.todo.items())}"
            for f in lineup.funds if f.todo]
