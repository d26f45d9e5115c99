"""One compiled ruleset per process, and the form in which a ruleset travels to another process.

Compiled rules are closures, which pickle cannot carry. A ruleset therefore travels as its `Recipe`: the bytes of
its packs under the names every output shows, a scenario's bytes when it has one, and the settings file it came
with. A process compiles a recipe once and keeps the result under the recipe's digest (`build`); a `RuleSet`
pickles as that digest alone (`model.RuleSet.__reduce__`), so a report a worker sends back carries 64 characters
for its rules and arrives holding the receiving process's own compiled ruleset. The CLI, the library, the worker
processes of `--jobs` and the workers of a Dask cluster all get their rules here.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from compliance.collector import collector_paused
from compliance.model import RuleSet, compiled, forget_compiled, keep_compiled
from compliance.packs import compile_packs, discover
from compliance.packs.discovery import display_name, load_pack_bytes, read_pack_bytes

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from compliance.scenario import Scenario


@dataclass(frozen=True)
class Recipe:
    """What a ruleset is compiled from: everything a process on another machine needs, and nothing else."""

    packs: tuple[tuple[str, bytes], ...]  # (the name outputs show, the file's bytes), in load order
    scenario: tuple[str, bytes] | None = None  # a hypothetical change in the law (`compliance impact`)
    settings_file: str | None = None  # the .compliance.yaml the run's settings came from (provenance)
    digest: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        h = hashlib.sha256()
        for part, entries in (("packs", self.packs), ("scenario", (self.scenario,) if self.scenario else ()),
                              ("settings", (("", (self.settings_file or "").encode(*_NAMES)),))):
            h.update(b"%s %d;" % (part.encode(), len(entries)))
            for name, data in entries:  # every part length-prefixed: no two recipes hash alike
                encoded = name.encode(*_NAMES)
                h.update(b"%d:%s%d:" % (len(encoded), encoded, len(data)) + data)
        object.__setattr__(self, "digest", h.hexdigest())


_NAMES = ("utf-8", "surrogateescape")  # a file name may hold bytes that are not UTF-8


def with_scenario(ruleset: RuleSet, scenario: Scenario) -> RuleSet:
    """The ruleset as it would be under a scenario, built from a recipe when the ruleset has one (so it, too,
    can travel to workers)."""
    from compliance.scenario import apply

    if ruleset.recipe is None or not scenario.text:
        return apply(ruleset, scenario)
    return build(replace(ruleset.recipe, scenario=(scenario.file, scenario.text)))


def worker_pool(rulesets: Sequence[RuleSet], workers: int) -> ProcessPoolExecutor:
    """Worker processes that build each of `rulesets` once, as they start: tasks and results may then carry these
    rulesets (as their digests) both ways."""
    from concurrent.futures import ProcessPoolExecutor  # only here: a slow import for a pre-commit hook

    recipes = tuple(r.recipe for r in rulesets)
    if None in recipes:
        raise TypeError("a ruleset made or changed in this process cannot be sent to workers")
    return ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(recipes,))


def _start_worker(recipes: tuple[Recipe, ...]) -> None:
    for made_from in recipes:
        build(made_from)
    gc.freeze()  # the compiled packs live for the whole run: keep the collector from rescanning them per plan


def recipe(references: Sequence[str | Path], settings_file: str | None = None) -> Recipe:
    """The recipe for the packs `references` name (files, folders, `bundled`), read now: a pack edited during a
    run cannot give two processes different rules. (A scenario joins it through `with_scenario`.)"""
    return Recipe(tuple((display_name(path), read_pack_bytes(path)) for path in discover(references)), None,
                  settings_file)


def load(references: Sequence[str | Path], settings_file: str | None = None) -> RuleSet:
    """The packs `references` name, compiled once per process (a second call with the same bytes is free)."""
    return build(recipe(references, settings_file))


def forget() -> None:
    """Drop every ruleset this process compiled: the next `load` reads and compiles its packs again (through
    the pack cache), as a new process would."""
    forget_compiled()


def build(made_from: Recipe) -> RuleSet:
    """The ruleset a recipe makes, compiled in this process the first time it is asked for; any defect in a pack
    or scenario is an InputError naming file and line."""
    found = compiled(made_from.digest)
    if found is not None:
        return found
    with collector_paused():  # compiled rules live all run: the collector's passes over them would free nothing
        ruleset = compile_packs([load_pack_bytes(data, name) for name, data in made_from.packs])
    if made_from.scenario is not None:
        from compliance.scenario import apply, load_scenario

        name, data = made_from.scenario
        ruleset = apply(ruleset, load_scenario(name, data))
    ruleset = replace(ruleset, settings_file=made_from.settings_file, recipe=made_from)
    keep_compiled(made_from.digest, ruleset)
    return ruleset
