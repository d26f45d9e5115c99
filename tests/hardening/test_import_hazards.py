"""Hostile and damaged line-ups for `compliance import` (issue 27, items 5 and 8-12): each is a located error with
exit 2, or a plan file that reads back exactly what the sheet said; never a traceback, a misread or a silent skip."""

from __future__ import annotations

import csv

import pytest
import yaml

from tests.helpers import xlsx_bytes

HEADER = ["Fund Name", "Ticker", "Share Class", "Expense Ratio"]


def _import(run_cli, tmp_path, sheet, *extra):
    out = tmp_path / "plan.yaml"
    result = run_cli("import", str(sheet), "-o", str(out), *extra)
    return result, out


def _workbook(tmp_path, name="lineup.xlsx", **kwargs):
    path = tmp_path / name
    path.write_bytes(xlsx_bytes(**kwargs))
    return path


def test_a_file_name_never_starts_a_runner_command(tmp_path, run_cli):
    """Item 5: stderr lines start with the line-up's name; `::error::x.csv` is printed as `./::error::x.csv`."""
    sheet = tmp_path / "::error::x.csv"
    sheet.write_text("Fund Name,Expense Ratio\nA Fund,0.05%\n")
    result = run_cli("import", "::error::x.csv", "-o", "plan.yaml", cwd=tmp_path)
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines[0].startswith("./::error::x.csv:2:1: A Fund: record vehicle")
    assert not any(line.lstrip().startswith("::") for line in lines)
    broken = tmp_path / "::warning::y.csv"
    broken.write_text("Nothing,Here\n1,2\n")
    failed = run_cli("import", "::warning::y.csv", "-o", "other.yaml", cwd=tmp_path)
    assert failed.exit_code == 2 and failed.stderr.startswith("./::warning::y.csv:1:1: no fund-name column found")


