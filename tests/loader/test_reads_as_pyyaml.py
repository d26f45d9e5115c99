"""The loader builds values from libyaml's event stream itself: it must read every document as PyYAML's own
safe loader does, and locate every value and key where PyYAML's composed nodes start."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.errors import InputError
from compliance.loader import load_bytes
from tests.helpers import EXAMPLE_PLAN, ROOT

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
    st.text(max_size=12), st.dates(date(1900, 1, 1), date(2100, 1, 1)),
    st.datetimes(datetime(1990, 1, 1), datetime(2090, 1, 1)),
    st.sampled_from(["yes", "No", "~", "null", "0x1F", "0o17", "1_000", "190:20:30", "-.inf", ".NaN", "<<", "=",
                     "2026-11-22", "2026-11-22 10:00:00+02:00", "3(38)", "0.5%", "", " padded ", "a: b", "- x"]),
)
keys = st.one_of(st.text(max_size=8), st.integers(-1000, 1000))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(keys, inner, max_size=4)), max_leaves=30)
styles = st.sampled_from([{"default_flow_style": False}, {"default_flow_style": True}, {"default_style": '"'},
                          {"default_style": "'"}, {"width": 20}, {"allow_unicode": True}])


def same(a, b) -> bool:
    """Equal, with float NaN equal to itself and bools kept apart from ints."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    return type(a) is type(b) and a == b


