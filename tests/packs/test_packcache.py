"""The on-disk pack cache: a hit gives exactly what parsing gives, and a bad or stale entry is never believed."""

from __future__ import annotations

import json
import math
import os
import shutil
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance import api, packcache, rulesets
from compliance.errors import InputError
from compliance.loader import load_bytes
from compliance.packs import BUNDLED_RULES, discover
from compliance.report import get_format
from tests.helpers import EXAMPLE_PLAN, ROOT, TODAY

ALL_PACKS = discover(["bundled", ROOT / "examples" / "sponsor-policy.yaml", ROOT / "examples" / "starter-pack.yaml"])


def load_afresh(packs):
    """The packs loaded as a new process would: through the pack cache, not the rulesets this one compiled."""
    rulesets.forget()
    return api.load_rules(packs)


@contextmanager
def cache_at(folder: Path | str):
    old = os.environ.get(packcache.ENV)
    os.environ[packcache.ENV] = str(folder)
    rulesets.forget()  # rules compiled before came through another cache
    try:
        yield Path(folder)
    finally:
        os.environ[packcache.ENV] = old if old is not None else ""


def payload_of(entry: Path) -> dict:
    """An entry's JSON, after the line that authenticates it."""
    return json.loads(entry.read_bytes().partition(b"\n")[2])


def same_document(a, b) -> bool:
    return (a.file == b.file and a.text == b.text and packcache._same(a.data, b.data)
            and list(a.positions.items()) == list(b.positions.items())
            and list(a.key_positions.items()) == list(b.key_positions.items())
            and list(a.origins.items()) == list(b.origins.items()))


@pytest.mark.parametrize("path", ALL_PACKS, ids=lambda p: p.name)
def test_a_hit_is_exactly_the_parsed_document(tmp_path, path):
    raw = path.read_bytes()
    with cache_at(tmp_path):
        assert packcache.get(raw, "p.yaml") is None
        fresh = load_bytes(raw, "p.yaml")
        packcache.put(fresh)
        assert len(list(tmp_path.glob("*.json"))) == 1
        hit = packcache.get(raw, "p.yaml")
    assert hit is not fresh and same_document(hit, fresh)


def test_rules_and_results_are_the_same_with_and_without_the_cache(tmp_path):
    packs = ["bundled", str(ROOT / "examples" / "sponsor-policy.yaml")]
    with cache_at("off"):
        uncached = load_afresh(packs)
    with cache_at(tmp_path / "cache") as folder:
        first = load_afresh(packs)  # misses: each pack is stored
        assert len(list(folder.glob("*.json"))) == len(discover(packs))
        second = load_afresh(packs)  # hits
    shape = lambda rs: [(r.id, r.severity, r.message, r.location, r.citations, r.tests) for r in rs.rules]  # noqa: E731
    for ruleset in (first, second):
        assert shape(ruleset) == shape(uncached)
        assert ruleset.packs == uncached.packs and ruleset.parameters == uncached.parameters
        report = api.check(EXAMPLE_PLAN, ruleset, TODAY)
        render_json = get_format("json").render
        assert render_json([report]) == render_json([api.check(EXAMPLE_PLAN, uncached, TODAY)])


def test_an_edited_pack_is_never_served_stale(tmp_path):
    pack = tmp_path / "sponsor.yaml"
    shutil.copy(ROOT / "examples" / "sponsor-policy.yaml", pack)
    sources = str(BUNDLED_RULES)
    with cache_at(tmp_path / "cache"):
        before = load_afresh([sources, str(pack)])
        text = pack.read_text()
        assert "Acme Manufacturing investment policy statement (2026)" in text
        pack.write_text(text.replace("Acme Manufacturing investment policy statement (2026)", "Acme Manufacturing investment policy statement (2027)", 1))
        after = load_afresh([sources, str(pack)])
    titles = lambda rs: [p.title for p in rs.packs if p.file.endswith("sponsor.yaml")]  # noqa: E731
    assert titles(before) == ["Acme Manufacturing investment policy statement (2026)"]
    assert titles(after) == ["Acme Manufacturing investment policy statement (2027)"]