CELLS = ["-", "123", "yes", "null", "0x1F", ".inf", "2024-01-01", "1_000", "~", "No", "on", "[a]", "{b: 1}", "*x",
         "&y", "!!str", "|", ">", "@z", "`q`", "%TAG", "'s'", '"d"', "#h", "a: b", "- c", "?", "0o17", "+1", "1e3"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_every_value_the_sheet_supplies_reads_back_as_the_same_text(tmp_path, run_cli, suffix):
    """Item 8: YAML-looking cells (`-`, `123`, `yes`, `null`, `0x1F`, `.inf`, `2024-01-01`, `1_000`...) are written
    quoted, so the plan reads back the sheet's text; a ticker that is not one is left out with a TODO."""
    rows = [["Fund Name", "Ticker", "Share Class", "Benchmark", "Expense Ratio"]]
    rows += [[f"{cell}", cell, cell, cell, "0.05%"] for cell in CELLS]
    if suffix == ".csv":
        sheet = tmp_path / "lineup.csv"
        with sheet.open("w", newline="") as handle:
            csv.writer(handle).writerows(rows)
    else:
        sheet = _workbook(tmp_path, sheets=[{"name": "Line-up", "rows": rows}])
    result, out = _import(run_cli, tmp_path, sheet)
    assert result.exit_code == 0, result.stderr
    menu = yaml.safe_load(out.read_text())["menu"]
    assert [f["name"] for f in menu] == CELLS
    assert [f["share_class"] for f in menu] == CELLS and [f["benchmark"] for f in menu] == CELLS
    tickers = {f["name"]: f.get("ticker") for f in menu}
    assert {k: v for k, v in tickers.items() if v} == {
        "123": "123", "yes": "YES", "null": "NULL", "0x1F": "0X1F", ".inf": ".INF", "No": "NO", "on": "ON",
        "0o17": "0O17", "1e3": "1E3"}
    assert all(isinstance(f["id"], str) for f in menu) and len({f["id"] for f in menu}) == len(menu)
    assert "# ticker:     # TODO: '2024-01-01' in the line-up is not a ticker" in out.read_text()
    assert run_cli("check", str(out), "--as-of", "2026-11-25").exit_code != 2


@pytest.mark.parametrize("raw,message", [
    (b"Fund Name,Expense Ratio\nCaf\xe9 Fund,0.05%\nBad \x81 Fund,0.05%\n",
     "lineup.csv:3:5: byte 0x81 is neither UTF-8 nor Windows-1252 text: save the file from Excel as \"CSV UTF-8\""),
    ("Fund Name,Expense Ratio\nA,0.05%\n".encode("utf-16"),
     "lineup.csv:1:1: is UTF-16 text (Excel's \"Unicode text\"), not a CSV this can read: save it from Excel as "
     "\"CSV UTF-8\""),
    ("Fund Name\tExpense Ratio\nA\t0.05%\n".encode("utf-16-le"),  # no byte-order mark: told by its NUL bytes
     "lineup.csv:1:1: is UTF-16 text"),
    (xlsx_bytes([{"name": "S", "rows": [HEADER]}]),
     "lineup.csv: is an Excel workbook (.xlsx), not a CSV file: name it .xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "lineup.csv: is an Excel 97-2003 workbook (.xls)"),
])
def test_csv_encodings_and_disguised_workbooks_are_located_errors(tmp_path, run_cli, raw, message):
    """Item 9 and 21: a cp1252-undefined byte, UTF-16 ("Unicode text") and a workbook named .csv."""
    sheet = tmp_path / "lineup.csv"
    sheet.write_bytes(raw)
    result, out = _import(run_cli, tmp_path, sheet)
    assert result.exit_code == 2 and result.stderr.startswith(f"{tmp_path}/{message}"), result.stderr
    assert not out.exists()


def test_cp1252_text_is_still_read(tmp_path, run_cli):
    sheet = tmp_path / "lineup.csv"
    sheet.write_bytes("Fund Name,Expense Ratio\nCafé “Growth” Fund,0.05%\n".encode("cp1252"))
    result, out = _import(run_cli, tmp_path, sheet)
    assert result.exit_code == 0 and yaml.safe_load(out.read_text())["menu"][0]["name"] == "Café “Growth” Fund"


ENTITY = ('<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
          '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&x;</t></si></sst>')
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
          '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><sst><si><t>&c;</t></si></sst>')


@pytest.mark.parametrize("parts,rows,message", [
    ({"xl/sharedStrings.xml": ENTITY}, [HEADER],
     "xl/sharedStrings.xml declares a DTD; a workbook never needs one, so it is refused (no entity is read)"),
    ({"xl/sharedStrings.xml": LAUGHS}, [HEADER], "xl/sharedStrings.xml declares a DTD"),
    ({"xl/workbook.xml": "<workbook><sheets><sheet name='S' r:id='rId1'"}, [HEADER],
     "xl/workbook.xml line 1: not well-formed XML (unclosed token)"),
    ({}, [HEADER, ["A Fund", '<c r="B2" t="n"><v>abc</v></c>']],
     "lineup.xlsx:2:2: cell B2 holds 'abc' where the workbook says a number is (damaged workbook)"),
    ({}, [HEADER, ["A Fund", '<c r="B2"><v>1e999</v></c>']], "lineup.xlsx:2:2: cell B2 holds '1e999'"),
    ({}, [HEADER, ['<c r="ZZZZ2"><v>1</v></c>']],
     "lineup.xlsx:2:1: cell reference 'ZZZZ2' in row 2 is not a cell of an Excel sheet (damaged workbook)"),
    ({}, [HEADER, ['<c r="A99999999"><v>1</v></c>']], "lineup.xlsx:2:1: cell reference 'A99999999' in row 2"),
    ({}, [HEADER, ['<c r="A2" t="s"><v>99999</v></c>']],
     "lineup.xlsx:2:1: cell A2 points at shared string '99999', which the workbook does not have"),
    ({"xl/worksheets/sheet1.xml": '<worksheet><sheetData><row r="1"/><row r="99999999"/></sheetData></worksheet>'},
     None, "lineup.xlsx:2:1: row number '99999999' after row 1 is not a row of an Excel sheet"),
])
def test_damaged_workbooks_are_located_errors(tmp_path, run_cli, parts, rows, message):
    """Item 9: XML errors, entities and DTDs (never resolved), non-numbers in number cells, absurd references."""
    sheet = _workbook(tmp_path, sheets=[{"name": "S", "rows": rows or []}], parts=parts)
    result, out = _import(run_cli, tmp_path, sheet)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and result.stderr.startswith(str(tmp_path)), result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_a_shared_strings_zip_bomb_is_refused_at_the_cap(tmp_path, run_cli, monkeypatch):
    """Item 10: 40 MB of strings in a 40 KB workbook stop at the 16 MiB part cap, whatever the zip says: the
    bytes inflated are counted (not the seconds, which depend on the machine), and end one chunk past the cap."""
    import zipfile

    from compliance.xlsx import MAX_PART_BYTES

    bomb = "<sst>" + "<si><t>" + "a" * 40_000_000 + "</t></si></sst>"
    sheet = _workbook(tmp_path, sheets=[{"name": "S", "rows": [HEADER, ["A", "B"]]}],
                      parts={"xl/sharedStrings.xml": bomb})
    assert sheet.stat().st_size < 100_000
    inflated: dict[str, int] = {}
    read = zipfile.ZipExtFile.read

    def counted(self, n=-1):  # type: ignore[no-untyped-def]
        data = read(self, n)
        inflated[self.name] = inflated.get(self.name, 0) + len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counted)
    result, _ = _import(run_cli, tmp_path, sheet)
    assert result.exit_code == 2
    assert result.stderr == f"{sheet}: xl/sharedStrings.xml expands past 16 MiB (a zip bomb?); refused\n"
    assert MAX_PART_BYTES < inflated["xl/sharedStrings.xml"] <= MAX_PART_BYTES + 64 * 1024


