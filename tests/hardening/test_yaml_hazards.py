"""YAML hazards: each gets a bounded, clear outcome (docs/security.md lists them)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from compliance.errors import InputError
from compliance.loader import MAX_ALIAS_TEXT, MAX_DEPTH, MAX_FILE_BYTES, load_bytes
from compliance.schemas.plan import validate_plan
from tests.helpers import EXAMPLE_PLAN, steps_within

BILLION_LAUGHS = b"""\
a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: [*g, *g, *g, *g, *g, *g, *g, *g, *g]
"""


def error_of(raw: bytes, validate: bool = False) -> str:
    with pytest.raises(InputError) as info:
        doc = load_bytes(raw, "h.yaml")
        if validate:
            validate_plan(doc)
    return "\n".join(str(p) for p in info.value.problems)


def refused_within(budget: int, raw: bytes) -> str:
    """The error, provided the refusal took at most `budget` steps (a count of work, not of seconds)."""
    return steps_within(budget, lambda: error_of(raw))[0]


def test_billion_laughs_is_refused_quickly():
    # located at the alias whose expansion crosses the limit: the third *f on line 7; aliases are counted, never
    # copied, so the refusal takes a few thousand steps
    assert refused_within(20_000, BILLION_LAUGHS) == \
        "h.yaml:7:16: document expands to more than 2,000,000 values (alias bomb?); refused"


def test_deep_nesting_is_refused():
    deep = b"a: " + b"[" * (MAX_DEPTH + 5) + b"]" * (MAX_DEPTH + 5) + b"\n"
    assert error_of(deep).endswith(f"nesting deeper than {MAX_DEPTH} levels; refused")


def test_very_deep_flow_nesting_is_refused_without_crashing():
    """Found by this test: 100,000 levels of [ crashed PyYAML's C composer (a segfault), now refused first."""
    deep = b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    assert error_of(deep) == f"h.yaml:1:{MAX_DEPTH + 4}: nesting deeper than {MAX_DEPTH} levels; refused"


def test_brackets_inside_quoted_text_are_not_nesting():
    text = "a: '" + "[" * 200 + "'\n"
    assert load_bytes(text.encode(), "q.yaml").data == {"a": "[" * 200}


def test_deepest_block_nesting_the_size_limit_allows_does_not_crash():
    depth = math.isqrt(2 * MAX_FILE_BYTES) - 10  # each level needs one more space: about depth**2 / 2 bytes
    text = "".join(" " * i + f"k{i}:\n" for i in range(depth)) + " " * depth + "v\n"
    assert MAX_FILE_BYTES - 100_000 < len(text) <= MAX_FILE_BYTES
    assert error_of(text.encode()).endswith(f"nesting deeper than {MAX_DEPTH} levels; refused")


def test_recursive_alias_is_refused():
    assert error_of(b"a: &a [*a]\n") == f"h.yaml:1:4: nesting deeper than {MAX_DEPTH} levels; refused"


def test_oversized_file_is_refused_before_parsing():
    big = b"a: " + b"x" * (MAX_FILE_BYTES + 1) + b"\n"
    assert error_of(big) == f"h.yaml: file is {len(big):,} bytes; the limit is {MAX_FILE_BYTES:,}"


def test_byte_order_mark_is_accepted():
    doc = load_bytes(b"\xef\xbb\xbf" + EXAMPLE_PLAN.read_bytes(), "bom.yaml")
    assert validate_plan(doc)["plan"]["name"] == "Acme Manufacturing 401(k) Savings Plan"


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/name:os.system", "!!binary",
                                 "!!set", "!custom"])
def test_unsafe_and_unknown_tags_are_refused(tag):
    assert "is not allowed; plan files use plain YAML values" in error_of(f"a: {tag} x\n".encode())


def test_merge_keys_merge_and_explicit_keys_win():
    doc = load_bytes(b"base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n", "m.yaml")
    assert doc.data["item"] == {"x": 1, "y": 3}


@pytest.mark.parametrize("number", [".nan", ".inf", "-.inf", ".NaN"])
def test_nan_and_infinity_are_not_numbers_the_plan_accepts(number):
    raw = EXAMPLE_PLAN.read_bytes().replace(b"expense_ratio: 0.0042", f"expense_ratio: {number}".encode(), 1)
    assert "must be a finite number (got NaN or infinity)" in error_of(raw, validate=True)


@pytest.mark.parametrize("written,hint", [
    ("2026/03/18", "must be a date (got '2026/03/18'; write YYYY-MM-DD)"),
    ("March 18, 2026", "must be a date (got 'March 18, 2026'; write YYYY-MM-DD)"),
    ("2026-02-30", "cannot read '2026-02-30' as !!timestamp"),
])
def test_dates_in_odd_forms(written, hint):
    raw = EXAMPLE_PLAN.read_bytes().replace(b"last_reviewed: 2026-03-18", f"last_reviewed: {written}".encode(), 1)
    assert hint in error_of(raw, validate=True)


def test_percent_strings_get_a_rewrite_hint():
    raw = EXAMPLE_PLAN.read_bytes().replace(b"expense_ratio: 0.0042", b"expense_ratio: '0.42%'", 1)
    assert "must be a number (got '0.42%'; write 0.0042)" in error_of(raw, validate=True)


def test_mapping_keys_must_be_scalars():
    assert error_of(b"? [a, b]\n: 1\n") == "h.yaml:1:3: mapping keys must be plain scalars"


