"""Shape of the report sub-package: import graph without cycles, no function-local imports of
sibling modules, small modules and functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "src" / "crlmflow" / "report"
MODULES = sorted(PKG.rglob("*.py"))
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 100


def _name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module]
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    return []


def _graph() -> dict[str, set[str]]:
    """Module -> report modules it imports at module level (package re-exports excluded)."""
    names = {_name(p) for p in MODULES}
    graph = {}
    for p in MODULES:
        if p.name == "__init__.py":
            continue
        tree = ast.parse(p.read_text(encoding="utf-8"))
        deps = {m for node in tree.body for m in _imported(node) if m in names}
        graph[_name(p)] = deps
    return graph


def test_report_imports_have_no_cycle():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(m, stack):
        state[m] = 1
        for d in graph.get(m, ()):
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack, m, d]))
            if not state.get(d):
                visit(d, [*stack, m])
        state[m] = 2

    for m in graph:
        if not state.get(m):
            visit(m, [])
    # the cycle this guards against: panels <-> roc/dca
    assert "crlmflow.report.plots.panels" in graph["crlmflow.report.plots.roc"]
    assert not graph["crlmflow.report.plots.panels"] & {"crlmflow.report.plots.roc", "crlmflow.report.plots.dca"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_no_function_local_import_of_a_crlmflow_module(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    local = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                local += [f"{fn.name}: {m}" for m in _imported(node) if m.startswith("crlmflow")]
    assert not local, local


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_modules_and_functions_are_small(path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES
    long = [
        f"{fn.name}: {fn.end_lineno - fn.lineno + 1} lines"
        for fn in ast.walk(ast.parse(text))
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
        and fn.end_lineno - fn.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, long
