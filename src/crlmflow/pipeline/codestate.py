"""The code a job ran, file by file: which package modules, their hashes and git state.

A job record must let a reviewer tell whether the exact code behind an output can still be
recovered. Git's commit alone cannot: an untracked script or a modified notebook is not in
it. So each code file (the rule's script or notebook and every ``crlmflow`` module the job
imported) is recorded with its sha256 and its git state, and the text of any file that is
not clean in git is kept in the record itself (:func:`code_snapshot`).

Which modules ran is read from :data:`sys.modules` when the job finishes (the modules the
process actually imported), not from the whole package: editing a module the job never
imported does not make its record stale.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crlmflow.data.io import sha256_file

__all__ = ["ran_modules", "git_file_states", "code_snapshot", "committed_text", "CLEAN", "OUTSIDE"]

CLEAN = "clean"
OUTSIDE = "outside"
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def ran_modules(root: str | Path = ".", package_dir: str | Path = PACKAGE_DIR) -> list[str]:
    """Files of the package modules imported by this process, relative to ``root``."""
    package_dir = Path(package_dir).resolve()
    files = set()
    for mod in list(sys.modules.values()):
        f = getattr(mod, "__file__", None)
        if f and f.endswith(".py") and Path(f).resolve().is_relative_to(package_dir):
            files.add(_relative(Path(f), Path(root)))
    return sorted(files)


def _git(args: list[str], root: Path) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def git_file_states(files: list[str], root: str | Path = ".") -> dict[str, str]:
    """``{file: state}``: ``clean`` (as committed), ``modified``, ``untracked``, ``ignored``,
    ``no-git`` (no repository answers) or ``outside`` (not in the repository: an installed
    package, whose version the record holds). Untracked and ignored files are not in the
    commit, so they count as dirty just as modified ones do."""
    root = Path(root)
    if not files:
        return {}
    top = (_git(["rev-parse", "--show-toplevel"], root) or "").strip()
    if not top:
        return dict.fromkeys(files, "no-git")
    inside = [f for f in files if Path(root, f).resolve().is_relative_to(Path(top).resolve())]
    states = {f: (CLEAN if f in inside else OUTSIDE) for f in files}
    if not inside:
        return states
    out = _git(["status", "--porcelain=v1", "--ignored", "--untracked-files=all", "--", *inside], root)
    if out is None:
        return dict.fromkeys(files, "no-git")
    prefix = (_git(["rev-parse", "--show-prefix"], root) or "").strip()
    for line in out.splitlines():
        code, name = line[:2], line[3:].strip().strip('"')
        if " -> " in name:
            name = name.split(" -> ")[-1]
        name = name[len(prefix) :] if prefix and name.startswith(prefix) else name
        state = "untracked" if code == "??" else "ignored" if code == "!!" else "modified"
        if name in states:
            states[name] = state
    return states


def code_snapshot(files: list[str], root: str | Path = ".") -> dict[str, dict]:
    """``{file: {"sha256", "git", ["text"]}}`` of each existing code file; the text is kept
    when git cannot give it back (the file is not clean in the commit)."""
    root = Path(root)
    existing = [f for f in dict.fromkeys(files) if Path(root, f).is_file()]
    states = git_file_states(existing, root)
    out = {}
    for f in existing:
        entry = {"sha256": sha256_file(Path(root, f)), "git": states[f]}
        if states[f] not in (CLEAN, OUTSIDE):
            entry["text"] = Path(root, f).read_text(encoding="utf-8", errors="replace")
        out[f] = entry
    return out


def committed_text(path: str, commit: str | None, root: str | Path = ".") -> str | None:
    """The text of ``path`` at ``commit`` (None when git cannot give it)."""
    if not commit:
        return None
    return _git(["show", f"{commit}:./{path}"], Path(root))
