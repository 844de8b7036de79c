"""The outputs registry: what ``rule all`` builds and the provenance manifest tracks.

Each rule file adds the outputs of its rules right after defining them
(``OUTPUTS.add(rules.cox_models.output, endpoint=ENDPOINTS)``), so a target list is never
spelled a second time beside the rules: ``rule all`` asks for :meth:`OutputRegistry.all`
and the provenance rule for :meth:`OutputRegistry.tracked`. Output patterns are expanded
over the given wildcard values (every combination of the wildcards a pattern uses).
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterable

__all__ = ["OutputRegistry", "expand_pattern"]


def _fields(pattern: str) -> list[str]:
    names = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise ValueError(
            f"output pattern {pattern!r}: wildcard(s) {bad} are not plain names; expected "
            "'{name}' (declare constraints with wildcard_constraints, not in the pattern)"
        )
    return list(dict.fromkeys(names))


def expand_pattern(pattern: str, wildcards: dict[str, Iterable]) -> list[str]:
    """Every file of ``pattern`` over the wildcard values it uses (itertools.product)."""
    names = _fields(pattern)
    missing = [n for n in names if n not in wildcards]
    if missing:
        raise ValueError(
            f"output pattern {pattern!r}: no values for wildcard(s) {missing}; "
            f"expected them among the given wildcards {sorted(wildcards)}"
        )
    values = [list(wildcards[n]) for n in names]
    return [pattern.format(**dict(zip(names, combo))) for combo in itertools.product(*values)]


class OutputRegistry:
    """Ordered set of the workflow's target files, each tracked by provenance or not."""

    def __init__(self) -> None:
        self._files: dict[str, bool] = {}

    def add(self, patterns: str | Iterable[str], *, tracked: bool = True, **wildcards: Iterable) -> list[str]:
        """Register the files of ``patterns`` (a path, or a rule's ``output``) expanded over
        ``wildcards``; ``tracked=False`` keeps them out of the provenance manifest's list.
        Returns the files added."""
        if isinstance(patterns, str):
            patterns = [patterns]
        files = [f for p in patterns for f in expand_pattern(str(p), wildcards)]
        for f in files:
            if f in self._files and self._files[f] != tracked:
                raise ValueError(f"output {f!r} registered both as tracked and as untracked")
            self._files.setdefault(f, tracked)
        return files

    def tracked(self) -> list[str]:
        """Every registered table, figure and data file the provenance manifest covers."""
        return [f for f, t in self._files.items() if t]

    def all(self) -> list[str]:
        """Every registered file (the default target)."""
        return list(self._files)

    def __contains__(self, path: str) -> bool:
        return path in self._files

    def __len__(self) -> int:
        return len(self._files)