def composed_positions(text: str) -> tuple[dict, dict]:
    """Where PyYAML's composer starts every value and key (documents without anchors or merge keys)."""
    positions, key_positions = {}, {}

    def walk(node, path):
        positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, path + (i,))
        elif isinstance(node, yaml.MappingNode):
            constructor = yaml.constructor.SafeConstructor()
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node)
                key_positions[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                walk(value_node, path + (key,))

    walk(yaml.compose(text, Loader=yaml.CSafeLoader), ())
    return positions, key_positions


@settings(max_examples=300, deadline=None)
@given(values, styles)
def test_any_document_reads_as_pyyaml_reads_it_with_the_same_positions(value, style):
    text = yaml.dump({"root": value, "other": [1, "two"]}, Dumper=yaml.SafeDumper, **style)
    doc = load_bytes(text.encode(), "p.yaml")
    assert same(doc.data, yaml.load(text, Loader=yaml.CSafeLoader))
    assert (doc.positions, doc.key_positions) == composed_positions(text)


@settings(max_examples=100, deadline=None)
@given(values)
def test_shared_values_written_as_anchors_and_aliases_read_the_same(value):
    shared = [value, {"k": value}]
    text = yaml.dump({"a": shared, "b": shared, "c": [shared, value]}, Dumper=yaml.SafeDumper)
    assert same(load_bytes(text.encode(), "p.yaml").data, yaml.load(text, Loader=yaml.CSafeLoader))


WRITTEN = [
    "a: 1\nb: 0x10\nc: 0o17\nd: 1_000\ne: 190:20:30\nf: +12\ng: -0\n",
    "a: 1.5\nb: 1e3\nc: -.inf\nd: 6.8523015e+5\ne: 685_230.15\nf: 190:20:30.15\n",
    "a: 2026-11-22\nb: 2026-11-22 10:00:00\nc: 2026-11-22T10:00:00.5+02:00\nd: 2026-11-22t10:00:00Z\n",
    "a: yes\nb: Off\nc: ~\nd:\ne: null\nf: NULL\ng: 'yes'\nh: \"1\"\n",
    "a: !!str 12\nb: !!int '12'\nc: !!float '1'\nd: ! 12\ne: !!null ''\nf: !!bool 'true'\n",
    "a: |\n  line one\n  line two\nb: >-\n  folded\n  text\nc: \"esc\\tape\\u00e9\"\nd: 'it''s'\n",
    "base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n",
    "inline:\n  <<: {a: 1, b: 2}\n  b: 3\n",
    "s: &s text\nl: &l [1, 2]\nuse: [*s, *l, *s]\n",
    "[1, [2, [3, {a: [4]}]], {b: c}]\n",
    "? a\n: 1\n? b\n: [2]\n",
    "- - - deep\n    - deeper\n  - x\n- {}\n- []\n",
    "---\na: 1\n...\n",
    "plain text\n",
    "\"quoted root\"\n",
    "1: one\n-1: minus\n\"1\": string one\n",
]


@pytest.mark.parametrize("text", WRITTEN)
def test_written_forms_read_as_pyyaml_reads_them(text):
    expected = yaml.load(text, Loader=yaml.CSafeLoader)
    assert same(load_bytes(text.encode(), "p.yaml").data, expected)


def test_in_a_list_of_merged_mappings_the_earlier_wins():
    """As the YAML merge-key spec says. PyYAML's own constructor lets a later mapping win for a key unless the two
    key strings happen to be one object in memory, so it is not the reference here."""
    text = b"one: &o {name: one, a: 1}\ntwo: &t {name: two, b: 2}\nboth:\n  <<: [*o, *t]\n  c: 3\n" \
           b"listed:\n  <<: [{name: first}, {name: second, c: 3}]\n"
    data = load_bytes(text, "m.yaml").data
    assert data["both"] == {"name": "one", "a": 1, "b": 2, "c": 3}
    assert data["listed"] == {"name": "first", "c": 3}


def test_the_bundled_plans_and_packs_read_as_pyyaml_reads_them():
    files = [EXAMPLE_PLAN, *sorted((ROOT / "rules").glob("*.yaml")), *sorted((ROOT / "tests" / "casebook").glob("*.yaml"))]
    for path in files:
        text = path.read_text()
        if "<<: [" not in text:  # see the test above
            assert same(load_bytes(path.read_bytes(), str(path)).data, yaml.load(text, Loader=yaml.CSafeLoader)), path
        if "&" not in text and "<<" not in text:
            doc = load_bytes(path.read_bytes(), str(path))
            assert (doc.positions, doc.key_positions) == composed_positions(text), path


def test_keys_that_yaml_reads_as_other_types_stay_as_written():
    doc = load_bytes(b"true: a\n2026-01-01: b\n1.50: c\nnull: d\n~: e\n7: f\n", "k.yaml")
    assert list(doc.data) == ["true", "2026-01-01", "1.50", "null", "~", 7]


def test_a_merged_value_is_located_at_the_merge_key_with_the_anchor_line_as_origin():
    doc = load_bytes(b"base: &b\n  x: 1\n  y: 2\nitem:\n  z: 0\n  <<: *b\n  y: 3\n", "m.yaml")
    assert doc.data["item"] == {"x": 1, "y": 3, "z": 0}
    x = doc.locate(("item", "x"))
    assert (x.line, x.column, x.origin) == (6, 3, 2)
    y = doc.locate(("item", "y"))  # written in the mapping itself: its own line, no origin
    assert (y.line, y.column, y.origin) == (7, 6, 0)


@pytest.mark.parametrize("text,message", [
    ("a: *nowhere\n", "m.yaml:1:4: YAML syntax error: found undefined alias 'nowhere'"),
    ("a: &x 1\nb: &x 2\n", "m.yaml:2:4: YAML syntax error: anchor &x is defined twice (first on line 1); rename one"),
    ("a: 1\n---\nb: 2\n", "m.yaml:2:1: a plan file holds one YAML document; this is a second one (after ---)"),
    ("a: <<\n", "m.yaml:1:4: YAML tag !!merge is not allowed; plan files use plain YAML values"),
    ("a:\n  <<: 5\n", "m.yaml:2:7: a merge key (<<) must name a mapping or a list of mappings"),
    ("a:\n  <<: [{x: 1}, 5]\n", "m.yaml:2:16: a merge key (<<) must name a mapping or a list of mappings"),
    ("l: &l [1]\na:\n  <<: *l\n", "m.yaml:3:7: a merge key (<<) must name a mapping or a list of mappings"),
    ("l: &l [1]\n*l : 2\n", "m.yaml:2:1: mapping keys must be plain scalars"),
    ("a: 1\na: 2\n", "m.yaml:2:1: duplicate key a (first defined on line 1); YAML keeps only the last one, so remove one"),
    ("a: !!set {x}\n", "m.yaml:1:4: YAML tag !!set is not allowed; plan files use plain YAML values"),
    ("!!binary x: 1\n", "m.yaml:1:1: mapping keys must be plain scalars"),
    ("", "m.yaml:1:1: file is empty"),
    ("# only a comment\n", "m.yaml:1:1: file is empty"),
])
def test_what_pyyaml_would_refuse_or_resolve_silently_is_a_located_error(text, message):
    with pytest.raises(InputError) as info:
        load_bytes(text.encode(), "m.yaml")
    assert [str(p) for p in info.value.problems] == [message]


def test_timestamps_with_zones_read_as_pyyaml_reads_them():
    doc = load_bytes(b"t: 2026-11-22 10:00:00+02:00\n", "t.yaml")
    assert doc.data["t"] == datetime(2026, 11, 22, 10, tzinfo=timezone(timedelta(hours=2)))


@pytest.mark.parametrize("text,message", [
    ("a: !!timestamp soon\n", "t.yaml:1:4: cannot read 'soon' as !!timestamp"),
    ("a: !!bool maybe\n", "t.yaml:1:4: cannot read 'maybe' as !!bool"),
    ("a: !!int ''\n", "t.yaml:1:4: cannot read '' as !!int"),
    ("a: !!int '-'\n", "t.yaml:1:4: cannot read '-' as !!int"),
    ("a: !!float ''\n", "t.yaml:1:4: cannot read '' as !!float"),
    ("!!bool maybe: 1\n", "t.yaml:1:1: cannot read 'maybe' as !!bool"),
])
def test_a_tagged_scalar_its_type_cannot_read_is_a_located_error(text, message):
    """Found by review: PyYAML's constructors fail on these with KeyError, IndexError or AttributeError (not
    ValueError), which escaped the loader as a crash."""
    with pytest.raises(InputError) as info:
        load_bytes(text.encode(), "t.yaml")
    assert [str(p) for p in info.value.problems] == [message]


def test_a_value_merged_from_an_anchor_inside_a_merged_mapping_has_the_anchor_line_as_origin():
    """Found by review: the anchor's positions were looked up in the document's, where a mapping written after
    `<<:` records none, so the origin was lost."""
    doc = load_bytes(b"a:\n  <<:\n    inner: &i\n      x: 1\nb:\n  <<: *i\n", "m.yaml")
    assert doc.data["b"] == {"x": 1}
    x = doc.locate(("b", "x"))
    assert (x.line, x.column, x.origin) == (6, 3, 4)
