"""The package's layers, read from its code: each room imports only from its own room and the floors
below it, no import goes in a circle, and no module grows past about 600 lines."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "lib" / "revbook"

#: The floors, lowest first. A room is a subpackage (data/) or, on the core floor, the core modules
#: together; a room may import from itself and from any room on a lower floor, nothing else.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("data", "delivery"),
    ("demo",),
    ("departments",),
    ("pages",),
    ("run",),
    ("cli",),
)
CORE_MODULES = {"__init__", "clock", "contract", "files", "locks", "metrics", "paths", "periods", "settings"}
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def room(module: str) -> str:
    """The room of a module named revbook.<...>."""
    first = module.split(".")[1] if "." in module else "__init__"
    return "core" if first in CORE_MODULES else first


def floor(module: str) -> int:
    name = room(module)
    found = [i for i, rooms in enumerate(LAYERS) if name in rooms]
    assert found, f"{module}: room {name!r} is on no floor of LAYERS; add it where it belongs"
    return found[0]


def imports(module: str) -> set[str]:
    """The revbook modules `module` imports, at the top or inside a function."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("revbook")}
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            if base.startswith("revbook"):  # `from revbook.data import roster` imports revbook.data.roster
                found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names}
    return {m for m in found if m != module}


GRAPH = {m: imports(m) for m in MODULES}


def test_every_import_goes_to_the_same_room_or_a_lower_floor():
    wrong = [f"{m} ({room(m)}) imports {t} ({room(t)})" for m, targets in GRAPH.items() for t in sorted(targets)
             if room(t) != room(m) and floor(t) >= floor(m)]
    assert not wrong, "\n".join(wrong)


def test_no_import_circles():
    state: dict[str, str] = {}
    circles: list[str] = []

    def visit(m: str, trail: list[str]) -> None:
        state[m] = "open"
        for t in sorted(GRAPH[m]):
            if state.get(t) == "open":
                circles.append(" → ".join(trail[trail.index(t):] + [m, t]) if t in trail else f"{m} → {t}")
            elif t not in state:
                visit(t, trail + [m])
        state[m] = "done"

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [])
    assert not circles, "\n".join(circles)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[module].relative_to(ROOT)} has {lines} lines; split it by what it does"


def test_the_checks_see_the_layers():
    """The graph is read right: known arrows are found, and a wrong one would be reported."""
    assert "revbook.departments.headlines" in GRAPH["revbook.pages.report"]
    assert "revbook.data.bigquery_engine" in GRAPH["revbook.data.engines"]  # an import inside connect()
    assert "revbook.data.warehouse" in GRAPH["revbook.data.bigquery_engine"]
    assert floor("revbook.pages.report") > floor("revbook.departments.sales_ops") > floor("revbook.periods")
    assert room("revbook.settings") == "core" and room("revbook.data.load") == "data"
