"""The package's import structure: each module's layer, and any import cycle or upward import.

    python scripts/import_layers.py               # prints the layers, bottom first; exits 1 on a cycle
    python scripts/import_layers.py OTHER/compliance   # the same for another checkout's package

An import is an edge from the importing module to the imported one, whether it sits at the top of the file or in
a function (a lazy import still couples the two); imports under `if TYPE_CHECKING:` are annotations only and left
out. A module's layer is one more than the highest layer it imports, so an acyclic graph has no upward import by
construction, and a cycle is the only way to break the rule.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "compliance"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, known: set[str]) -> set[str]:
    """The package modules `path` imports, outside `if TYPE_CHECKING:` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for child in node.body for n in ast.walk(child)}
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != here:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    known = {module_name(f) for f in files}
    return {module_name(f): imports(f, known) for f in files}


def layers(edges: dict[str, set[str]]) -> tuple[dict[str, int], list[list[str]]]:
    """Each module's layer, and the cycles found (each as a list of modules)."""
    layer: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> int:
        if module in path:
            cycles.append(path[path.index(module):] + [module])
            return 0
        if module not in layer:
            layer[module] = 1 + max((visit(m, path + [module]) for m in edges[module]), default=-1)
        return layer[module]

    for module in edges:
        visit(module, [])
    return layer, cycles


def main() -> int:
    global PACKAGE
    if len(sys.argv) > 1:
        PACKAGE = Path(sys.argv[1]).resolve()
    edges = graph()
    layer, cycles = layers(edges)
    for n in range(max(layer.values()) + 1):
        print(f"{n:2d}: " + ", ".join(m.removeprefix("compliance.") or "compliance" for m in sorted(layer) if layer[m] == n))
    print(f"{len(edges)} modules on {max(layer.values()) + 1} layers, {sum(map(len, edges.values()))} imports, "
          f"{len(cycles)} cycles")
    for cycle in cycles:
        print("cycle: " + " -> ".join(cycle))
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
