"""`.compliance.yaml`: per-repository defaults, found from the working directory up to the checkout's root.

The search never leaves the checkout (or, outside one, the working directory): a config in a shared parent
folder such as /tmp or a reused CI runner's workspace could otherwise swap the packs or set `fail_on: never`.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import NamedTuple

from compliance.errors import InputError, Problem
from compliance.loader import load_file
from compliance.schemas.config import CONFIG_VALIDATOR
from compliance.schemas.messages import problems

CONFIG_NAME = ".compliance.yaml"
# Where the Dask cluster is and how far to trust it come from the command line or the environment only: a pull
# request edits this file, and must not send CI's plans to a cluster (whose members can run code in the client).
CLUSTER_KEYS = ("scheduler", "insecure_scheduler", "tls_ca_file", "tls_cert", "tls_key")


class Config(NamedTuple):
    """A repository's defaults; command-line options override them."""

    packs: tuple[str, ...] = ("bundled",)
    fail_on: str = "error"
    as_of: date | None = None
    plans: tuple[str, ...] = ()
    file: str | None = None
    sets_fail_on: bool = False  # the file names fail_on (the settings note says so, even when it is the default)


def find_config(start: Path | None = None) -> Path | None:
    from compliance.worktree import working_tree

    here = (start or Path.cwd()).resolve()
    top = working_tree(here) or here
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if folder == top:
            break
    return None


def load_config(path: Path | None) -> Config:
    """Read a config file; pack and plan paths in it are relative to the file's own folder."""
    if path is None:
        return Config()
    relative = os.path.relpath(path)
    doc = load_file(path, str(path) if relative.startswith("..") else relative)  # as code scanning names files
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise InputError.at(doc.file, 1, 1, "the config file must be a YAML mapping")
    if cluster := [key for key in CLUSTER_KEYS if key in data]:
        raise InputError([Problem(doc.locate((key,), key=True), f"{key}: a config file cannot choose a Dask cluster "
                                  f"(a pull request could point CI at one); pass --{key.replace('_', '-')} or set "
                                  f"PLAN_COMPLIANCE_{key.upper()}") for key in cluster])
    if found := problems(doc, CONFIG_VALIDATOR, data):
        raise InputError(found)
    base = path.parent

    def resolve(p: str) -> str:
        return p if p == "bundled" else os.path.relpath(base / p)

    return Config(
        packs=tuple(resolve(p) for p in data.get("packs", ["bundled"])),
        fail_on=data.get("fail_on", "error"),
        as_of=data.get("as_of"),
        plans=tuple(os.path.relpath(base / p) for p in data.get("plans", [])),
        file=str(path),
        sets_fail_on="fail_on" in data,
    )
