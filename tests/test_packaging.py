"""Packaging a user can trust: honest dependency floors, and a wheel built as pip builds it from the sdist.

The wheel is built through the sdist (what `pip install` of a source release does), so the `compliance/rules`
link to the top-level rules/ folder must survive both steps; then it is installed into an empty virtual
environment and run from another folder, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.helpers import ROOT

pytestmark = pytest.mark.packaging

FLOORS = ROOT / ".ci" / "floors.txt"


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return [Requirement(r) for r in reqs]


def _floors() -> dict[str, str]:
    pins = {}
    for line in FLOORS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.lower()] = version
    return pins


def test_every_dependency_has_its_declared_floor_pinned_for_ci():
    floors = _floors()
    for req in _declared():
        minimums = [s.version for s in req.specifier if s.operator == ">="]
        assert len(minimums) == 1, f"{req}: declare exactly one minimum (>=)"
        assert req.name.lower() in floors, f"{req.name} has no floor in .ci/floors.txt"
        pinned = floors[req.name.lower()]
        assert Version(pinned) == Version(minimums[0]), f"{req.name}: floor {pinned} != declared {minimums[0]}"
        assert pinned in req.specifier, f"{req.name}=={pinned} is outside {req.specifier}"
    assert set(floors) == {r.name.lower() for r in _declared()}, "a floor for a dependency that is not declared"


def test_ci_runs_the_suite_on_the_floors():
    run = (ROOT / ".ci" / "run").read_text()
    assert "floors.txt" in run and "pytest" in run.split("floors.txt", 1)[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in (result.stdout + result.stderr).splitlines() if "warning" in line.lower()]
    assert not warnings, "\n".join(warnings)
    return out


def test_sdist_and_wheel_carry_the_packs_templates_and_licence(dist):
    packs = sorted(p.relative_to(ROOT / "rules").as_posix() for p in (ROOT / "rules").rglob("*.yaml"))
    templates = sorted(p.name for p in (ROOT / "compliance" / "memo" / "templates").iterdir())
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert "LICENSE" in names
    assert {f"compliance/rules/{p}" for p in packs} <= names
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        metadata = whl.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        for pack in packs:
            assert whl.read(f"compliance/rules/{pack}") == (ROOT / "rules" / pack).read_bytes()
    assert {f"compliance/memo/templates/{t}" for t in templates} <= names
    assert "compliance/lineup_categories.yaml" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: Apache-2.0" in metadata
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert "Classifier: Programming Language :: Python :: 3.11" in metadata


def test_wheel_installs_into_an_empty_venv_and_runs_from_another_folder(dist, tmp_path):
    (wheel,) = dist.glob("*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    plan = work / "plan.yaml"
    plan.write_bytes((ROOT / "examples" / "acme-401k.yaml").read_bytes())
    exe = env_dir / "bin" / "compliance"
    env = {**os.environ, "PLAN_COMPLIANCE_CACHE": "off"}
    check = subprocess.run([str(exe), "check", "plan.yaml", "--as-of", "2026-11-22"], cwd=work,
                           capture_output=True, text=True, env=env, timeout=300)
    assert check.returncode == 1, check.stderr  # the example has error-level findings on purpose
    assert "plan.yaml: Acme Manufacturing 401(k) Savings Plan" in check.stdout
    assert str(ROOT) not in check.stdout  # the packs came from the installed wheel, not this checkout
    memo = subprocess.run([str(exe), "memo", "plan.yaml", "-o", "memo.pdf", "--as-of", "2026-11-22"], cwd=work,
                          capture_output=True, text=True, env=env, timeout=300)
    assert memo.returncode == 0, memo.stderr
    assert (work / "memo.pdf").read_bytes().startswith(b"%PDF-")
    where = subprocess.run([str(python), "-c", "import compliance, pathlib; print(pathlib.Path(compliance.__file__).parent)"],
                           cwd=work, capture_output=True, text=True, timeout=60)
    assert where.stdout.strip().startswith(str(env_dir))
