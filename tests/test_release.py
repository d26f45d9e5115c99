"""Releases: one version, shown by the CLI and the installed metadata, and a changelog a release can be cut from."""

from __future__ import annotations

import re
from importlib.metadata import version

from compliance import __version__
from tests.helpers import ROOT

RELEASE = re.compile(r"## \[(\d+)\.(\d+)\.(\d+)\] - \d{4}-\d{2}-\d{2}")


def test_the_version_has_one_source(run_cli):
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.output == f"compliance, version {__version__}\n"
    assert version("plan-compliance") == __version__  # pyproject.toml reads it (dynamic = ["version"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_the_changelog_opens_with_unreleased_and_its_newest_release_is_this_version():
    headings = [line for line in (ROOT / "CHANGELOG.md").read_text().splitlines() if line.startswith("## ")]
    assert headings[0] == "## [Unreleased]"
    releases = [RELEASE.fullmatch(line) for line in headings[1:]]
    assert all(releases), [h for h, m in zip(headings[1:], releases, strict=True) if not m]
    numbers = [tuple(int(part) for part in m.groups()) for m in releases if m]
    assert numbers == sorted(numbers, reverse=True)  # newest first
    if numbers:  # the release procedure (CONTRIBUTING.md) sets __version__ and names the release together
        assert ".".join(map(str, numbers[0])) == __version__
