"""Property-based tests: generated plans and packs, valid and not, never crash the tool.

Every outcome is either success or an InputError whose problems are located, one line each; and the fast
validator never disagrees with Cerberus, which stays the authority on the format.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from compliance import api
from compliance.engine import evaluate
from compliance.errors import InputError
from compliance.loader import load_bytes
from compliance.packs import BUNDLED_RULES
from compliance.schemas.pack import PACK_VALIDATOR
from compliance.schemas.plan import PLAN_VALIDATOR, validate_plan
from tests.helpers import ROOT, TODAY, clean_plan

pytestmark = pytest.mark.slow

RULES = api.load_rules(["bundled"])
SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow])  # example counts come from the profile (conftest)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**9), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.dates(date(1900, 1, 1), date(2100, 1, 1)),
    st.sampled_from(["401k", "daily", "target_date", "cit", "0.5%", "3(38)", "", "yes", "12-3456789", "001"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)


def paths(value, prefix=()):
    """Every path inside a nested structure, for mutations to aim at."""
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from paths(inner, prefix + (i,))


@st.composite
def mutated(draw, base_factory):
    doc = base_factory()
    for _ in range(draw(st.integers(0, 4))):
        targets = [p for p in paths(doc) if p]
        if not targets:  # everything deleted: the empty document is itself a case
            break
        path = draw(st.sampled_from(targets))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["set", "delete", "add"]))
        if action == "delete" and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(values)
        else:
            parent[path[-1]] = draw(values)
    return doc


def _with(doc: dict, section: str, field: str, value) -> dict:
    doc[section][field] = value
    return doc


@SETTINGS
@given(mutated(clean_plan))
@example({**clean_plan(), "schema_version": False})  # Cerberus alone counts booleans as integers
@example(_with(clean_plan(), "plan", "participants", True))
def test_fast_plan_check_agrees_with_cerberus(doc):
    assert PLAN_VALIDATOR.accepts(doc) == PLAN_VALIDATOR.cerberus.validate(copy.deepcopy(doc))


# Packs to mutate, each with the packs it is loaded on top of; none of those depends on the mutated one, so every
# error must be located in the mutated file.
EXAMPLES = ROOT / "examples"
LAYERED = {path: [str(BUNDLED_RULES / "sources.yaml")] for path in sorted(BUNDLED_RULES.glob("*.yaml"))
           if path.name != "sources.yaml"}
LAYERED[EXAMPLES / "starter-pack.yaml"] = [str(BUNDLED_RULES / "sources.yaml")]
LAYERED[EXAMPLES / "sponsor-policy.yaml"] = ["bundled"]
PACKS = {path: yaml.safe_load(path.read_text()) for path in LAYERED}
# (the pack a document was mutated from, the document)
mutated_packs = st.sampled_from(sorted(PACKS)).flatmap(
    lambda path: st.tuples(st.just(path), mutated(lambda: copy.deepcopy(PACKS[path]))))


@SETTINGS
@given(mutated_packs)
def test_fast_pack_check_agrees_with_cerberus(case):
    _, doc = case
    assert PACK_VALIDATOR.accepts(doc) == PACK_VALIDATOR.cerberus.validate(copy.deepcopy(doc))


@SETTINGS
@given(mutated(clean_plan))
def test_any_plan_is_checked_or_refused_with_located_errors(doc):
    try:
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()
    except yaml.YAMLError:
        return
    try:
        parsed = load_bytes(text, "gen.yaml")
        evaluate(RULES, validate_plan(parsed), parsed, TODAY)
    except InputError as exc:
        for problem in exc.problems:
            assert problem.location.file == "gen.yaml"
            assert "\n" not in problem.message and problem.message


@SETTINGS
@given(st.binary(max_size=400), st.integers(0, 3000))
def test_arbitrary_bytes_spliced_into_a_plan(noise, at):
    raw = (clean_plan_bytes[:at] + noise + clean_plan_bytes[at:])
    try:
        doc = load_bytes(raw, "noise.yaml")
        evaluate(RULES, validate_plan(doc), doc, TODAY)
    except InputError as exc:
        assert all(p.location.file == "noise.yaml" for p in exc.problems)


clean_plan_bytes = yaml.safe_dump(clean_plan(), sort_keys=False).encode()


@SETTINGS
@given(mutated_packs)
@example((EXAMPLES / "sponsor-policy.yaml", {}))  # every key deleted: the generator used to fail on it (seed 13)
def test_any_pack_loads_or_is_refused_with_located_errors(tmp_path_factory, case):
    original, doc = case
    path = tmp_path_factory.mktemp("pack") / "gen.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    try:
        api.load_rules([*LAYERED[original], str(path)])
    except InputError as exc:
        assert exc.problems and all(p.message and "\n" not in p.message for p in exc.problems)
        assert all(p.location.file.endswith("gen.yaml") for p in exc.problems), [str(p) for p in exc.problems]
