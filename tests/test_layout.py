"""Imports run one way through geo/: doors → plan/pipeline → optimize → analysis → data.

intake uses data and analysis; render reads the pipeline and is read only by the doors; nothing in
geo/ imports a door (cli, the app, views). A test fails on an import that runs back up, and on a
cycle between modules (imports inside functions included: they hide a cycle, they don't remove it).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE = {"geo", "errors", "i18n"}  # the package itself, errors and the label catalogue: below everything
ALLOWED = {
    "geo": BASE,
    "errors": BASE,
    "i18n": BASE,
    "data": BASE | {"data"},
    "config": BASE | {"config", "data.schema"},
    "analysis": BASE | {"config", "data", "analysis"},
    "intake": BASE | {"config", "data", "analysis", "intake"},
    "optimize": BASE | {"config", "data", "analysis", "optimize"},
    "pipeline": BASE | {"config", "data", "analysis", "pipeline"},
    "plan": BASE | {"config", "data", "analysis", "optimize", "pipeline", "plan"},
    "render": BASE | {"config", "data", "analysis", "optimize", "pipeline", "plan", "render"},
    # The system of record: its tables; saved plans and installed sets read CityData and Plan (never render).
    "store": BASE | {"config", "data", "analysis", "optimize", "pipeline", "plan", "store"},
    "cli": BASE | {"config", "data", "analysis", "intake", "optimize", "pipeline", "plan", "render", "store", "cli"},
    "__main__": BASE | {"cli"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = ROOT / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports_of(path: Path) -> set[str]:
    """The geo modules ``path`` imports, anywhere in the file (``from geo.x import y`` names geo.x.y
    when that is a module, else geo.x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.split(".")[0] == "geo":
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if is_module(child) else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "geo"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("views", "app"):
            found.add(node.module)
    return found


GRAPH = {module_name(path): imports_of(path) for path in sorted((ROOT / "geo").rglob("*.py"))}


def group(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "geo":
        return parts[0]  # views, app: doors
    if len(parts) == 1:
        return "geo"
    if parts[1] == "data" and len(parts) > 2 and parts[2] == "schema":
        return "data.schema"
    return parts[1]


def allowed(source: str, target: str) -> bool:
    rule = ALLOWED[group(source) if group(source) != "data.schema" else "data"]
    return group(target) in rule or (group(target) == "data.schema" and "data" in rule)


def test_every_module_has_a_rule():
    assert {group(m) if group(m) != "data.schema" else "data" for m in GRAPH} <= set(ALLOWED)


@pytest.mark.parametrize("source", sorted(GRAPH))
def test_imports_run_one_way(source):
    backwards = sorted(target for target in GRAPH[source] if target != source and not allowed(source, target))
    assert not backwards, f"{source} imports {backwards}, which sit above it (see tests/test_layout.py ALLOWED)"


def test_no_cycles():
    state, stack, cycles = {}, [], []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(GRAPH.get(module, ())):
            if target not in GRAPH or target == module:
                continue
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles: " + "; ".join(" → ".join(cycle) for cycle in cycles)


def test_the_rules_catch_a_backward_import():
    assert not allowed("geo.data.io", "geo.analysis.coverage")
    assert not allowed("geo.plan", "geo.render.export")
    assert not allowed("geo.render.maps", "views.shared")
    assert allowed("geo.render.notice", "geo.plan") and allowed("geo.config", "geo.data.schema")