def test_an_invalid_pack_is_not_cached_and_still_reported_with_its_line(tmp_path):
    pack = tmp_path / "bad.yaml"
    pack.write_text((ROOT / "examples" / "starter-pack.yaml").read_text().replace("severity: warning", "severity: fatal", 1))
    with cache_at(tmp_path / "cache") as folder:
        for _ in range(2):
            with pytest.raises(InputError) as caught:
                load_afresh([str(BUNDLED_RULES / "sources.yaml"), str(pack)])
            assert "severity: 'fatal' is not one of" in str(caught.value)
        assert len(list(folder.glob("*.json"))) == 1  # sources.yaml only


CORRUPTIONS = {
    "empty": b"",
    "truncated": None,  # the first half of the real entry
    "not json": b"\x00\xffnot json",
    "a list": b"[1, 2, 3]",
    "other format": json.dumps({"format": 999, "data": {}, "positions": [], "key_positions": []}).encode(),
    "wrong shapes": json.dumps({"format": 1, "data": {"pack": 1}, "positions": [[1]], "key_positions": 7}).encode(),
    "not a pack": json.dumps({"format": 1, "data": {"pack": {"id": "x"}}, "positions": [], "key_positions": []}).encode(),
    "bad date": b'{"format": 1, "data": {"$date": "2025-13-45"}, "positions": [], "key_positions": []}',
    "unhashable key": b'{"format": 1, "data": {"$map": [[[1], 2]]}, "positions": [], "key_positions": []}',
    "deep": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_a_damaged_entry_is_ignored_and_rebuilt(tmp_path, kind):
    pack = str(ROOT / "examples" / "starter-pack.yaml")
    with cache_at(tmp_path):
        expected = load_afresh(["bundled", pack])
        for entry in tmp_path.glob("*.json"):
            damaged = CORRUPTIONS[kind]
            entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2] if damaged is None else damaged)
        again = load_afresh(["bundled", pack])
        assert all(payload_of(e)["format"] == packcache._FORMAT for e in tmp_path.glob("*.json"))  # rewritten whole
    assert [(r.id, r.location) for r in again.rules] == [(r.id, r.location) for r in expected.rules]
    assert again.packs == expected.packs


def test_an_unusable_cache_folder_only_costs_speed(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with cache_at(blocker / "cache"):
        assert len(load_afresh(["bundled"]).rules) > 0
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o500)
    try:
        with cache_at(readonly):
            assert len(load_afresh(["bundled"]).rules) > 0
        if os.geteuid() != 0:  # root writes anyway; the point is that no error escapes
            assert list(readonly.iterdir()) == []
    finally:
        readonly.chmod(0o700)


def test_off_means_no_file_is_written(tmp_path):
    home = tmp_path / "home"
    with cache_at("off"):
        os.environ["XDG_CACHE_HOME"] = str(home)
        try:
            assert packcache.folder() is None
            load_afresh(["bundled"])
        finally:
            del os.environ["XDG_CACHE_HOME"]
    assert not home.exists()


def test_default_folder_follows_xdg(tmp_path):
    with cache_at(""):
        os.environ["XDG_CACHE_HOME"] = str(tmp_path)
        try:
            assert packcache.folder() == tmp_path / "plan-compliance" / "packs"
        finally:
            del os.environ["XDG_CACHE_HOME"]


def test_old_entries_are_pruned(tmp_path, monkeypatch):
    monkeypatch.setattr(packcache, "MAX_ENTRIES", 3)
    with cache_at(tmp_path):
        raws = [f"pack: {{id: p{n}}}\n".encode() for n in range(6)]
        for n, raw in enumerate(raws):
            packcache.put(load_bytes(raw, "p.yaml"))
            os.utime(packcache._entry(raw)[0], (n, n))  # a clear age order
        assert len(list(tmp_path.glob("*.json"))) == 3
        assert [packcache.get(raw, "p.yaml") is not None for raw in raws] == [False] * 3 + [True] * 3


# Values YAML can produce, including the ones JSON cannot carry as they are: int keys, dates, datetimes, NaN,
# and keys and strings that look like the cache's own tags.
keys = st.one_of(st.text(max_size=6), st.integers(-5, 5), st.sampled_from(["$date", "$map", "$datetime", "$x"]))
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.sampled_from(["$date", "2025-01-01", "1.0", "true"]),
    st.dates(date(1, 1, 1), date(9999, 12, 31)),
    st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-5))])),
)
documents = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(keys, inner, max_size=3)), max_leaves=8)


