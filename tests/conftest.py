"""Pytest wiring: Hypothesis profiles, a private pack cache, and the fixtures (the bundled rules, a real CLI run).

Helpers that tests import live in tests/helpers.py."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

from compliance import api
from compliance.cli import cli

# Hypothesis profiles (HYPOTHESIS_PROFILE): "dev" explores new random examples on every run; "ci" runs the same
# number, derandomized, so a CI verdict depends on the commit and not on luck; "deep" is the long exploration to
# run before a release or nightly (docs/security.md has its latest figures).
settings.register_profile("dev", max_examples=150, deadline=None)
settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True)
settings.register_profile("deep", max_examples=5_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_configure(config):
    """The suite never touches the user's pack cache or its key. It shares its own, so runs mix misses and hits."""
    os.environ["PLAN_COMPLIANCE_CACHE"] = config._pack_cache = tempfile.mkdtemp(prefix="pc-test-cache-")
    os.environ["XDG_DATA_HOME"] = config._data_home = tempfile.mkdtemp(prefix="pc-test-data-")


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "_pack_cache", ""), ignore_errors=True)
    shutil.rmtree(getattr(config, "_data_home", ""), ignore_errors=True)


@pytest.fixture(scope="session")
def bundled():
    return api.load_rules(["bundled"])


@pytest.fixture
def run_cli():
    """Invoke the real click command; returns the Result (exit_code, stdout, stderr)."""
    def run(*args: str, cwd: Path | None = None):
        runner = CliRunner()
        if cwd is None:
            return runner.invoke(cli, list(args), catch_exceptions=False)
        old = Path.cwd()
        os.chdir(cwd)
        try:
            return runner.invoke(cli, list(args), catch_exceptions=False)
        finally:
            os.chdir(old)
    return run