@pytest.mark.slow
def test_too_many_cells_are_refused_before_they_are_read(tmp_path, run_cli):
    """Item 10: a million and one cells (4 MB of `<c/>`, under the part cap) are refused by count."""
    xml = "<worksheet><sheetData><row r='1'>" + "<c/>" * 1_000_001 + "</row></sheetData></worksheet>"
    sheet = _workbook(tmp_path, sheets=[{"name": "S", "xml": xml}])
    result, _ = _import(run_cli, tmp_path, sheet)
    assert result.exit_code == 2 and result.stderr == f"{sheet}:1:1: more than 1,000,000 cells; refused\n"


def test_the_active_visible_sheet_is_read_and_hidden_rows_and_columns_are_reported(tmp_path, run_cli):
    """Item 11: a hidden first sheet is never read; hidden rows and columns are skipped and named on stderr."""
    hidden = {"name": "Old", "state": "hidden", "rows": [["Fund Name", "Expense Ratio"], ["Hidden Fund", "0.01%"]]}
    visible = {"name": "Line-up", "rows": [["Fund Name", "Expense Ratio", "Notes"], ["Visible Fund", "0.95%", "x"],
                                           ["Filtered Fund", "0.02%", "y"], ["Other Fund", "0.50%", "z"]],
               "hidden_rows": {3}, "hidden_columns": [3]}
    sheet = _workbook(tmp_path, sheets=[hidden, visible], active=0)  # the active tab points at the hidden sheet
    result, out = _import(run_cli, tmp_path, sheet)
    assert result.exit_code == 0, result.stderr
    assert [f["name"] for f in yaml.safe_load(out.read_text())["menu"]] == ["Visible Fund", "Other Fund"]
    lines = result.stderr.splitlines()
    assert lines[:3] == [f"{sheet}: read sheet 'Line-up' of 'Old' (hidden), 'Line-up'; name another with --sheet",
                         f"{sheet}: column C is hidden and was not read",
                         f"{sheet}:3:1: hidden row, not imported: Filtered Fund | 0.02%"]
    chosen, out = _import(run_cli, tmp_path, sheet, "--sheet", "Old", "--force")
    assert chosen.exit_code == 0 and yaml.safe_load(out.read_text())["menu"][0]["name"] == "Hidden Fund"
    missing, _ = _import(run_cli, tmp_path, sheet, "--sheet", "Nope", "--force")
    assert missing.stderr == f"{sheet}: no sheet named 'Nope'; the workbook has 'Old' (hidden), 'Line-up'\n"
    every = _workbook(tmp_path, "all-hidden.xlsx", sheets=[hidden])
    refused, _ = _import(run_cli, tmp_path, every, "--force")
    assert refused.exit_code == 2 and "every sheet is hidden ('Old' (hidden)); name the one to read with --sheet" \
        in refused.stderr


