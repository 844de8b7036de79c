"""The package modules a script or notebook runs: its ``crlmflow`` imports, followed transitively.

Every rule declares its script or notebook and these module files as ``input:``, so that
editing a module reruns exactly the rules whose code imports it (directly or through other
modules) and no other. Imports are read with :mod:`ast`, nothing is executed:

* ``import crlmflow.a.b`` and ``from crlmflow.a import b`` (``b`` a module or a name
  defined in ``crlmflow/a/__init__.py``), relative imports inside the package, and
  imports inside functions (they run when the function does);
* importing ``crlmflow.a.b`` also runs ``crlmflow/__init__.py`` and
  ``crlmflow/a/__init__.py``, so those are dependencies too;
* a notebook's code cells are parsed after dropping IPython magics (``%``/``!`` lines).

A ``crlmflow`` import that names no module file is an error (a typo would otherwise
silently leave a rule without its code dependencies).
"""

from __future__ import annotations

import ast
import json
import os
from functools import cache
from pathlib import Path

__all__ = ["imported_modules", "code_dependencies", "PACKAGE", "PACKAGE_DIR"]

PACKAGE = "crlmflow"
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def _source_text(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = [
            "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb.get("cells", [])
            if c.get("cell_type") == "code"
        ]
        lines = [ln for cell in cells for ln in cell.splitlines()]
        return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)
    return path.read_text(encoding="utf-8")


def _module_name(path: Path, package_dir: Path) -> str | None:
    """``crlmflow.a.b`` for ``<package_dir>/a/b.py`` (None outside the package)."""
    try:
        rel = path.resolve().relative_to(package_dir.parent)
    except ValueError:
        return None
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _module_file(name: str, package_dir: Path) -> Path | None:
    """The file of module ``name`` (``a/b.py`` or ``a/b/__init__.py``), or None."""
    rel = Path(*name.split(".")[1:]) if "." in name else Path()
    base = package_dir / rel
    for candidate in (base.with_suffix(".py") if rel.parts else None, base / "__init__.py"):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _imports(path: Path, package: str, package_dir: Path) -> list[tuple[str, int]]:
    """(module name, line) of every package module that ``path`` imports directly."""
    try:
        tree = ast.parse(_source_text(path), filename=str(path))
    except SyntaxError as exc:
        raise ValueError(f"{path}: line {exc.lineno}: cannot parse the code to find its imports: {exc.msg}") from exc
    own = _module_name(path, package_dir)
    is_pkg_init = path.name == "__init__.py"
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == package]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if own is None:
                    raise ValueError(
                        f"{path}: line {node.lineno}: relative import outside the "
                        f"{package} package; expected an absolute 'from {package}...' import"
                    )
                base = own.split(".") if is_pkg_init else own.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != package:
                continue
            found.append((module, node.lineno))
            # `from pkg.a import b`: b is a submodule when such a file exists, else a name in pkg/a
            found += [
                (f"{module}.{a.name}", node.lineno)
                for a in node.names
                if a.name != "*" and _module_file(f"{module}.{a.name}", package_dir) is not None
            ]
    return found


def _direct(path: Path, package: str, package_dir: Path) -> tuple[Path, ...]:
    # keyed on the modification time too: a long-lived process sees an edited file anew
    return _direct_cached(path, path.stat().st_mtime_ns, package, package_dir)


@cache
def _direct_cached(path: Path, mtime_ns: int, package: str, package_dir: Path) -> tuple[Path, ...]:
    files = []
    for name, line in _imports(path, package, package_dir):
        for parent in _with_parents(name):
            f = _module_file(parent, package_dir)
            if f is None:
                raise ValueError(
                    f"{path}: line {line}: imports {name!r}, but {parent!r} is no module "
                    f"file under {package_dir}; expected an existing {package} module"
                )
            files.append(f)
    return tuple(dict.fromkeys(files))


def imported_modules(
    source: str | os.PathLike, *, package: str = PACKAGE, package_dir: str | os.PathLike = PACKAGE_DIR
) -> list[Path]:
    """Every module file of ``package`` that running ``source`` imports, transitively.

    Parameters
    ----------
    source : path
        A Python script, a module or a Jupyter notebook.
    package, package_dir : str, path
        The package whose imports are followed and its directory (default: this package).

    Returns
    -------
    list of Path
        Absolute module files (``__init__.py`` of each package on the way included),
        sorted; ``source`` itself only if it imports itself.
    """
    package_dir = Path(package_dir).resolve()
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such script, module or notebook to read imports from")
    seen: set[Path] = set()
    queue = list(_direct(source.resolve(), package, package_dir))
    while queue:
        f = queue.pop()
        if f in seen:
            continue
        seen.add(f)
        queue += [g for g in _direct(f, package, package_dir) if g not in seen]
    return sorted(seen)


def code_dependencies(
    *sources: str | os.PathLike,
    root: str | os.PathLike = ".",
    package: str = PACKAGE,
    package_dir: str | os.PathLike = PACKAGE_DIR,
) -> list[str]:
    """The package module files that any of ``sources`` runs, as paths for a rule's ``input:``.

    Paths under ``root`` (the workflow's working directory) are given relative to it, so
    job records and provenance do not depend on where the project is checked out.
    """
    root = Path(root).resolve()
    files = sorted(
        {f for s in sources for f in imported_modules(Path(root, s), package=package, package_dir=package_dir)}
    )
    out = []
    for f in files:
        try:
            out.append(f.relative_to(root).as_posix())
        except ValueError:
            out.append(str(f))
    return out
