"""Property-based fuzzing (Hypothesis) of `compliance import`: generated and damaged CSV and .xlsx line-ups.

    python fuzz/fuzz_import.py --minutes 30            # explore for 30 minutes, new examples each run
    python fuzz/fuzz_import.py --examples 2000 --seed 1

Line-ups are built from the shapes recordkeepers send (known headers, fees in every form, percent and
literal-percent number formats, hidden sheets, rows and columns, formulas without results, booleans) and from
hostile ones (YAML-like tickers, control characters, other encodings, damaged XML and zips, spliced bytes).
The only acceptable outcomes: an InputError whose problems are each one non-empty line, or a plan file that
loads and validates as it stands (no input error) and holds every fund's name exactly as the sheet gave it.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compliance.errors import InputError  # noqa: E402
from compliance.lineup import plan_yaml, read_lineup  # noqa: E402
from compliance.loader import load_bytes  # noqa: E402
from compliance.schemas.plan import validate_plan  # noqa: E402
from tests.helpers import xlsx_bytes  # noqa: E402

HEADERS = ["Fund Name", "Investment Name", "Ticker", "Symbol", "Share Class", "Category", "Asset Class",
           "Expense Ratio", "Net Expense Ratio", "Investment Type", "Revenue Sharing", "Default", "QDIA",
           "Benchmark", "CUSIP", "Notes"]
TRICKY = ["-", "123", "yes", "null", "0x1F", ".inf", "2024-01-01", "1_000", "~", "&a", "*a", "!!python/x", "::error::x",
          "# c", "a: b", "'", '"', "\n", "\r", "\x00", "\x85", "\u2028", "\u202e", "\ufeff", "%", "0.45", "45 bp",
          "0.45%", "R4", "Investor A", "Trust", "CIT", "Large Blend", "Target-Date 2050", "Mutual Fund", "X", "TRUE"]
TEXT = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12),
                 st.text(alphabet="ABCXYZ019.-%# :'\"\n", max_size=8))
CELL = st.one_of(st.none(), TEXT, st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**20, 10**20),
                 st.booleans())
FORMATS = ["0.00%", '0.00"%"', "0.00\\%", "0%", "General", "0.000", '[Red]0.00%;"x"', '"%"0', "0.0_%", "*%0"]


def _rows(draw: st.DrawFn) -> list[list]:
    header = draw(st.lists(st.one_of(st.sampled_from(HEADERS), TEXT), min_size=1, max_size=8))
    body = draw(st.lists(st.lists(CELL, max_size=len(header) + 1), max_size=8))
    return [header, *body]


@st.composite
def csv_lineups(draw: st.DrawFn) -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=draw(st.sampled_from(",;\t|"))).writerows(
        [["" if c is None else c for c in row] for row in _rows(draw)])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"]))
    raw = text.getvalue().encode(encoding, errors="replace")
    return _damage(draw, raw)


@st.composite
def xlsx_lineups(draw: st.DrawFn) -> bytes:
    formats = tuple(draw(st.lists(st.sampled_from(FORMATS), max_size=4)))
    sheets = []
    for i in range(draw(st.integers(1, 3))):
        rows = [[("style", c, draw(st.integers(1, len(formats)))) if formats and isinstance(c, float)
                 and c == c and abs(c) != float("inf") and draw(st.booleans()) else _xlsx_cell(c) for c in row]
                for row in _rows(draw)]
        sheets.append({"name": f"S{i}", "rows": rows, "state": draw(st.sampled_from([None, "hidden", "veryHidden"])),
                       "hidden_rows": set(draw(st.lists(st.integers(1, 9), max_size=3))),
                       "hidden_columns": draw(st.lists(st.integers(1, 9), max_size=2))})
    parts = draw(st.sampled_from([None, "formula", "dtd", "bad-ref", "bad-number"]))
    extra = {}
    if parts == "formula":
        sheets[0]["rows"].append(["Formula Fund", '<c r="B99"><f>1/0</f></c>'])
    elif parts == "dtd":
        extra["xl/sharedStrings.xml"] = ('<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                                         '<sst><si><t>&b;</t></si></sst>')
    elif parts == "bad-ref":
        sheets[0]["rows"].append([f'<c r="{draw(st.sampled_from(["ZZZZ2", "A0", "A99999999", "1A", "a1"]))}">'
                                  "<v>1</v></c>"])
    elif parts == "bad-number":
        sheets[0]["rows"].append(["Fund", '<c r="B50" t="n"><v>abc</v></c>'])
    raw = xlsx_bytes(sheets, active=draw(st.integers(0, 3)), formats=formats, parts=extra)
    return _damage(draw, raw)


def _xlsx_cell(value: object) -> object:
    if isinstance(value, str):
        return "".join(c for c in value if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff"
                                                              and not "\ud800" <= c <= "\udfff")) or None
    if isinstance(value, float) and (value != value or abs(value) == float("inf")):
        return None
    return value


def _damage(draw: st.DrawFn, raw: bytes) -> bytes:
    """Most inputs whole; some truncated or with bytes spliced in."""
    how = draw(st.sampled_from(["whole"] * 6 + ["truncate", "splice"]))
    if how == "truncate" and raw:
        return raw[:draw(st.integers(0, len(raw) - 1))]
    if how == "splice" and raw:
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.binary(min_size=1, max_size=16)) + raw[at:]
    return raw


def check_one(raw: bytes, suffix: str, numbers: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"lineup{suffix}"
        path.write_bytes(raw)
        try:
            lineup = read_lineup(path, numbers=numbers)
        except InputError as exc:
            for problem in exc.problems:
                assert problem.message and "\n" not in str(problem), repr(problem)
            return
        text = plan_yaml(lineup, None)
        try:
            plan = validate_plan(load_bytes(text.encode(), "plan.yaml"))
        except InputError as exc:
            raise AssertionError(f"the written plan does not load: {exc}\n{text}") from None
        written = [f["name"] for f in plan["menu"]]
        assert written == [f.values["name"] for f in lineup.funds], (written, text)


def run(examples: int, deadline: float | None, random_seed: int | None) -> int:
    count = 0

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(csv_lineups().map(lambda r: (r, ".csv")), xlsx_lineups().map(lambda r: (r, ".xlsx"))),
           st.sampled_from([None, "fraction", "percent"]))
    def property_(sample: tuple[bytes, str], numbers: str | None) -> None:
        nonlocal count
        count += 1
        check_one(sample[0], sample[1], numbers)

    if random_seed is not None:
        property_ = seed(random_seed)(property_)
    while True:
        property_()
        if deadline is None or time.monotonic() > deadline:
            return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=None, help="explore for this long (rounds of --examples)")
    parser.add_argument("--examples", type=int, default=1000, help="examples per round")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    start = time.monotonic()
    deadline = start + args.minutes * 60 if args.minutes else None
    count = run(args.examples, deadline, args.seed)
    print(f"{count:,} examples in {time.monotonic() - start:.0f} s, no failure")


if __name__ == "__main__":
    main()
