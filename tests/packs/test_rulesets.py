"""One compiled ruleset per process, and how it travels: as a recipe to workers, as a digest in reports."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest

from compliance import api, rulesets
from compliance.batch import check_many
from compliance.model import RuleSet
from tests.helpers import EXAMPLE_PLAN, ROOT, TODAY


def test_the_same_packs_compile_once_per_process():
    first = api.load_rules(["bundled"])
    assert api.load_rules(["bundled"]) is first
    assert api.load_rules(["bundled"], settings_file="x/.compliance.yaml") is not first  # provenance differs


def test_a_ruleset_pickles_as_its_digest_and_comes_back_as_this_process_s_own():
    ruleset = api.load_rules(["bundled"])
    data = pickle.dumps(ruleset)
    assert len(data) < 200  # the digest, not 80 compiled rules
    assert pickle.loads(data) is ruleset
    report = api.check(EXAMPLE_PLAN, ruleset, TODAY).results()
    assert pickle.loads(pickle.dumps(report)).ruleset is ruleset


def test_a_process_that_never_built_the_ruleset_refuses_it_by_name():
    data = pickle.dumps(api.load_rules(["bundled"]))
    rulesets.forget()
    with pytest.raises(LookupError, match="has not built the ruleset"):
        pickle.loads(data)


def test_a_ruleset_changed_in_this_process_cannot_travel_and_says_so():
    changed = replace(api.load_rules(["bundled"]), parameters={})
    with pytest.raises(TypeError, match="made or changed in this process"):
        pickle.dumps(changed)
    empty = RuleSet(packs=(), rules=(), sources={}, parameters={})
    assert pickle.loads(pickle.dumps(empty)) == empty  # no rules: nothing to compile, it travels as it is


def test_the_recipe_holds_the_bytes_read_at_the_start(tmp_path):
    """A pack edited while a run goes on cannot give its workers other rules: they compile the recipe's bytes."""
    pack = tmp_path / "policy.yaml"
    pack.write_bytes((ROOT / "examples" / "sponsor-policy.yaml").read_bytes())
    made = rulesets.recipe(["bundled", pack])
    pack.write_text("not: a pack\n")
    assert "acme-ips" in [p.id for p in rulesets.build(made).packs]
    assert rulesets.build(made) is rulesets.build(made)


def test_worker_reports_come_back_holding_the_parent_s_ruleset(tmp_path):
    ruleset = api.load_rules(["bundled"])
    plans = [str(EXAMPLE_PLAN)] * 3
    local = list(check_many(plans, ruleset, TODAY, jobs=1))
    parallel = list(check_many(plans, ruleset, TODAY, jobs=2))
    assert all(r.ruleset is ruleset for r in parallel)
    assert [r.findings for r in parallel] == [r.findings for r in local]


def test_recipes_that_differ_anywhere_have_different_digests():
    pack, other = ("a.yaml", b"pack: 1\n"), ("b.yaml", b"pack: 2\n")
    recipes = [rulesets.Recipe((pack, other)), rulesets.Recipe((pack,), other), rulesets.Recipe((pack,)),
               rulesets.Recipe((pack,), None, "b.yaml"), rulesets.Recipe((pack, other), None, ""),
               rulesets.Recipe((("a\udcff.yaml", b"pack: 1\n"),))]  # a file name that is not UTF-8 still hashes
    assert len({r.digest for r in recipes}) == len(recipes) - 1  # no settings file and an empty name are one
    assert rulesets.Recipe((pack, other)).digest == recipes[0].digest
