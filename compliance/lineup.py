"""Recordkeeper line-ups (CSV or Excel) turned into a plan file a sponsor completes and checks.

Nobody types a 30-fund menu into YAML: sponsors get it from the recordkeeper as a spreadsheet. This reads the
sheet, maps its columns (a default set of common headers, or the sponsor's own `--map`), understands fees
written as fractions, percent strings, percent-formatted cells or basis points, and maps fund categories to the
plan format's asset classes. What the sheet does not say is never guessed: it is left out, with a commented
placeholder naming what to record, and listed on stderr. The file it writes loads as it stands.
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
from compliance.loader import MAX_FILE_BYTES, load_file, read_file
from compliance.schemas.messages import did_you_mean
from compliance.schemas.plan import ASSET_CLASSES, FUND_SCHEMA, VEHICLES
from compliance.text import percent, printable
from compliance.xlsx import MAX_COLUMNS, MAX_ROWS, NoValue, Row, read_sheet

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
    "vehicle": ("vehicle", "investment type", "fund type", "product type", "vehicle type"),
    "revenue_sharing": ("revenue sharing", "revenue share"),
    "default": ("default", "qdia", "default fund", "default investment"),
    "benchmark": ("benchmark", "index", "benchmark index"),
}
FIELDS = tuple(DEFAULT_COLUMNS)
# what a line-up gives, in the order a fund is written; `import --update` refreshes exactly these
SHEET_FIELDS = ("name", "ticker", "cusip", "share_class", "vehicle", "asset_class", "expense_ratio",
                "revenue_sharing", "benchmark")

VOCABULARY = Path(__file__).parent / "lineup_categories.yaml"  # categories, vehicles, retail classes (data)
TRUE_WORDS = {"yes", "y", "x", "true", "1", "default", "qdia", "d"}
NO_TICKER = {"", "-", "--", "n/a", "na", "none", "\u2014", "\u2013"}  # how line-ups write "no ticker" (a CIT)
TICKER, CUSIP = re.compile(r"[A-Z0-9.]{1,10}"), re.compile(r"[0-9A-Z]{9}")  # as the plan format takes them


@dataclass
class Fund:
    """One line-up row as plan-format values; `todo` holds what the sponsor must still record, and why."""

    values: dict[str, Any]
    todo: dict[str, str] = field(default_factory=dict)
    row: int = 0


@dataclass
class Lineup:
    funds: list[Fund]
    source: str
    notes: list[Problem] = field(default_factory=list)  # rows and columns not read (hidden), the sheet read


def norm(text: Any) -> str:
    return re.sub(r"[^a-z0-9%]+", " ", str(text).lower()).strip()


def read_rows(path: Path, name: str, sheet: str | None = None) -> tuple[list[Row], list[str]]:
    """The sheet's rows: the active visible worksheet of an .xlsx, or a CSV in any common dialect; and notes."""
    raw = read_file(path, name, MAX_FILE_BYTES)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        book = read_sheet(raw, name, sheet)
        return book.rows, book.notes
    if sheet is not None:
        raise InputError.at(name, 0, 0, "--sheet names a sheet of an .xlsx workbook; this is a CSV file")
    text = _decode(raw, name)
    try:  # the separator varies (a semicolon where the comma is the decimal mark); the quote is always Excel's
        delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    rows: list[Row] = []
    reader = csv.reader(io.StringIO(text), csv.excel, delimiter=delimiter)
    start = 1
    try:
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise InputError.at(name, start, 1, f"more than {MAX_ROWS:,} rows; a line-up is refused past that")
            rows.append(Row(start, row[:MAX_COLUMNS]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError.at(name, start, 1, f"not a readable CSV line: {exc}") from None
    return rows, []


def _decode(raw: bytes, name: str) -> str:
    """A CSV's text: UTF-8, else the Windows code page; other encodings and workbooks get a located error."""
    if raw.startswith(b"PK\x03\x04"):
        raise InputError.at(name, 0, 0, "is an Excel workbook (.xlsx), not a CSV file: name it .xlsx")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError.at(name, 0, 0, "is an Excel 97-2003 workbook (.xls): save it from Excel as .xlsx "
                                        "or as CSV UTF-8")
    head = raw[:512]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head.count(0) > len(head) // 4:
        raise InputError.at(name, 1, 1, "is UTF-16 text (Excel's \"Unicode text\"), not a CSV this can read: "
                                        "save it from Excel as \"CSV UTF-8\"")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")  # spreadsheets saved as "CSV" on Windows
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        raise InputError.at(name, raw.count(b"\n", 0, exc.start) + 1, exc.start - line_start + 1,
                            f"byte 0x{raw[exc.start]:02x} is neither UTF-8 nor Windows-1252 text: save the file "
                            "from Excel as \"CSV UTF-8\"") from None


def read_map(path: Path) -> dict[str, str]:
    """A --map file: line-up field -> this sheet's column header. Its mistakes are located in the map file."""
    doc = load_file(path)
    if not isinstance(doc.data, dict) or not all(isinstance(v, str) for v in doc.data.values()):
        raise InputError.at(doc.file, 1, 1, "a --map file maps field names to column headers, e.g. "
                                            "{name: Investment Name, expense_ratio: Net ER}")
    for key in doc.data:
        if key not in FIELDS:
            raise InputError(Problem(doc.locate((key,), key=True),
                                     f"{key!r} is not a line-up field ({', '.join(FIELDS)}){did_you_mean(str(key), FIELDS)}"))
    return {str(k): v for k, v in doc.data.items()}


def find_columns(header: list[Any], mapping: dict[str, str] | None, name: str, line: int = 1) -> dict[str, int]:
    """Our field -> column index, from the sponsor's map or the default header names; the name is required."""
    normalised = [norm(h) if h is not None else "" for h in header]
    columns: dict[str, int] = {}
    for fld, heading in (mapping or {}).items():
        if norm(heading) not in normalised:
            raise InputError.at(name, line, 1, f"--map: no column {heading!r} in the header "
                                               f"({', '.join(str(h) for h in header if h is not None)})")
        columns[fld] = normalised.index(norm(heading))
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
        raise InputError.at(name, line, 1, "no fund-name column found (looked for "
                                           f"{', '.join(repr(a) for a in DEFAULT_COLUMNS['name'])}); name it with --map")
    return columns


def parse_fee(value: Any, numbers: str | None) -> tuple[float | None, str | None]:
    """A fee as a fraction (0.0045), or None with the reason it could not be read without guessing."""
    if isinstance(value, NoValue):
        return None, value.why
    if isinstance(value, bool):
        return None, f"the cell holds {'TRUE' if value else 'FALSE'}, a yes/no value, not a fee"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "not given in the line-up"
    text = str(value).strip().lower().replace(",", "")
    match = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*(%|bps?|basis points?)?", text)
    if not match:
        return None, f"'{cell_text(value)}' is not a number, a percent or basis points"
    number, unit = float(match.group(1)), match.group(2)
    if unit == "%":
        return number / 100, None
    if unit:
        return number / 10_000, None
    if numbers == "percent":
        return number / 100, None
    if numbers == "fraction":
        return number, None
    return None, (f"'{cell_text(value)}' could be a fraction ({number:g}) or a percent ({number:g}%); say which "
                  f"with --numbers fraction or --numbers percent")


def cell_text(value: Any) -> str:
    """A cell as the text it shows: numbers as Excel's General format writes them, TRUE/FALSE, empty for none."""
    if value is None or isinstance(value, NoValue):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return f"{value:.15g}"
    return str(value).strip()


def asset_class(category: Any) -> tuple[str | None, str | None]:
    """The plan-format asset class for a line-up category, or None with what the sponsor should check."""
    if not cell_text(category):
        return None, "no category in the line-up"
    text = norm(category).replace(" ", "_")
    if text in ASSET_CLASSES:
        return text, None
    spaced = norm(category)
    for pattern, cls in _vocabulary()["patterns"]:
        if re.search(pattern, spaced):
            return cls, None
    return None, f"category '{cell_text(category)}' not recognised{did_you_mean(text, ASSET_CLASSES)}"


def vehicle(stated: Any, share_class: str) -> tuple[str | None, str | None]:
    """The vehicle a line-up states, in its own column or by its share class ("Trust", "CIT"), else None."""
    text = norm(stated).replace(" ", "_") if cell_text(stated) else ""
    if text in VEHICLES:
        return text, None
    for said in (cell_text(stated), share_class):
        found = next((v for pattern, v in _vocabulary()["vehicles"] if said and re.search(pattern, norm(said))),
                     None)
        if found:
            return found, None
    return None, f"'{cell_text(stated)}' does not say which" if cell_text(stated) else "not given in the line-up"


@functools.cache
def _vocabulary() -> dict[str, Any]:
    data = load_file(VOCABULARY).data
    return {"patterns": tuple((str(p), str(c)) for p, c in data["patterns"]),
            "vehicles": tuple((str(p), str(v)) for p, v in data["vehicles"]),
            "retail": re.compile(data["retail_share_classes"])}


def read_lineup(path: Path, mapping: dict[str, str] | None = None, numbers: str | None = None,
                sheet: str | None = None) -> Lineup:
    name = str(path)
    read, notes = read_rows(path, name, sheet)
    lineup = Lineup([], name, [Problem(Location(name), note) for note in notes])
    rows = [r for r in read if any(cell_text(c) for c in r.values)]
    for row in rows:
        if row.hidden:
            lineup.notes.append(Problem(Location(name, row.number, 1), "hidden row, not imported: "
                                        + " | ".join(cell_text(c) for c in row.values if cell_text(c))[:200]))
    rows = [r for r in rows if not r.hidden]
    if not rows:
        raise InputError.at(name, 0, 0, "the line-up is empty")
    columns = find_columns(rows[0].values, mapping, name, rows[0].number)
    seen_ids: set[str] = set()
    problems = []
    for row in rows[1:]:
        cell = {fld: row.values[i] if i < len(row.values) else None for fld, i in columns.items()}
        if isinstance(cell["name"], NoValue):
            problems.append(Problem(_at(name, row), f"row {row.number}, fund name: {cell['name'].why}"))
            continue
        fund_name = cell_text(cell["name"])
        if not fund_name:
            continue
        fund = _fund(fund_name, cell, row, seen_ids)
        for key in ("expense_ratio", "revenue_sharing"):
            if key == "expense_ratio" or cell_text(cell.get(key)):
                fee, why = parse_fee(cell.get(key), numbers)
                if fee is not None and fee > FUND_SCHEMA[key]["max"]:
                    why = (f"'{cell_text(cell.get(key))}' reads as {percent(fee)}, more than the plan format takes "
                           f"({percent(FUND_SCHEMA[key]['max'])}); is it a percent (--numbers percent)?")
                if why and "--numbers" in why:
                    problems.append(Problem(_at(name, row), f"row {row.number}, {key.replace('_', ' ')}: {why}"))
                _set(fund, key, fee, why)
        _ask_for_cheaper_class(fund)
        lineup.funds.append(fund)
    if problems:
        raise InputError(problems)
    if not lineup.funds:
        raise InputError.at(name, 0, 0, "no fund rows under the header")
    return lineup


def _fund(fund_name: str, cell: dict[str, Any], row: Row, seen_ids: set[str]) -> Fund:
    """A fund's name, identifiers, class, vehicle and asset class from its row; what is unreadable becomes a TODO."""
    fund = Fund(values={"name": fund_name}, row=row.number)
    for key, pattern, form in (("ticker", TICKER, "1-10 upper-case letters, digits or '.'"),
                               ("cusip", CUSIP, "9 upper-case letters or digits")):
        text = cell_text(cell.get(key))
        if pattern.fullmatch(text.upper()):
            fund.values[key] = text.upper()
        elif text.lower() not in NO_TICKER:
            fund.todo[key] = f"'{text}' in the line-up is not a {key} ({form})"
    fund.values["id"] = unique_id(fund_name, fund.values.get("ticker"), seen_ids)
    share_class = cell_text(cell.get("share_class"))
    if share_class:
        fund.values["share_class"] = share_class
    _set(fund, "vehicle", *vehicle(cell.get("vehicle"), share_class))
    _set(fund, "asset_class", *asset_class(cell.get("category")))
    if cell_text(cell.get("benchmark")):
        fund.values["benchmark"] = cell_text(cell.get("benchmark"))
    if cell_text(cell.get("default")).lower() in TRUE_WORDS:
        fund.values["default"] = True
        fund.todo["diversified"] = "a designated default must be diversified (29 CFR 2550.404c-5): true or false"
        fund.todo["liquidity"] = "how often participants may leave it (the QDIA conditions need at least quarterly)"
    return fund


def _ask_for_cheaper_class(fund: Fund) -> None:
    """A retail or R class (Investor A, Class C, R4) is often a costlier class of the fund: ask for the cheapest."""
    share_class = fund.values.get("share_class", "")
    if share_class and _vocabulary()["retail"].search(norm(share_class)):
        fee = fund.values.get("expense_ratio")
        at = f" at {percent(fee)}" if fee is not None else ""
        fund.todo["lowest_cost_share_class"] = (
            f"share class '{share_class}'{at} is a retail or R class: record the fund's cheapest class the plan "
            "could use (share_class, expense_ratio, available_to_plan) and, if it is not used, reason_not_used")


def _at(name: str, row: Row) -> Location:
    return Location(name, row.number, 1)


def _set(fund: Fund, key: str, value: Any, why: str | None) -> None:
    if value is None:
        fund.todo[key] = why or "not given in the line-up"
    else:
        fund.values[key] = value


def unique_id(fund_name: str, ticker: str | None, seen: set[str]) -> str:
    base = re.sub(r"[^a-z0-9._-]+", "-", (ticker or fund_name).lower()).lstrip("._-")[:60].rstrip("-") or "fund"
    candidate, n = base, 2
    while candidate in seen:
        candidate, n = f"{base}-{n}", n + 1
    seen.add(candidate)
    return candidate


def plan_yaml(lineup: Lineup, plan_name: str | None) -> str:
    """The plan file: what the line-up said as values, the rest as commented placeholders to fill in."""
    out = [f"# Plan file written by `compliance import` from {printable(Path(lineup.source).name)}.",
           "# Lines marked TODO are facts the line-up does not give: nothing is guessed. It checks as it stands;",
           "# `compliance check` lists the facts still to record. docs/plan-format.md describes every field.",
           "schema_version: 1", ""]
    if plan_name:
        out += ["plan:", f"  name: {_quote(plan_name)}"]
    else:
        out += ["plan: {}   # TODO: the line-up gives no plan facts; replace {} with them:",
                "  # name: \"...\"               # the plan's name as on Form 5500"]
    out += ["  # ein: \"NN-NNNNNNN\"          # TODO: the sponsor's EIN",
            "  # plan_number: \"001\"         # TODO: three digits, as on Form 5500",
            "  # type: 401k                  # TODO: 401k, 403b, 457b or 401a",
            "  # intends_404c: true          # TODO: does the plan claim ERISA 404(c) relief?",
            "  # transfer_frequency: daily   # TODO: how often participants may move money between options", "",
            "# governance:                # TODO: the evidence of the process, as dates (docs/plan-format.md)",
            "#   disclosures:",
            "#     participant_fee_disclosure_sent: YYYY-MM-DD    # the last 404a-5 comparative chart",
            "#     service_provider_disclosure_received: YYYY-MM-DD",
            "#     service_provider_fees_reviewed: YYYY-MM-DD", "",
            "# brokerage_window:          # TODO: does the plan offer a self-directed brokerage window?",
            "#   offered: false", ""]
    defaults = [f for f in lineup.funds if f.values.get("default")]
    if defaults:
        series = len(defaults) > 1
        out += ["default_investment:", f"  designation: {'series' if series else 'fund'}"]
        if series:
            out.append("  # series_basis: retirement_year   # TODO: age or retirement_year")
        out += ["  funds: [" + ", ".join(_quote(f.values["id"]) for f in defaults) + "]",
                "  # qdia_relief: true   # TODO: does the plan rely on QDIA relief (29 CFR 2550.404c-5)? "
                "Record true or false", ""]
    else:
        out += ["# No default is flagged in the line-up: add default_investment if the plan has one.", ""]
    out.append("menu:")
    for fund in lineup.funds:
        out += fund_lines(fund, "  ")
    return "\n".join(out) + "\n"


def fund_lines(fund: Fund, indent: str) -> list[str]:
    """One menu entry as YAML lines, its `- ` at `indent`: every value from the sheet quoted, TODOs as comments."""
    v = fund.values
    out = [f"{indent}- id: {_quote(v['id'])}                # line-up row {fund.row}"]
    for key in (*SHEET_FIELDS, "diversified", "liquidity", "lowest_cost_share_class"):
        if key in v:
            out.append(f"{indent}  {key}: {yaml_scalar(key, v[key])}{fee_note(v[key])}")
        elif key in fund.todo:
            hint = f" one of {', '.join(VEHICLES)};" if key == "vehicle" else ""
            out.append(f"{indent}  # {key}:     # TODO:{hint} {printable(fund.todo[key])}")
    return out


def yaml_scalar(key: str, value: Any) -> str:
    """A value as written in the plan file: fees as numbers, our own vocabulary (vehicle, asset class) plain, and
    every text the sheet supplies quoted."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value if key in ("vehicle", "asset_class") else _quote(value)


def fee_note(value: Any) -> str:
    """The comment beside a fee, as a committee reads it (`   # 0.08%`)."""
    return f"   # {percent(value)}" if isinstance(value, float) else ""


def _quote(value: Any) -> str:
    """A YAML string for any text: a JSON string (valid YAML, every control character escaped), so no cell is read
    back as another type (`yes`, `123`, `2024-01-01`, `.inf`) and none can break the file or smuggle in keys."""
    quoted = json.dumps(str(value), ensure_ascii=False)
    return re.sub("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]",
                  lambda m: f"\\u{ord(m.group()):04x}", quoted)


def todo_lines(lineup: Lineup) -> list[Problem]:
    """What the import did not read (hidden rows and columns) and what to record, one line per fund (stderr)."""
    return lineup.notes + [
        Problem(Location(lineup.source, f.row, 1),
                f"{f.values['name']}: record {', '.join(f'{k} ({why})' for k, why in f.todo.items())}")
        for f in lineup.funds if f.todo]
