"""The import graph keeps its layers: `core/` sits at the bottom and imports no feature package;
`auth/` imports no feature but `core/`; features reach the request pipeline through `api/`."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "audiences"


def imported(folder: str) -> list[tuple[str, int, str]]:
    """(module file, line, imported module) of every absolute import of `audiences...` there."""
    found = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            found += [(path.name, node.lineno, n) for n in names if n.startswith("audiences.")]
    return found


@pytest.mark.parametrize(("layer", "allowed"), [("core", {"core"}), ("auth", {"core", "auth"})])
def test_a_lower_layer_imports_nothing_above_it(layer: str, allowed: set[str]):
    above = [
        f"{layer}/{file}:{line} imports {module}"
        for file, line, module in imported(layer)
        if module.split(".")[1] not in allowed
    ]
    assert above == []


def test_the_check_sees_imports():
    # The layer test would pass vacuously if it read nothing.
    assert any(module == "audiences.core.errors" for _, _, module in imported("core"))


def test_the_console_goes_through_services():
    """The console is a second front end: it calls services, never a repository's SQL."""
    reaching = []
    for path in sorted((PACKAGE / "console").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                reaching += [f"{path.name}:{node.lineno} {m}" for m in modules if "repository" in m]
    assert reaching == []