@pytest.mark.slow
@settings(max_examples=2 * settings.default.max_examples)  # 300 per run; more under the "deep" profile
@given(st.dictionaries(keys, documents, min_size=1, max_size=3))
def test_any_yaml_document_reads_back_exactly(tmp_path_factory, value):
    try:
        raw = yaml.safe_dump(value, allow_unicode=True).encode()
        fresh = load_bytes(raw, "gen.yaml")
    except (yaml.YAMLError, InputError, ValueError):
        return
    folder = tmp_path_factory.mktemp("cache")
    with cache_at(folder):
        packcache.put(fresh)
        hit = packcache.get(raw, "gen.yaml")
    assert len(list(folder.glob("*.json"))) == 1 and hit is not None  # whatever the loader builds, JSON carries
    assert same_document(hit, fresh)


def test_the_tag_encoding_keeps_types_apart():
    value = {"a": [1, 1.0, True, None, "1", date(2025, 1, 2), datetime(2025, 1, 2, 3, 4, tzinfo=UTC)],
             7: {"$date": "2025-01-01"}, "nan": math.nan}
    again = json.loads(json.dumps(packcache._encode(value)), object_hook=packcache._decode_tags)
    assert packcache._same(again, value)
    assert not packcache._same({"a": 1}, {"a": True}) and not packcache._same([1], [1.0])


# The cache must never change a verdict: an attacker can compute entry names (public salt, public pack bytes) and
# write to the cache folder, but cannot produce an entry's authentication without the user's secret key.

def _tamper(entry: Path) -> None:
    """Rewrite an entry as an attacker would: every rule demoted to info, the genuine authentication kept."""
    mac, _, payload = entry.read_bytes().partition(b"\n")
    stored = json.loads(payload)
    for rule in stored["data"].get("rules", []):
        rule["severity"] = "info"
    entry.write_bytes(mac + b"\n" + json.dumps(stored).encode())


def test_a_tampered_entry_cannot_change_the_verdict(tmp_path, run_cli):
    with cache_at(tmp_path):
        expected = run_cli("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22", "--format", "json")
        assert expected.exit_code == 1
        entries = list(tmp_path.glob("*.json"))
        assert entries
        for entry in entries:
            _tamper(entry)
        rulesets.forget()  # as a new process: the rules come through the tampered cache
        again = run_cli("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22", "--format", "json")
    assert again.exit_code == 1 and again.stdout == expected.stdout


def test_an_entry_forged_without_the_key_is_ignored(tmp_path):
    pack = BUNDLED_RULES / "erisa-menu.yaml"
    raw = pack.read_bytes()
    with cache_at(tmp_path):
        packcache.put(load_bytes(raw, "p.yaml"))
        (entry,) = tmp_path.glob("*.json")
        forged = load_bytes(raw, "p.yaml")
        forged.data["rules"] = []
        body = json.dumps({"format": packcache._FORMAT, "data": forged.data, "positions": [],
                           "key_positions": []}, default=str).encode()
        # the old scheme (no authentication) and a guessed key both fail
        for content in (body, packcache._mac(b"\0" * packcache.KEY_BYTES, entry, body) + b"\n" + body):
            entry.write_bytes(content)
            assert packcache.get(raw, "p.yaml") is None


def test_a_genuine_entry_moved_to_another_packs_name_is_ignored(tmp_path):
    a, b = (BUNDLED_RULES / "erisa-menu.yaml").read_bytes(), (BUNDLED_RULES / "digital-assets.yaml").read_bytes()
    with cache_at(tmp_path):
        packcache.put(load_bytes(a, "a.yaml"))
        packcache.put(load_bytes(b, "b.yaml"))
        entry_a, entry_b = packcache._entry(a)[0], packcache._entry(b)[0]
        entry_b.write_bytes(entry_a.read_bytes())  # a real entry, authenticated for another name
        assert packcache.get(b, "b.yaml") is None
        assert packcache.get(a, "a.yaml") is not None


@pytest.mark.parametrize("start", ["checkout/plans", "elsewhere"])
def test_a_cache_folder_inside_a_working_tree_is_never_used(tmp_path, monkeypatch, start):
    """Issue 27, item 18: the rule held only for the checkout holding the current folder; now wherever the run
    starts."""
    checkout = tmp_path / "checkout"
    (checkout / ".git").mkdir(parents=True)
    (checkout / "plans").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "link").symlink_to(checkout)
    monkeypatch.chdir(tmp_path / start)
    for inside in (checkout / ".cache", tmp_path / "link" / "cache"):  # links are resolved
        with cache_at(inside):
            assert packcache.folder() is None
            load_afresh(["bundled"])
    assert sorted(p.name for p in checkout.iterdir()) == [".git", "plans"]
    with cache_at(tmp_path / "outside"):
        assert packcache.folder() == tmp_path / "outside"


