"""Restricted cubic splines as rms's ``rcs()`` builds them (Hmisc ``rcspline.eval``).

Method (Stone & Koo 1985; Harrell, Regression Modeling Strategies, 2nd ed., sec. 2.4.5):
for knots t_1 < ... < t_k the spline is linear beyond the outer knots and has k − 1
columns: x itself and, for j = 1..k−2,

    C_j(x) = [(x − t_j)_+^3 − (x − t_{k−1})_+^3 (t_k − t_j)/(t_k − t_{k−1})
              + (x − t_k)_+^3 (t_{k−1} − t_j)/(t_k − t_{k−1})] / (t_k − t_1)^2,

the ``norm = 2`` scaling of ``rcspline.eval`` that ``rcs()`` uses, so coefficients are
comparable with rms's.  Column names follow rms: ``x``, ``x'``, ``x''``, ...

Default knots (``rcspline.eval(x, nk)``, Hmisc 4.8): the quantiles
``seq(outer, 1 − outer, length = k)`` (type 7) with outer = 0.10 for 3 knots, 0.05 for
4–6 and 0.025 for 7 (Harrell, RMS Table 2.3); a value holding ≥ 5 % of the rows at either
end (``fractied``) becomes its own outer knot; with fewer than 100 values the outer
knots move to the 5th smallest and 5th largest value.

The knots are fixed on the training data (``resolve_knots``) and carried with the model
(fit summary, model file), so new patients and bootstrap resamples are put on the same
basis, as rms's ``validate`` and ``predict`` do.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

__all__ = ["MIN_KNOTS", "MAX_KNOTS", "rcs_knots", "rcs_basis", "rcs_names", "rcs_nonlinear_columns"]

MIN_KNOTS, MAX_KNOTS = 3, 7


def _outer(nk: int) -> float:
    return 0.025 if nk > 6 else (0.05 if nk > 3 else 0.10)


def rcs_knots(x: Sequence[float], nk: int, *, name: str = "x", fractied: float = 0.05) -> np.ndarray:
    """Harrell's default knot locations for ``nk`` knots (``rcspline.eval(x, nk = nk)``).

    Parameters
    ----------
    x : sequence of float
        The training values (missing values are ignored, as in Hmisc).
    nk : int
        Number of knots, 3 to 7.
    name : str
        The variable, for messages.
    fractied : float
        Fraction of rows at the minimum (maximum) from which that end gets its own knot.

    Returns
    -------
    ndarray
        Sorted distinct knots (fewer than ``nk`` only when x has few distinct values,
        with a warning, as Hmisc does).
    """
    if not MIN_KNOTS <= int(nk) <= MAX_KNOTS:
        raise ValueError(f"spline of {name!r}: {nk} knots requested; rms's defaults exist for 3 to 7")
    xx = np.asarray(x, dtype=float)
    xx = xx[np.isfinite(xx)]
    n = xx.size
    if n < 6:
        raise ValueError(f"spline of {name!r}: knots need at least 6 non-missing values, found {n}")
    xu, counts = np.unique(xx, return_counts=True)
    if xu.size - 2 <= nk:
        warnings.warn(
            f"spline of {name!r}: {nk} knots requested with {xu.size} distinct values; "
            f"knots set to the {xu.size - 2} interior values (as Hmisc's rcspline.eval)",
            stacklevel=2,
        )
        return _checked(xu[1:-1], name)
    outer, nke = _outer(nk), nk
    first: list[float] = []
    last: list[float] = []
    over_first = over_last = False
    f = counts / n
    if 0 < fractied < 1 and np.max(f[1:-1]) < fractied:
        if f[0] >= fractied:
            first = [float(xx[xx > xx.min()].min())]
            xx = xx[xx > first[0]]
            nke, over_first = nke - 1, True
        if f[-1] >= fractied:
            last = [float(xx[xx < xx.max()].max())]
            xx = xx[xx < last[0]]
            nke, over_last = nke - 1, True
    if nke == 1:
        knots = np.array([np.median(xx)])
    elif xu.size <= nke:
        knots = xu.copy()
    else:
        p = np.linspace(0.5, 1 - outer, nke) if nke == 2 else np.linspace(outer, 1 - outer, nke)
        knots = np.quantile(xx, p)
        if np.unique(knots).size < min(nke, 3):
            raise ValueError(
                f"spline of {name!r}: the default quantiles give only {np.unique(knots).size} distinct "
                f"knots (many tied values); use fewer knots or keep {name!r} linear"
            )
        if xx.size < 100:
            s = np.sort(xx)
            if not over_first:
                knots[0] = s[4]
            if not over_last:
                knots[nke - 1] = s[s.size - 5]
    return _checked(np.concatenate([first, knots, last]), name)


def _checked(knots: np.ndarray, name: str) -> np.ndarray:
    knots = np.unique(np.asarray(knots, dtype=float))
    if knots.size < 3:
        raise ValueError(f"spline of {name!r}: fewer than 3 distinct knots ({knots.tolist()}); keep it linear")
    return knots


def rcs_basis(x: Sequence[float], knots: Sequence[float]) -> np.ndarray:
    """Columns of ``rcs(x, knots)``: x and the k − 2 non-linear terms (norm = 2).

    Returns an n × (k − 1) array; see the module docstring for the formula.
    """
    t = np.asarray(knots, dtype=float)
    k = t.size
    if k < 3 or np.any(np.diff(t) <= 0):
        raise ValueError(f"spline knots must be at least 3 strictly increasing values, got {t.tolist()}")
    x = np.asarray(x, dtype=float)
    scale = (t[-1] - t[0]) ** 2
    span = t[-1] - t[-2]
    out = np.empty((x.size, k - 1))
    out[:, 0] = x
    tail1 = np.maximum(x - t[-2], 0.0) ** 3
    tail2 = np.maximum(x - t[-1], 0.0) ** 3
    for j in range(k - 2):
        out[:, j + 1] = (
            np.maximum(x - t[j], 0.0) ** 3 - tail1 * (t[-1] - t[j]) / span + tail2 * (t[-2] - t[j]) / span
        ) / scale
    return out


def rcs_names(name: str, n_knots: int) -> list[str]:
    """rms's coefficient names of ``rcs(name, k)``: ``name``, ``name'``, ``name''``, ..."""
    return [name + "'" * j for j in range(n_knots - 1)]


def rcs_nonlinear_columns(n_knots: int) -> list[int]:
    """Positions, within a spline term's columns, of its non-linear part (all but x)."""
    return list(range(1, n_knots - 1))
