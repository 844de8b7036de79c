"""A private copy of the project for workflow tests that edit code, notebooks or rules.

Tests that edit a module or a notebook to see what Snakemake reruns must never edit the
checkout itself: under ``pytest -n 2`` another worker's workflow imports the same package
files at the same moment, runs the edited code and records its digest, and its own audit
then fails. A copy (tracked and untracked files, no results) with ``PYTHONPATH`` pointing
at the copy's ``src`` imports, declares and records the copy's files only.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def copy_project(repo_root: Path, dest: Path) -> Path:
    """Copy the project's tracked and untracked (not ignored) files to ``dest``."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=repo_root, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for f in files:
        src = repo_root / f
        if src.is_file() and not f.startswith(("results/", ".snakemake/")):
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            (dest / f).write_bytes(src.read_bytes())
    return dest


def project_env(project: Path) -> dict[str, str]:
    """The environment in which Snakemake's jobs import ``crlmflow`` from ``project/src``
    (ahead of the editable install, which a ``.pth`` entry puts after PYTHONPATH)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(project / "src"), *filter(None, [env.get("PYTHONPATH")])])
    return env