def test_the_key_must_be_private_and_apart_from_the_cache(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    packcache._load_key.cache_clear()
    raw = (BUNDLED_RULES / "erisa-menu.yaml").read_bytes()
    try:
        with cache_at(tmp_path / "cache"):
            packcache.put(load_bytes(raw, "p.yaml"))
            key = packcache.key_path()
            assert key.read_bytes() and key.stat().st_mode & 0o777 == 0o600
            assert packcache.get(raw, "p.yaml") is not None
            key.chmod(0o644)  # readable by others: anyone could forge entries
            packcache._load_key.cache_clear()
            assert packcache.get(raw, "p.yaml") is None
        key.chmod(0o600)
        packcache._load_key.cache_clear()
        with cache_at(data):  # a cache folder that holds the key: its writers could replace the key
            assert packcache._entry(raw) is None
    finally:
        packcache._load_key.cache_clear()


def test_a_fifo_in_place_of_an_entry_does_not_hang(tmp_path):
    raw = (BUNDLED_RULES / "erisa-menu.yaml").read_bytes()
    with cache_at(tmp_path):
        entry = packcache._entry(raw)[0]
        os.mkfifo(entry)
        assert packcache.get(raw, "p.yaml") is None


# Issue 27, item 18

MERGED_RULE_PACK = """\
pack: {id: test-pack, title: Test pack, version: "1", jurisdiction: test, extends: [us-federal-sources]}
rules:
  - &base
    id: test.rule
    title: T
    headline: H
    checks: express_condition
    relies_on: r
    severity: error
    scope: fund
    require: {field: fund.expense_ratio, lt: 1}
    message: m
    remediation: r
    citations: [{source: erisa-404a, pinpoint: p}]
  - <<: *base
    id: test.rule2
    scope: plan
"""


def test_a_cached_pack_still_names_the_anchor_a_merged_value_comes_from(tmp_path, run_cli):
    """The second run read the pack from the cache, which kept no anchor lines: the error lost its suffix."""
    pack = tmp_path / "pack.yaml"
    pack.write_text(MERGED_RULE_PACK)
    with cache_at(tmp_path / "cache") as folder:
        runs = [run_cli("check", str(EXAMPLE_PLAN), "--rules", "bundled", "--rules", str(pack)) for _ in range(2)]
        assert len(list(folder.glob("*.json"))) == len(discover(["bundled"])) + 1  # the second run was a hit
    assert [r.exit_code for r in runs] == [2, 2]
    assert runs[0].stderr == runs[1].stderr == (
        f"{pack}:15:5: rules[1].require.field: fund.expense_ratio: 'fund.' fields need scope: fund, or an "
        f"aggregate's where (the value comes from the anchor on line 11)\n")


def test_the_cache_setting_expands_the_home_folder_and_ignores_spaces(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    with cache_at("~/c"):
        assert packcache.folder() == tmp_path / "home" / "c"
        load_afresh(["bundled"])
    assert list((tmp_path / "home" / "c").glob("*.json")) and not (tmp_path / "~").exists()
    for setting in (" off", "off ", " OFF\n"):
        with cache_at(setting):
            assert packcache.folder() is None
            load_afresh(["bundled"])
    with cache_at(f"  {tmp_path / 'spaced'}  "):
        assert packcache.folder() == tmp_path / "spaced"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]


def test_a_cache_that_cannot_be_written_says_so_when_asked(tmp_path, run_cli):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with cache_at(blocker / "cache"):
        quiet = run_cli("check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22")
        rulesets.forget()  # as a new process: the rules go through the cache again
        verbose = run_cli("--verbose", "check", str(EXAMPLE_PLAN), "--as-of", "2026-11-22")
    assert quiet.exit_code == verbose.exit_code == 1 and quiet.stdout == verbose.stdout
    assert quiet.stderr == ""
    lines = verbose.stderr.splitlines()
    assert len(lines) == len(discover(["bundled"]))  # one per pack it could not store
    assert all(line.startswith(f"compliance: pack cache: cannot write {blocker}/cache/") and
               line.endswith(".json: Not a directory") for line in lines)
