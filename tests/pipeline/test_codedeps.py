"""Code dependencies: a script's or notebook's crlmflow imports, followed transitively."""

import json
import re
import textwrap
from pathlib import Path

import pytest

from crlmflow.pipeline.codedeps import code_dependencies, imported_modules


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _notebook(path: Path, *cells: str) -> Path:
    nb = {
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["import pkg.nothing\n"]}]
        + [
            {
                "cell_type": "code",
                "metadata": {},
                "source": c.splitlines(keepends=True),
                "outputs": [],
                "execution_count": None,
            }
            for c in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path):
    """A package `pkg` and four 'rules' (three scripts and a notebook) using parts of it."""
    src = tmp_path / "src" / "pkg"
    _write(src, "__init__.py", "")
    _write(src, "io.py", "import json\n")
    _write(src, "stats/__init__.py", "from .cox import fit\n")
    _write(src, "stats/cox.py", "from pkg.stats import linalg\n")
    _write(src, "stats/linalg.py", "import numpy\n")
    _write(src, "stats/km.py", "from ..io import json\n")
    _write(
        src,
        "plots.py",
        """
        def draw():
            from pkg.stats.km import json  # imported when the function runs
        """,
    )
    _write(src, "unused.py", "")
    rules = {
        "fit": _write(tmp_path, "scripts/fit.py", "from pkg.stats import fit\nfrom pkg import io\n"),
        "km": _write(tmp_path, "scripts/km.py", "import pkg.stats.km as km\n"),
        "plain": _write(tmp_path, "scripts/plain.py", "import os\nimport json\n"),
        "figure": _notebook(tmp_path / "notebooks/figure.ipynb", "%matplotlib inline\nfrom pkg.plots import draw\n"),
    }
    return tmp_path, src, rules


def _rel(files, src):
    return sorted(Path(f).relative_to(src).as_posix() for f in files)


def test_transitive_imports_with_package_inits(project):
    _, src, rules = project
    deps = {name: _rel(imported_modules(path, package="pkg", package_dir=src), src) for name, path in rules.items()}
    # `from pkg.stats import fit`: fit is a name re-exported by stats/__init__, which imports cox -> linalg
    assert deps["fit"] == ["__init__.py", "io.py", "stats/__init__.py", "stats/cox.py", "stats/linalg.py"]
    # importing pkg.stats.km runs pkg/stats/__init__.py too (and so cox and linalg)
    assert deps["km"] == ["__init__.py", "io.py", "stats/__init__.py", "stats/cox.py", "stats/km.py", "stats/linalg.py"]
    assert deps["plain"] == []
    # notebook: magics dropped, markdown ignored, the function-level import followed
    assert deps["figure"] == [
        "__init__.py",
        "io.py",
        "plots.py",
        "stats/__init__.py",
        "stats/cox.py",
        "stats/km.py",
        "stats/linalg.py",
    ]


def _affected(rules, src, module):
    return {
        name for name, path in rules.items() if src / module in imported_modules(path, package="pkg", package_dir=src)
    }


def test_an_edited_module_affects_exactly_the_rules_that_run_it(project):
    _, src, rules = project
    assert _affected(rules, src, "stats/linalg.py") == {"fit", "km", "figure"}
    assert _affected(rules, src, "stats/km.py") == {"km", "figure"}
    assert _affected(rules, src, "plots.py") == {"figure"}
    assert _affected(rules, src, "unused.py") == set()
    # an edit that adds an import is seen by the next call (no stale cache)
    _write(src, "io.py", "import json\nfrom pkg import unused\n")
    assert _affected(rules, src, "unused.py") == {"fit", "km", "figure"}


def test_paths_relative_to_the_workflow_root(project):
    root, src, rules = project
    files = code_dependencies("scripts/km.py", "scripts/fit.py", root=root, package="pkg", package_dir=src)
    assert files == sorted(set(files)) and all(not Path(f).is_absolute() for f in files)
    assert "src/pkg/stats/km.py" in files and "src/pkg/io.py" in files


def test_import_of_a_missing_module_names_file_and_line(project):
    root, src, _ = project
    bad = _write(root, "scripts/bad.py", "import os\nfrom pkg.stats.coxx import fit\n")
    with pytest.raises(ValueError, match=r"bad\.py: line 2: imports 'pkg\.stats\.coxx'"):
        imported_modules(bad, package="pkg", package_dir=src)
    with pytest.raises(FileNotFoundError, match="no_such.py"):
        imported_modules(root / "scripts/no_such.py", package="pkg", package_dir=src)


# -- the real workflow --


def _rule_blocks(repo_root):
    for path in sorted((repo_root / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=rule \w+:)", path.read_text(encoding="utf-8"))[1:]:
            yield re.match(r"rule (\w+):", block).group(1), block


def test_every_rule_declares_the_code_it_runs_through_codedeps(repo_root):
    """The code=... input names the very script (or notebook) the rule runs."""
    checked = 0
    for name, block in _rule_blocks(repo_root):
        script = re.search(r'(?m)^    script:\n        "\.\./\.\./([^"]+)"', block)
        if not script:
            continue
        checked += 1
        code = re.findall(r'code=(code_of|notebook_code)\("([^"]+)"\)', block)
        assert len(code) == 1, f"rule {name}: expected one code=code_of(...) or notebook_code(...) input"
        helper, source = code[0]
        if helper == "notebook_code":
            assert script.group(1) == "scripts/run_notebook.py"
            assert re.search(rf'(?m)^        notebook="{re.escape(source)}",', block), name
        else:
            assert source == script.group(1), f"rule {name}: code of {source}, but runs {script.group(1)}"
            assert re.search(rf'(?m)^        script="{re.escape(source)}",', block), name
        assert (repo_root / source).is_file()
    assert checked > 20


def test_real_scripts_depend_on_what_they_run(repo_root):
    deps = {
        s: set(code_dependencies(s, root=repo_root))
        for s in ("scripts/cox_models.py", "notebooks/figure4_km.ipynb", "scripts/provenance.py")
    }
    assert "src/crlmflow/model/modelling.py" in deps["scripts/cox_models.py"]
    assert "src/crlmflow/survival/selection.py" in deps["scripts/cox_models.py"]
    assert "src/crlmflow/report/plots/km.py" not in deps["scripts/cox_models.py"]
    assert "src/crlmflow/report/plots/km.py" in deps["notebooks/figure4_km.ipynb"]
    assert "src/crlmflow/model/modelling.py" not in deps["notebooks/figure4_km.ipynb"]
    assert "src/crlmflow/pipeline/provenance.py" in deps["scripts/provenance.py"]
    assert not any("simulation/" in f for f in deps["scripts/provenance.py"])
