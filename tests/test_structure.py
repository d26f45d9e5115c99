"""The package's import structure (scripts/import_layers.py): no import cycle, so no module imports one above it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from tests.helpers import ROOT

SCRIPT = ROOT / "scripts" / "import_layers.py"


def _layers():
    spec = importlib.util.spec_from_file_location("import_layers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_package_has_no_import_cycle_and_the_cli_is_on_top():
    layers = _layers()
    edges = layers.graph()
    layer, cycles = layers.layers(edges)
    assert cycles == []
    assert layer["compliance.cli"] > max(v for k, v in layer.items() if k not in ("compliance.cli", "compliance.__main__"))
    for low in ("compliance.errors", "compliance.kinds", "compliance.text"):  # the bottom imports nothing above it
        assert all(layer[m] < layer[low] for m in edges[low]), low
    assert "compliance.engine" in edges["compliance.api"] and "compliance.api" not in edges["compliance.engine"]


def test_the_script_finds_a_cycle_it_is_shown(tmp_path):
    package = tmp_path / "compliance"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from compliance import b\n")
    (package / "b.py").write_text("def f():\n    from compliance.a import x\n")  # a lazy import still couples them
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from compliance import a\n")
    proc = subprocess.run([sys.executable, str(SCRIPT), str(package)], capture_output=True, text=True)
    assert proc.returncode == 1 and "cycle: " in proc.stdout and "compliance.a" in proc.stdout
    assert "1 cycles" in proc.stdout  # c's annotation-only import is no edge