@pytest.mark.parametrize("number_format,expected", [
    ('0.00"%"', 0.0045), ("0.00\\%", 0.0045), ("0.00%", 0.45), ("0%", 0.45), ('[Blue]0.00"%";"-"', 0.0045),
])
def test_a_literal_percent_format_shows_the_number_itself(tmp_path, run_cli, number_format, expected):
    """Item 12: `0.00"%"` and `0.00\\%` on 0.45 show 0.45% in Excel, so the fee is 0.45%, not 45%; a real percent
    format (`0.00%`) on 0.45 shows 45%, which the plan format refuses as a fee."""
    sheet = _workbook(tmp_path, sheets=[{"name": "S", "rows": [["Fund Name", "Expense Ratio"],
                                                               ["A Fund", ("style", 0.45, 1)]]}],
                      formats=(number_format,))
    result, out = _import(run_cli, tmp_path, sheet)
    if expected > 0.2:
        assert result.exit_code == 2 and "row 2, expense ratio: '45%' reads as 45.00%, more than the plan format " \
            "takes (20.00%)" in result.stderr
    else:
        assert result.exit_code == 0 and yaml.safe_load(out.read_text())["menu"][0]["expense_ratio"] == expected


def test_a_formula_without_a_result_and_a_boolean_fee_are_said_in_words(tmp_path, run_cli):
    """Item 12: no Python repr (`True`, `None`, `'=A1'`) in the TODO text."""
    sheet = _workbook(tmp_path, sheets=[{"name": "S", "rows": [
        ["Fund Name", "Expense Ratio"], ["Formula Fund", '<c r="B2"><f>C2/100</f></c>'], ["Yes Fund", True]]}])
    result, out = _import(run_cli, tmp_path, sheet)
    assert result.exit_code == 0
    text = out.read_text()
    assert "# expense_ratio:     # TODO: a formula with no saved result (open the workbook in Excel and save it " \
        "again)" in text
    assert "# expense_ratio:     # TODO: the cell holds TRUE, a yes/no value, not a fee" in text
    nameless = _workbook(tmp_path, "nameless.xlsx", sheets=[{"name": "S", "rows": [
        ["Fund Name", "Expense Ratio"], ['<c r="A2"><f>X1</f></c>', "0.05%"]]}])
    refused, _ = _import(run_cli, tmp_path, nameless, "--force")
    assert refused.exit_code == 2 and refused.stderr == (
        f"{nameless}:2:1: row 2, fund name: a formula with no saved result (open the workbook in Excel and save it "
        "again)\n")


def test_a_workbook_that_is_not_a_zip_is_a_located_error(tmp_path, run_cli):
    sheet = tmp_path / "lineup.xlsx"
    sheet.write_text("Fund Name,Expense Ratio\nA,0.05%\n")
    result, _ = _import(run_cli, tmp_path, sheet)
    assert result.exit_code == 2 and result.stderr.startswith(f"{sheet}: not a readable .xlsx workbook (not a zip")
    damaged = tmp_path / "damaged.xlsx"
    raw = bytearray(xlsx_bytes([{"name": "S", "rows": [HEADER, ["A Fund", "X", "R6", "0.05%"]]}]))
    raw[raw.index(b"xl/worksheets/sheet1.xml") + 40] ^= 0xFF  # a byte of the compressed sheet flipped
    damaged.write_bytes(bytes(raw))
    broken, _ = _import(run_cli, tmp_path, damaged, "--force")
    assert broken.exit_code == 2 and "Traceback" not in broken.stderr and broken.stderr.startswith(str(damaged))


@pytest.mark.parametrize("cut", ["empty", "30 bytes", "half", "no central directory", "all but the last byte"])
def test_a_truncated_workbook_is_a_located_error(tmp_path, run_cli, cut):
    """A workbook cut short (a download or a copy that stopped) is refused as one located line: whichever part is
    lost, zipfile never sees a whole archive, and nothing is written."""
    raw = xlsx_bytes([{"name": "S", "rows": [HEADER, ["A Fund", "X", "R6", "0.05%"]]}])
    end = {"empty": 0, "30 bytes": 30, "half": len(raw) // 2, "no central directory": raw.rindex(b"PK\x01\x02"),
           "all but the last byte": len(raw) - 1}[cut]
    sheet = tmp_path / "lineup.xlsx"
    sheet.write_bytes(raw[:end])
    result, out = _import(run_cli, tmp_path, sheet)
    assert result.exit_code == 2 and not out.exists()
    assert result.stderr == (f"{sheet}: not a readable .xlsx workbook (not a zip archive); save it again from Excel "
                             "as .xlsx, or as CSV UTF-8\n")
