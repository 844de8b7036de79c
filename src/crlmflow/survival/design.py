"""Design matrices for Cox models from candidate-variable specs.

Treatment (dummy) coding with the reference level dropped, column names as R's
``model.matrix`` (variable name pasted to level, e.g. ``rxLev``), so results line up
with R output term by term (Chambers & Hastie 1992, Statistical Models in S, ch. 2).

``design_matrix`` is the one builder of model matrices: Cox fitting, prediction from a
stored fit and the nomogram (``Design.frame``) all use it.

A numeric candidate with ``spline_knots: k`` is a restricted cubic spline (rms ``rcs``,
``crlmflow.survival.splines``): one term of k − 1 columns (``x``, ``x'``, ...), screened,
entered and removed as a whole.  Its knots are placed on the training data by
``resolve_knots`` and then travel with the candidate (``knots``), so new data are put on
the training basis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crlmflow.survival.splines import rcs_basis, rcs_knots, rcs_names

__all__ = [
    "Candidate",
    "Design",
    "normalise_candidates",
    "design_matrix",
    "resolve_knots",
    "spline_knots_of",
    "with_knots",
]


@dataclass(frozen=True)
class Candidate:
    """One candidate predictor: numeric, binary (0/1 used as is), factor, or a numeric
    restricted cubic spline (``spline_knots`` ≥ 3; ``knots`` once placed)."""

    name: str
    type: str = "numeric"
    ref: Any = None
    levels: tuple = ()
    spline_knots: int = 0
    knots: tuple = ()
    spline_auto: bool = False  # "splines for all": too few distinct values keeps it linear

    @property
    def is_spline(self) -> bool:
        return self.spline_knots > 0 or len(self.knots) > 0

    def term_names(self) -> list[str]:
        if self.is_spline:
            return rcs_names(self.name, len(self.knots) or self.spline_knots)
        if self.type != "factor":
            return [self.name]
        return [f"{self.name}{lev}" for lev in self.levels if lev != self.ref]


@dataclass
class Design:
    """X (float, n × p), its column names and term-group → column-index mapping."""

    X: np.ndarray
    columns: list[str]
    groups: dict[str, list[int]]
    candidates: list[Candidate] = field(default_factory=list)

    def subset(self, terms: Iterable[str]) -> Design:
        terms = list(terms)
        idx = [i for t in terms for i in self.groups[t]]
        groups, pos = {}, 0
        for t in terms:
            k = len(self.groups[t])
            groups[t] = list(range(pos, pos + k))
            pos += k
        cands = [c for c in self.candidates if c.name in set(terms)]
        return Design(self.X[:, idx], [self.columns[i] for i in idx], groups, cands)

    def frame(self, index=None) -> pd.DataFrame:
        """X as a DataFrame with the R column names (``index``: the source rows' index)."""
        return pd.DataFrame(self.X, columns=self.columns, index=index)


def normalise_candidates(candidates) -> list[Candidate]:
    """Accept strings (numeric), dicts as in spec_*.json, or Candidate objects."""
    out = []
    for c in candidates:
        if isinstance(c, Candidate):
            out.append(c)
        elif isinstance(c, str):
            out.append(Candidate(c, "numeric"))
        elif isinstance(c, dict):
            typ = c.get("type", "numeric")
            if typ not in ("numeric", "binary", "factor"):
                raise ValueError(f"candidate {c.get('name')!r}: unknown type {typ!r}")
            levels = tuple(c.get("levels") or ())
            ref = c.get("ref", levels[0] if levels else None)
            if typ == "factor" and levels and ref in levels:
                # R puts the reference level first and keeps the others' order
                levels = (ref,) + tuple(lv for lv in levels if lv != ref)
            nk = int(c.get("spline_knots") or 0)
            knots = tuple(float(k) for k in (c.get("knots") or ()))
            if (nk or knots) and typ != "numeric":
                raise ValueError(f"candidate {c['name']!r}: a spline needs a numeric candidate, not {typ}")
            out.append(Candidate(c["name"], typ, ref, levels, nk, knots, bool(c.get("spline_auto"))))
        else:
            raise TypeError(f"cannot interpret candidate {c!r}")
    return out


def _factor_levels(col: pd.Series, cand: Candidate) -> tuple[tuple, Any]:
    levels = cand.levels or tuple(sorted(pd.unique(col.dropna())))
    ref = cand.ref if cand.ref is not None else levels[0]
    if ref not in levels:
        raise ValueError(f"factor {cand.name!r}: reference level {ref!r} not among {levels}")
    levels = (ref,) + tuple(lv for lv in levels if lv != ref)
    bad = ~col.isin(levels)
    if bad.any():
        row = bad.idxmax()
        raise ValueError(
            f"factor {cand.name!r}, row {row}: value {col.loc[row]!r} is not one of the levels "
            f"{list(levels)} ({int(bad.sum())} row(s) affected)"
        )
    return levels, ref


def design_matrix(df: pd.DataFrame, candidates) -> Design:
    """Model matrix with R's treatment coding (``model.matrix`` with ``contr.treatment``).

    Parameters
    ----------
    df : DataFrame
        Complete-case rows holding every candidate column.
    candidates : iterable
        Names (numeric), spec dicts ``{"name", "type": numeric|binary|factor, "levels",
        "ref"}`` (other keys ignored) or :class:`Candidate` objects.

    Returns
    -------
    Design
        X (n × p float), column names (a factor's k−1 dummies ``name + level``, reference
        dropped) and the term → columns groups.
    """
    cands = normalise_candidates(candidates)
    cols: list[np.ndarray] = []
    names: list[str] = []
    groups: dict[str, list[int]] = {}
    resolved: list[Candidate] = []
    for c in cands:
        if c.name not in df.columns:
            raise KeyError(f"candidate {c.name!r} not in data")
        s = df[c.name]
        if s.isna().any():
            raise ValueError(
                f"candidate {c.name!r}, row {s.isna().idxmax()}: missing value "
                f"({int(s.isna().sum())} row(s)); filter complete cases first"
            )
        start = len(names)
        if c.type == "factor":
            levels, ref = _factor_levels(s, c)
            c = Candidate(c.name, "factor", ref, levels)
            values = s.to_numpy()
            for lev in levels[1:]:
                cols.append((values == lev).astype(float))
                names.append(f"{c.name}{lev}")
        elif c.is_spline:
            if not c.knots:
                raise ValueError(f"spline of {c.name!r}: knots not placed; call resolve_knots on the training data")
            basis = rcs_basis(pd.to_numeric(s, errors="raise").to_numpy(dtype=float), c.knots)
            cols.extend(basis.T)
            names.extend(rcs_names(c.name, len(c.knots)))
        else:
            x = pd.to_numeric(s, errors="raise").to_numpy(dtype=float)
            bad = ~np.isin(x, (0.0, 1.0))
            if c.type == "binary" and bad.any():
                k = int(np.argmax(bad))
                raise ValueError(
                    f"binary candidate {c.name!r}, row {s.index[k]}: value {x[k]:g}, "
                    f"expected 0 or 1 ({int(bad.sum())} row(s) affected)"
                )
            cols.append(x)
            names.append(c.name)
        groups[c.name] = list(range(start, len(names)))
        resolved.append(c)
    X = np.column_stack(cols) if cols else np.empty((len(df), 0))
    return Design(np.ascontiguousarray(X, dtype=float), names, groups, resolved)


def resolve_knots(df: pd.DataFrame, candidates) -> list[Candidate]:
    """Candidates with every spline's knots placed on ``df`` (the training data).

    A spline candidate that already carries ``knots`` keeps them; one with only
    ``spline_knots: k`` gets Harrell's default quantile knots (``rcs_knots``), unless it
    was given its spline by ``splines.variables: all`` (``spline_auto``) and has at most
    k + 2 distinct values (where Hmisc falls back to the interior values): it stays
    linear.  Other candidates are returned unchanged.
    """
    out = []
    for c in normalise_candidates(candidates):
        if c.is_spline and not c.knots:
            if c.name not in df.columns:
                raise KeyError(f"candidate {c.name!r} not in data")
            x = pd.to_numeric(df[c.name], errors="raise").to_numpy(dtype=float)
            if c.spline_auto and np.unique(x[np.isfinite(x)]).size - 2 <= c.spline_knots:
                out.append(Candidate(c.name, c.type, c.ref, c.levels))  # too few values: linear
                continue
            c = Candidate(
                c.name,
                c.type,
                c.ref,
                c.levels,
                c.spline_knots,
                tuple(map(float, rcs_knots(x, c.spline_knots, name=c.name))),
            )
        out.append(c)
    return out


def spline_knots_of(candidates) -> dict[str, list[float]]:
    """``{name: knots}`` of the spline candidates whose knots are placed (for a fit summary)."""
    return {c.name: list(c.knots) for c in normalise_candidates(candidates) if c.knots}


def with_knots(candidates, knots) -> list:
    """Config candidate specs with the stored knots of a fit (``spline_knots_of``) filled in.

    The fit decides: a candidate with ``spline_knots`` whose name has no stored knots was
    kept linear on the training data (``resolve_knots``), so it comes back linear.  Dicts
    stay dicts (other keys kept), so a stored model puts new rows on its training basis.
    """
    knots = knots or {}
    out = []
    for c in candidates:
        cand = normalise_candidates([c])[0]
        if cand.name in knots:
            fixed = tuple(float(k) for k in knots[cand.name])
        elif cand.is_spline and not cand.knots:
            fixed = ()  # linear
        else:
            out.append(c)
            continue
        if isinstance(c, Candidate):
            out.append(Candidate(c.name, c.type, c.ref, c.levels, len(fixed) if fixed else 0, fixed))
            continue
        spec = {"name": c, "type": "numeric"} if isinstance(c, str) else dict(c)
        spec.pop("spline_auto", None)
        if fixed:
            spec.update(spline_knots=len(fixed), knots=list(fixed))
        else:
            spec.pop("spline_knots", None)
        out.append(spec)
    return out
