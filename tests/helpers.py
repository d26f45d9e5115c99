"""Helpers the tests import: where things are, the review date, and real plan and pack files written to disk."""

from __future__ import annotations

import copy
import functools
import sys
import textwrap
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any, NamedTuple, TypeVar

import yaml

from compliance.packtest import load_base, merge

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PLAN = ROOT / "examples" / "acme-401k.yaml"
TODAY = date(2026, 11, 22)
T = TypeVar("T")


def clean_plan() -> dict:
    return copy.deepcopy(load_base()[0])


def write_plan(folder: Path, patch: dict | None = None, name: str = "plan.yaml") -> Path:
    plan = merge(clean_plan(), patch or {})
    path = folder / name
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def write_pack(folder: Path, body: str, name: str = "pack.yaml") -> Path:
    """A pack layered on the bundled sources; `body` is YAML text for its rules/parameters."""
    header = textwrap.dedent("""\
        pack:
          id: test-pack
          title: Test pack
          version: "1"
          jurisdiction: test
          extends: [us-federal-sources]
        """)
    path = folder / name
    path.write_text(header + textwrap.dedent(body))
    return path


def xlsx_bytes(sheets: list[dict], active: int = 0, formats: tuple[str, ...] = (), parts: dict | None = None) -> bytes:
    """A real .xlsx workbook, written part by part so a test can make any shape, including damaged ones.

    Each sheet is {"name", "rows": [[cell, ...]], optional "state" ("hidden"), "hidden_rows" (row numbers),
    "hidden_columns" (1-based), "xml" (the whole worksheet part, raw)}. A cell is a str (a shared string), a
    number, a bool, None, ("style", value, n) for a number in the n-th of `formats` (1-based), or raw `<c ...>`
    text. `parts` adds or replaces parts by path (bytes or str)."""
    import io
    import zipfile
    from xml.sax.saxutils import escape, quoteattr

    shared: list[str] = []

    def cell(ref: str, value) -> str:
        if isinstance(value, str) and value.startswith("<c"):
            return value
        if isinstance(value, tuple):
            return f'<c r="{ref}" s="{value[2]}"><v>{value[1]}</v></c>'
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, (int, float)):
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        shared.append(value)
        return f'<c r="{ref}" t="s"><v>{len(shared) - 1}</v></c>'

    def column(n: int) -> str:
        return "" if n == 0 else column((n - 1) // 26) + chr(65 + (n - 1) % 26)

    main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    files: dict[str, str | bytes] = {}
    for i, sheet in enumerate(sheets, start=1):
        if "xml" in sheet:
            files[f"xl/worksheets/sheet{i}.xml"] = sheet["xml"]
            continue
        cols = "".join(f'<col min="{c}" max="{c}" hidden="1"/>' for c in sheet.get("hidden_columns", ()))
        hidden = ' hidden="1"'
        rows = "".join(
            f'<row r="{r}"{hidden if r in sheet.get("hidden_rows", ()) else ""}>'
            + "".join(cell(f"{column(c)}{r}", v) for c, v in enumerate(values, start=1) if v is not None) + "</row>"
            for r, values in enumerate(sheet["rows"], start=1))
        files[f"xl/worksheets/sheet{i}.xml"] = (f'<worksheet {main}>' + (f"<cols>{cols}</cols>" if cols else "")
                                                + f"<sheetData>{rows}</sheetData></worksheet>")
    entries = "".join(f'<sheet name={quoteattr(s["name"])} sheetId="{i}" r:id="rId{i}"'
                      f'{" state=" + quoteattr(s["state"]) if s.get("state") else ""}/>'
                      for i, s in enumerate(sheets, start=1))
    files["xl/workbook.xml"] = (f'<workbook {main} xmlns:r="{rel}"><bookViews><workbookView activeTab="{active}"/>'
                                f"</bookViews><sheets>{entries}</sheets></workbook>")
    sheet_rels = "".join(f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                         for i in range(1, len(sheets) + 1))
    files["xl/_rels/workbook.xml.rels"] = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' + sheet_rels
        + f'<Relationship Id="rS" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
        + f'<Relationship Id="rT" Type="{rel}/styles" Target="styles.xml"/></Relationships>')
    files["_rels/.rels"] = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                            f'<Relationship Id="r1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
                            "</Relationships>")
    files["xl/sharedStrings.xml"] = (f"<sst {main}>" + "".join(f"<si><t>{escape(s)}</t></si>" for s in shared)
                                     + "</sst>")
    numfmts = "".join(f'<numFmt numFmtId="{164 + i}" formatCode={quoteattr(f)}/>' for i, f in enumerate(formats))
    xfs = '<xf numFmtId="0"/>' + "".join(f'<xf numFmtId="{164 + i}"/>' for i in range(len(formats)))
    files["xl/styles.xml"] = f"<styleSheet {main}><numFmts>{numfmts}</numFmts><cellXfs>{xfs}</cellXfs></styleSheet>"
    files.update(parts or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for path, body in files.items():
            book.writestr(path, body)
    return out.getvalue()


class OverBudget(BaseException):
    """Raised inside the code under test when it runs more steps than its budget (a BaseException, so no
    `except Exception` in that code can take it for an input error)."""


def steps_within(budget: int, work: Callable[[], T]) -> tuple[T, int]:
    """Run `work`, counting the Python function calls and lines it runs, and stop it with OverBudget at the step
    past `budget`: a measure of work that no machine's speed or load changes, and that ends a run gone quadratic
    or exponential at once instead of waiting for it. (Work inside one built-in call is one step.)"""
    made = 0

    def step(frame: FrameType, event: str, arg: object) -> Callable[..., object] | None:
        nonlocal made
        if event in ("call", "line"):
            made += 1
            if made > budget:
                sys.settrace(None)
                raise OverBudget(f"more than {budget:,} steps")
        return step

    sys.settrace(step)
    try:
        result = work()
    finally:
        sys.settrace(None)
    return result, made


def compile_one(condition: str, *, fund_scope: bool = False, parameters: dict | None = None, require: bool = True):
    """ONE condition (YAML text) compiled as a rule's `require` (or, with require=False, its `select`/`when`) on the
    bundled parameters plus `parameters`, without writing a pack or compiling any: what an operator test needs."""
    from compliance.conditions import Context, compile_condition
    from compliance.loader import load_bytes
    from compliance.schemas.plan import field_catalog

    doc = load_bytes(condition.encode(), "condition.yaml")
    ctx = Context(doc, field_catalog(), {**_bundled_parameters(), **(parameters or {})}, fund_scope=fund_scope,
                  in_require=require)
    return compile_condition(doc.data, (), ctx)


def memory_plan(patch: dict | None = None) -> dict:
    """The clean plan with `patch` merged, validated as `check` validates a file, never written to disk."""
    from compliance.loader import load_bytes
    from compliance.schemas.plan import validate_plan

    text = yaml.safe_dump(merge(clean_plan(), patch or {}), sort_keys=False).encode()
    return validate_plan(load_bytes(text, "plan.yaml"))


def condition_status(condition: str, scope: str = "plan", patch: dict | None = None, parameters: dict | None = None,
                     as_of: date = TODAY) -> str:
    """The checklist status an error-level express-condition rule with this `require` gets on the clean plan (with
    `patch`): per plan or menu, the condition's truth; per fund, `fail` if it fails for any fund, else
    `undetermined` if any fund lacks a fact it needs, else `pass` (as the engine decides; see
    tests/engine/test_conditions.py, which checks this against full runs)."""
    from compliance.conditions import EvalScope

    predicate = compile_one(condition, fund_scope=scope == "fund", parameters=parameters)
    plan, cache = memory_plan(patch), {}  # type: ignore[var-annotated]
    funds = plan["menu"] if scope == "fund" else [None]
    verdicts = [predicate(EvalScope(plan, as_of, fund, cache=cache)) for fund in funds]
    return "fail" if False in verdicts else "undetermined" if None in verdicts else "pass"


@functools.cache
def _bundled_parameters() -> dict:
    from compliance import api

    return dict(api.load_rules(["bundled"]).parameters)


class PdfPage(NamedTuple):
    """One page of a PDF as pypdfium2 reads it, in plain values: its size in points, its text, and each
    character's box (left, bottom, right, top), indexed as the text is."""

    width: float
    height: float
    text: str
    boxes: list[tuple[float, float, float, float]]


def read_pdf(source: bytes | Path) -> list[PdfPage]:
    """Every page of a PDF, read with pypdfium2, whose objects are all closed again before this returns.

    pypdfium2 4.0 (the floor) frees a document, page or text page only through the cyclic collector; one that is
    still open when the interpreter exits is closed after pypdfium2 has destroyed its library, which crashes the
    process. A test therefore reads a PDF into plain values here and keeps no pypdfium2 object."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(source if isinstance(source, bytes) else str(source))
    pages = []
    try:
        for index in range(len(pdf)):
            page = pdf.get_page(index)
            try:
                chars = page.get_textpage()
                try:
                    width, height = page.get_size()
                    boxes = [chars.get_charbox(i) for i in range(chars.count_chars())]
                    pages.append(PdfPage(width, height, chars.get_text_range(), boxes))
                finally:
                    chars.close()
            finally:
                page.close()
    finally:
        pdf.close()
    return pages


def render_pdf_page(source: bytes | Path, index: int, scale: float = 1) -> Any:
    """One page of a PDF as a PIL image (a copy: nothing of pypdfium2 stays open, see `read_pdf`)."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(source if isinstance(source, bytes) else str(source))
    try:
        page = pdf.get_page(index % len(pdf))
        try:
            bitmap = page.render(scale=scale)
            try:
                return bitmap.to_pil().copy()
            finally:
                bitmap.close()
        finally:
            page.close()
    finally:
        pdf.close()
