"""A small, bounded reader of one worksheet of an Excel .xlsx workbook: the values Excel shows, row by row.

A line-up arrives from outside, so the workbook is untrusted. This reads only what an import needs (the sheet
list, shared strings, number formats, one worksheet) with limits checked while reading, not after: each part's
uncompressed size is capped as it is inflated (a zip bomb stops at the cap, whatever the zip headers claim), and
so are the counts of cells and shared strings. The XML is parsed by expat with any DTD refused, so no entity is
ever declared, expanded or fetched. Hidden sheets, rows and columns are never read silently: the sheet read is
the active visible one (or the one named), and hidden rows and columns are returned marked, for the caller to
report.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from compliance.errors import InputError

MAX_PART_BYTES = 16 * 1024 * 1024  # the uncompressed size of one workbook part (a sheet, the shared strings)
MAX_CELLS = 1_000_000  # cells in the sheet, and shared strings in the workbook
MAX_ROWS = 20_000  # a line-up has tens of funds
MAX_COLUMNS = 50  # columns read; cells further right are ignored
_EXCEL_ROWS, _EXCEL_COLUMNS = 1_048_576, 16_384  # the largest sheet Excel has: a reference past it is damage
_CELL_REF = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_SCALED_PERCENT_FORMATS = {9, 10}  # Excel's built-in 0% and 0.00%
_HIDDEN = ("1", "true")


@dataclass(frozen=True)
class NoValue:
    """A cell that shows something but stores no value to read (a formula whose result was never saved)."""

    why: str

    def __str__(self) -> str:
        return ""


@dataclass
class Row:
    number: int
    values: list[Any]
    hidden: bool = False


@dataclass
class Worksheet:
    """The rows of one sheet; `notes` says which sheet was read and which columns were hidden (not read)."""

    rows: list[Row]
    notes: list[str] = field(default_factory=list)


class _Refused(Exception):
    pass


def read_sheet(raw: bytes, name: str, sheet: str | None = None) -> Worksheet:
    """The active visible worksheet of the workbook `raw` (or the sheet named `sheet`), as values Excel shows.

    A number in a percent format is returned as the text Excel shows ("0.45%"); a boolean as True or False;
    a formula without a saved result as NoValue. Every defect is an InputError located in `name`.
    """
    try:
        book = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise InputError.at(name, 0, 0, "not a readable .xlsx workbook (not a zip archive); save it again "
                                        "from Excel as .xlsx, or as CSV UTF-8") from None
    try:
        return _Reader(book, name).read(sheet)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError, OSError) as exc:
        raise InputError.at(name, 0, 0, f"not a readable .xlsx workbook (damaged archive: {exc})") from None


class _Reader:
    def __init__(self, book: zipfile.ZipFile, name: str):
        self.book, self.name = book, name
        self.members = {info.filename: info for info in book.infolist()}

    def fail(self, message: str, row: int = 0, column: int = 0) -> InputError:
        return InputError.at(self.name, row, column, message)

    def read(self, wanted: str | None) -> Worksheet:
        workbook = self._rels("_rels/.rels").get("type:officeDocument", "xl/workbook.xml")
        folder = workbook.rpartition("/")[0]
        rels = self._rels(f"{folder}/_rels/{workbook.rpartition('/')[2]}.rels", folder)
        sheets, active = self._sheets(workbook)
        if not sheets:
            raise self.fail("the workbook has no worksheet")
        names = ", ".join(f"{s['name']!r}" + (" (hidden)" if s["hidden"] else "") for s in sheets)
        if wanted is not None:
            chosen = next((s for s in sheets if s["name"] == wanted), None)
            if chosen is None:
                raise self.fail(f"no sheet named {wanted!r}; the workbook has {names}")
        else:
            visible = [s for s in sheets if not s["hidden"]]
            if not visible:
                raise self.fail(f"every sheet is hidden ({names}); name the one to read with --sheet")
            chosen = sheets[active] if active < len(sheets) and not sheets[active]["hidden"] else visible[0]
        path = rels.get(chosen["rid"])
        if path is None or path not in self.members:
            raise self.fail(f"sheet {chosen['name']!r} has no worksheet part in the workbook")
        shared = self._shared_strings(rels.get("type:sharedStrings"))
        formats = self._formats(rels.get("type:styles"))
        sheet = self._worksheet(path, shared, formats)
        if len(sheets) > 1:
            sheet.notes.insert(0, f"read sheet {chosen['name']!r} of {names}; name another with --sheet")
        return sheet

    # -- the parts --------------------------------------------------------------------------------------------

    def _events(self, path: str) -> Iterator[tuple[str, str, Any]]:
        """(start, tag, attributes), (end, tag, None) and (text, '', text) events of one part, bounded."""
        info = self.members.get(path)
        if info is None:
            return
        events: list[tuple[str, str, Any]] = []
        parser = expat.ParserCreate()
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartElementHandler = lambda tag, attrs: events.append(("start", tag.rpartition(":")[2], attrs))
        parser.EndElementHandler = lambda tag: events.append(("end", tag.rpartition(":")[2], None))
        parser.CharacterDataHandler = lambda text: events.append(("text", "", text))
        parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = _refuse_dtd
        parser.ExternalEntityRefHandler = _refuse_dtd  # type: ignore[assignment]  # raises; never returns
        inflated = 0
        with self.book.open(info) as stream:
            while True:
                chunk = stream.read(64 * 1024)
                inflated += len(chunk)
                if inflated > MAX_PART_BYTES:
                    raise self.fail(f"{path} expands past {MAX_PART_BYTES // 2**20} MiB (a zip bomb?); refused")
                try:
                    parser.Parse(chunk, not chunk)
                except _Refused:
                    raise self.fail(f"{path} declares a DTD; a workbook never needs one, so it is refused "
                                    "(no entity is read)") from None
                except expat.ExpatError as exc:
                    raise self.fail(f"{path} line {exc.lineno}: not well-formed XML "
                                    f"({expat.ErrorString(exc.code)})") from None
                yield from events
                events.clear()
                if not chunk:
                    return

    def _rels(self, path: str, folder: str = "") -> dict[str, str]:
        """Relationship id -> part path (and type -> part path, under the key `type:NAME`)."""
        rels: dict[str, str] = {}
        for kind, tag, attrs in self._events(path):
            if kind == "start" and tag == "Relationship" and "Id" in attrs and "Target" in attrs:
                target = attrs["Target"]
                target = target.lstrip("/") if target.startswith("/") else _join(folder, target)
                rels[attrs["Id"]] = target
                rels.setdefault("type:" + attrs.get("Type", "").rpartition("/")[2], target)
        return rels

    def _sheets(self, workbook: str) -> tuple[list[dict[Any, Any]], int]:
        sheets, active = [], 0
        for kind, tag, attrs in self._events(workbook):
            if kind != "start":
                continue
            if tag == "sheet":
                rid = next((v for k, v in attrs.items() if k.rpartition(":")[2] == "id" and ":" in k), "")
                sheets.append({"name": attrs.get("name", "?"), "rid": rid,
                               "hidden": attrs.get("state", "visible") != "visible"})
            elif tag == "workbookView" and attrs.get("activeTab", "0").isdigit():
                active = int(attrs.get("activeTab", "0")[:6])
        return sheets, active

    def _shared_strings(self, path: str | None) -> list[str]:
        strings: list[str] = []
        parts: list[str] = []
        depth_rph = 0  # phonetic runs (rPh) repeat the text in another script: not part of the value
        in_text = False
        for kind, tag, data in self._events(path or ""):
            if kind == "start":
                depth_rph += tag == "rPh"
                in_text = tag == "t" and not depth_rph
                if tag == "si":
                    parts = []
            elif kind == "end":
                depth_rph -= tag == "rPh"
                in_text = False
                if tag == "si":
                    strings.append("".join(parts))
                    if len(strings) > MAX_CELLS:
                        raise self.fail(f"more than {MAX_CELLS:,} shared strings; refused")
            elif in_text:
                parts.append(data)
        return strings

    def _formats(self, path: str | None) -> list[str | None]:
        """Per cell style (the `s` index): how a number in it is shown, 'scaled' or 'literal' percent, or None."""
        custom: dict[int, str] = {}
        styles: list[str | None] = []
        in_cell_xfs = False
        for kind, tag, attrs in self._events(path or ""):
            if kind == "start" and tag == "numFmt" and attrs.get("numFmtId", "").isdigit():
                custom[int(attrs["numFmtId"][:6])] = attrs.get("formatCode", "")
            elif kind in ("start", "end") and tag == "cellXfs":
                in_cell_xfs = kind == "start"
            elif kind == "start" and tag == "xf" and in_cell_xfs:
                number = int(attrs["numFmtId"][:6]) if attrs.get("numFmtId", "").isdigit() else 0
                styles.append("scaled" if number in _SCALED_PERCENT_FORMATS else percent_kind(custom.get(number, "")))
                if len(styles) > MAX_CELLS:
                    raise self.fail(f"more than {MAX_CELLS:,} cell styles; refused")
        return styles

    def _worksheet(self, path: str, shared: list[str], formats: list[str | None]) -> Worksheet:
        rows: list[Row] = []
        hidden_columns: set[int] = set()
        cells = 0
        row: Row | None = None
        cell: dict[str, Any] = {}
        text: list[str] | None = None
        for kind, tag, data in self._events(path):
            if kind == "text":
                if text is not None:
                    text.append(data)
            elif kind == "start":
                if tag == "row":
                    row = Row(self._row_number(data.get("r"), rows), [], data.get("hidden") in _HIDDEN)
                    rows.append(row)
                    if len(rows) > MAX_ROWS:
                        raise self.fail(f"more than {MAX_ROWS:,} rows; a line-up is refused past that", row.number, 1)
                elif tag == "c" and row is not None:
                    cells += 1
                    if cells > MAX_CELLS:
                        raise self.fail(f"more than {MAX_CELLS:,} cells; refused", row.number, 1)
                    column = self._column(data.get("r"), row)
                    cell = {"column": column, "type": data.get("t", "n"), "style": data.get("s"), "v": None,
                            "formula": False}
                elif tag in ("v", "t") and cell:
                    text = []
                elif tag == "f" and cell:
                    cell["formula"] = True
                elif tag == "col":
                    hidden_columns |= _hidden_columns(data)
            elif kind == "end":
                if tag in ("v", "t") and cell and text is not None:  # a value, or one run of an inline string
                    cell["v"] = "".join(text) if tag == "v" else (cell["v"] or "") + "".join(text)
                elif tag == "c" and cell and row is not None:
                    self._store(cell, row, shared, formats)
                    cell = {}
                if tag in ("v", "t"):
                    text = None
        return _without_hidden_columns(Worksheet(rows), hidden_columns)

    def _store(self, cell: dict[Any, Any], row: Row, shared: list[str], formats: list[str | None]) -> None:
        if cell["column"] <= MAX_COLUMNS:
            value = self._value(cell, row, shared, formats)
            row.values += [None] * (cell["column"] - len(row.values))
            row.values[cell["column"] - 1] = value

    def _row_number(self, ref: str | None, rows: list[Row]) -> int:
        previous = rows[-1].number if rows else 0
        if ref is None:
            return previous + 1
        if not ref.isdigit() or len(ref) > 7 or not previous < int(ref) <= _EXCEL_ROWS:
            raise self.fail(f"row number {ref[:20]!r} after row {previous} is not a row of an Excel sheet "
                            "(damaged workbook)", previous + 1, 1)
        return int(ref)

    def _column(self, ref: str | None, row: Row) -> int:
        if ref is None:
            return len(row.values) + 1
        match = _CELL_REF.fullmatch(ref)
        column = 0
        for letter in match.group(1) if match else "":
            column = column * 26 + ord(letter) - 64
        if not match or column > _EXCEL_COLUMNS or int(match.group(2)) != row.number:
            raise self.fail(f"cell reference {ref[:20]!r} in row {row.number} is not a cell of an Excel sheet "
                            "(damaged workbook)", row.number, 1)
        return column

    def _value(self, cell: dict[Any, Any], row: Row, shared: list[str], formats: list[str | None]) -> Any:
        raw, kind = cell["v"], cell["type"]
        where = f"cell {_letters(cell['column'])}{row.number}"
        if raw is None:
            return NoValue("a formula with no saved result (open the workbook in Excel and save it again)") \
                if cell["formula"] else None
        if kind == "s":
            if not raw.strip().isdigit() or int(raw.strip()[:10]) >= len(shared):
                raise self.fail(f"{where} points at shared string {raw[:20]!r}, which the workbook does not "
                                "have (damaged workbook)", row.number, cell["column"])
            return shared[int(raw.strip())]
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind in ("str", "inlineStr", "e", "d"):
            return raw
        if not _NUMBER.fullmatch(raw.strip()) or not math.isfinite(number := float(raw)):
            raise self.fail(f"{where} holds {raw[:40]!r} where the workbook says a number is (damaged workbook)",
                            row.number, cell["column"])
        style = cell["style"]
        shown = formats[int(style)] if style and style.isdigit() and int(style[:7]) < len(formats) else None
        if shown == "scaled":
            return f"{number * 100:.10g}%"
        if shown == "literal":
            return f"{number:.10g}%"
        return int(number) if number.is_integer() and abs(number) < 1e15 else number


def percent_kind(code: str) -> str | None:
    """'scaled' for a number format whose `%` multiplies by 100 (`0.00%`), 'literal' for one that only shows a
    percent sign (`0.00"%"`, `0.00\\%`: 0.45 shows as 0.45%), None for one without a percent sign."""
    literal = False
    i = 0
    while i < len(code):
        char = code[i]
        if char == ";":  # the first section formats positive numbers, which fees are
            break
        if char == '"':
            end = code.find('"', i + 1)
            literal = literal or "%" in code[i + 1:end if end >= 0 else len(code)]
            i = len(code) if end < 0 else end + 1
            continue
        if char in "\\_*":  # an escaped character, a space as wide as one, a fill character
            literal = literal or code[i + 1:i + 2] == "%"
            i += 2
            continue
        if char == "[":  # colour, condition or locale
            end = code.find("]", i)
            i = len(code) if end < 0 else end + 1
            continue
        if char == "%":
            return "scaled"
        i += 1
    return "literal" if literal else None


def _refuse_dtd(*_: Any) -> None:
    raise _Refused


def _join(folder: str, target: str) -> str:
    parts: list[str] = [p for p in folder.split("/") if p]
    for part in target.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def _without_hidden_columns(sheet: Worksheet, hidden: set[int]) -> Worksheet:
    for column in sorted(c for c in hidden if c <= MAX_COLUMNS):
        sheet.notes.append(f"column {_letters(column)} is hidden and was not read")
        for row in sheet.rows:
            if column <= len(row.values):
                row.values[column - 1] = None
    return sheet


def _hidden_columns(attrs: dict[Any, Any]) -> set[int]:
    low, high = attrs.get("min", ""), attrs.get("max", "")
    if attrs.get("hidden") not in _HIDDEN or not (low.isdigit() and high.isdigit()):
        return set()
    return set(range(max(int(low[:6]), 1), min(int(high[:6]), MAX_COLUMNS) + 1))


def _letters(column: int) -> str:
    text = ""
    while column:
        column, rest = divmod(column - 1, 26)
        text = chr(65 + rest) + text
    return text
