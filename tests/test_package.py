"""The package's shape: small modules, no import cycle, no reach-in to private attributes,
and clean linter and formatter (ruff, configured in pyproject.toml)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "crlmflow"
MAX_LINES = 500
RUFF = Path(sys.executable).parent / "ruff"
# Public API of namedtuples and of the interpreter that happens to start with an underscore
PUBLIC_UNDERSCORE = {"_asdict", "_replace", "_fields", "_make", "_field_defaults", "_getframe", "_exit"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules imported anywhere in a module (module level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    # imports for type annotations only (``if TYPE_CHECKING:``) never run, so form no cycle
    typing_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and getattr(block.test, "id", getattr(block.test, "attr", None)) == "TYPE_CHECKING"
        for n in ast.walk(block)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            # "from crlmflow.report import formats" names a module; "from x import f" a function
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and t != "crlmflow":
                found.add(t)
    return found


def test_no_module_exceeds_the_size_limit():
    long = {
        str(p.relative_to(ROOT)): n
        for p in PKG.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_no_import_cycle():
    mods = _modules()
    known = set(mods)
    # a package's __init__ importing its own sub-modules is not a cycle of the sub-modules
    graph = {
        m: {d for d in _imports(m, p, known) if not d.startswith(m + ".") and not m.startswith(d + ".")}
        for m, p in mods.items()
    }
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycle = stack[stack.index(d) :] + [d]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_no_module_reads_another_objects_private_attributes():
    offences = []
    for path in sorted(PKG.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # private names a module defines for its own classes may be used anywhere in that module
        own = {
            n.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name)
            and n.value.id == "self"
            and isinstance(n.ctx, ast.Store)
        }
        own |= {
            f.name
            for c in ast.walk(tree)
            if isinstance(c, ast.ClassDef)
            for f in c.body
            if isinstance(f, (ast.FunctionDef, ast.AnnAssign, ast.Assign)) and isinstance(getattr(f, "name", None), str)
        }
        own |= {
            t.target.id
            for c in ast.walk(tree)
            if isinstance(c, ast.ClassDef)
            for t in c.body
            if isinstance(t, ast.AnnAssign) and isinstance(t.target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            attr = node.attr
            if not attr.startswith("_") or attr.startswith("__") or attr in PUBLIC_UNDERSCORE or attr in own:
                continue
            if isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}:
                continue
            offences.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{attr}")
    assert not offences, "private attributes read from outside their object:\n" + "\n".join(offences)


def test_scripts_hold_exactly_one_script_per_rule():
    rules = "".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    unused = [
        p.name for p in (ROOT / "scripts").glob("*.py") if f"scripts/{p.name}" not in rules and p.name not in rules
    ]
    assert not unused, f"scripts no rule runs (move them to tools/): {unused}"


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"])
def test_ruff_is_clean(args):
    res = subprocess.run([str(RUFF), *args], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_no_rule_chooses_its_inputs_by_what_exists_on_disk():
    """A rule's inputs follow from the config alone: an input added only when a file happens
    to exist (e.g. the output of another, optional target) makes the same config give
    different outputs depending on what ran before (the paper comparison once did this)."""
    files = [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]
    pattern = re.compile(r"os\.path\.(exists|isfile)|\.exists\(\)|\.is_file\(\)|glob\(")
    hits = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
        for p in files
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line) and not line.lstrip().startswith("#")
    ]
    assert not hits, hits
