"""The package's imports run one way, down the pipeline; no cycles; heavy libraries stay where they belong.

Every ``import depotsite...`` in a module, at the top or inside a function (a lazy import is still a
dependency), must point at the same layer or a lower one, and the imports within one layer must not form a
cycle. osmnx is imported only by ``network/``; matplotlib and plotly only by ``output/``; pyomo only by the
formulation, the solver and the analyses built on them.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "depotsite"

# Lowest first. A module may import from its own layer or any layer before it.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "tables", "timelimit", "tomlfile", "regions", "countries"),
    ("scenario", "overrides", "inputs", "input_checks", "purchasers", "traveltimes", "checks", "figures"),
    ("keys",),
    ("network",),
    ("sources", "instance", "posture", "words"),
    ("dispatch", "shipments", "rows", "dominance"),
    ("terms",),
    ("model",),
    ("solve",),
    ("explain", "results"),
    ("reduction",),
    ("selfcheck",),
    ("analysis",),
    ("output",),
    ("sweep",),
    ("verify",),
    ("cli",),
]
LIBRARIES = {
    "osmnx": {"network"},
    "matplotlib": {"output"},
    "plotly": {"output"},
    "pyomo": {"rows", "terms", "model", "solve", "explain", "analysis", "cli"},
    "distributed": {"sweep"},
    "dask": {"sweep"},
}


def unit(module: str) -> str:
    """The layer unit of a dotted module name below ``depotsite``: a subpackage or a top-level module."""
    return module.split(".")[1] if module.count(".") else "__init__"


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, name: str) -> set[str]:
    """Every module ``path`` imports (absolute names), anywhere in the file."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: level 1 is the module's own package
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], base]).strip(".")
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return found


def layer_of(module_unit: str) -> int:
    for i, units in enumerate(LAYERS):
        if module_unit in units:
            return i
    raise AssertionError(f"{module_unit} is in no layer: add it to LAYERS in {__file__}")


def test_every_module_has_a_layer():
    units = {unit(m) for m in modules() if m != "depotsite"}
    for u in units - {"__init__"}:
        layer_of(u)


def test_imports_only_go_down_the_layers():
    known = modules()
    wrong = []
    for name, path in known.items():
        if name == "depotsite":
            continue  # the public API re-exports from every layer
        mine = layer_of(unit(name))
        for target in imports(path, name):
            inside = target.startswith("depotsite.") and target in known and unit(target) != "__init__"
            if inside and layer_of(unit(target)) > mine:
                wrong.append(f"{name} (layer {mine}) imports {target} (layer {layer_of(unit(target))})")
    assert wrong == []


def test_no_import_cycles():
    known = modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in known.items():
        graph[name] = {t for t in imports(path, name) if t in known and t != name and t != "depotsite"}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]) if nxt in trail else nxt)
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # a package's __init__ importing its own modules is not a cycle worth reporting
    cycles = [c for c in cycles if not all(part.startswith(c.split(" -> ")[0]) for part in c.split(" -> "))]
    assert cycles == []


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_heavy_libraries_stay_in_their_layers(library):
    allowed = LIBRARIES[library]
    wrong = [
        name
        for name, path in modules().items()
        if any(t == library or t.startswith(library + ".") for t in imports(path, name)) and unit(name) not in allowed
    ]
    assert wrong == [], f"{library} imported outside {sorted(allowed)}"


def test_the_layer_test_sees_a_planted_violation(tmp_path):
    """The checker itself: an upward import in a lower layer is found."""
    planted = tmp_path / "tables.py"
    planted.write_text("from depotsite.output.runfolder import RunFolder\n")
    found = imports(planted, "depotsite.tables")
    assert "depotsite.output.runfolder" in found
    assert layer_of(unit("depotsite.output.runfolder")) > layer_of(unit("depotsite.tables"))