def test_odd_keys_are_quoted_so_errors_stay_on_one_line():
    """Found by the property tests: a key holding a newline used to split the error message."""
    raw = EXAMPLE_PLAN.read_bytes() + b'"odd\\nkey": 1\n'
    message = error_of(raw, validate=True)
    assert "\n" not in message
    assert message.endswith("['odd\\nkey']: unknown field; allowed here: schema_version, plan, governance, "
                            "brokerage_window, default_investment, menu, waivers")


def test_control_characters_are_located_on_one_line():
    """Found by the atheris fuzzer (fuzz/corpus/regression-nul-bytes.yaml): NUL bytes gave an unlocated,
    two-line message."""
    raw = (Path(__file__).resolve().parents[2] / "fuzz" / "corpus" / "regression-nul-bytes.yaml").read_bytes()
    assert error_of(raw) == "h.yaml:3:4: control character U+0000 is not allowed in YAML; remove it"
    assert error_of(b"a: \x07bell\n") == "h.yaml:1:4: control character U+0007 is not allowed in YAML; remove it"


def test_nesting_built_up_through_aliases_is_refused():
    """Found by review: each anchor within the limit, each aliasing the one before, made lists 2,600 levels deep
    from a 6 KB file (past Python's recursion limit for anything that walks them)."""
    lines = ["a0: &a0 [x]"] + [f"a{k}: &a{k} " + "[" * 45 + f"*a{k - 1}" + "]" * 45 for k in range(1, 60)]
    assert error_of("\n".join(lines).encode() + b"\n") == \
        f"h.yaml:3:54: nesting deeper than {MAX_DEPTH} levels (through an alias); refused"
    assert load_bytes(b"a: &a [[x]]\nb: [[[*a]]]\n", "h.yaml").data["b"] == [[[[["x"]]]]]


def test_an_alias_at_the_deepest_level_still_counts_the_levels_it_brings():
    deep = b"a: &a [[x]]\nb: " + b"[" * (MAX_DEPTH - 2) + b"*a" + b"]" * (MAX_DEPTH - 2) + b"\n"
    assert error_of(deep) == f"h.yaml:2:{MAX_DEPTH + 2}: nesting deeper than {MAX_DEPTH} levels (through an alias); refused"


def test_long_sexagesimal_int_is_refused_quickly():
    """Found by review: `1:59:59:...` is an int in base 60 that PyYAML builds with one multiplication of an ever
    larger number per part, so the time grows with the square of the length (2.7 s for 384 KB, hours for 16 MB)."""
    # refused before PyYAML's constructor, which runs a loop over the parts (about 4 steps a part)
    assert refused_within(10_000, b"a: 1" + b":59" * 200_000 + b"\n").startswith("h.yaml:1:4: cannot read '1:59:59")


def test_int_too_large_to_show_is_refused():
    """Found by review: a 4,000-digit hex int read fine, then crashed the report, which could not print it
    (Python shows at most 4,300 decimal digits); a decimal one that long was already refused."""
    assert error_of(b"a: 0x" + b"f" * 4000 + b"\n") == \
        "h.yaml:1:4: cannot read '0xffffffffffffffffffffffffffffffffffffff'... (4,002 characters) as !!int"
    assert error_of(b"a: 1" + b"0" * 4400 + b"\n").startswith("h.yaml:1:4: cannot read '1000")
    assert load_bytes(b"a: 0x" + b"f" * 1000 + b"\n", "h.yaml").data["a"] == 16 ** 1000 - 1


def _aliased_name(name_length: int, funds: int, inside_a_list: bool = False) -> bytes:
    """A plan whose long fund name is anchored once and aliased by every other fund (or a list holding it)."""
    name = "x" * name_length
    anchor = f"&n [{name}]" if inside_a_list else f"&n {name}"
    use = "names: *n" if inside_a_list else "name: *n"
    first = f"  - {{id: f0, {'names' if inside_a_list else 'name'}: {anchor}}}\n"
    return ("schema_version: 1\nmenu:\n" + first
            + "".join(f"  - {{id: f{i}, {use}}}\n" for i in range(1, funds))).encode()


@pytest.mark.parametrize("inside_a_list", [False, True])
def test_a_long_scalar_repeated_through_aliases_is_refused(inside_a_list):
    """Found by the round-3 attack: a 1 MB name aliased by 2,000 funds reached 4 GB, then a MemoryError traceback.
    Aliased text counts at every use, alone or inside an aliased collection, against MAX_ALIAS_TEXT."""
    length = 40_000
    each = length + 5 if inside_a_list else length  # an anchored list counts what it spans: `&n [...]`
    crossing = MAX_ALIAS_TEXT // each + 1  # the alias that makes the repeated text pass the limit
    raw = _aliased_name(length, crossing + 10, inside_a_list)
    assert len(raw) < 100_000
    line = raw.decode().splitlines()[crossing + 2]  # fund `crossing` is on line crossing + 3
    assert line.startswith(f"  - {{id: f{crossing},")
    # about 230 steps a fund: the refusal comes at the crossing, and nothing repeats the text meanwhile
    assert refused_within(400 * crossing, raw) == (f"h.yaml:{crossing + 3}:{line.index('*n') + 1}: aliases repeat "
                                                  f"more than {MAX_ALIAS_TEXT:,} characters of text (alias bomb?); refused")


def test_aliased_text_within_the_limit_loads():
    length = 40_000
    raw = _aliased_name(length, MAX_ALIAS_TEXT // length - 1)
    doc = load_bytes(raw, "h.yaml")
    assert doc.data["menu"][-1]["name"] == "x" * length
