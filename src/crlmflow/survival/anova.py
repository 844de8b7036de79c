"""Wald tests per predictor as rms's ``anova()`` prints them for a fitted Cox model.

Method (Harrell, Regression Modeling Strategies, 2nd ed., sec. 5.5 and rms ``anova.rms``):
for a set S of coefficients, W = b_Sᵀ V_SS⁻¹ b_S with df = |S| and p = P(χ²_df > W), V the
inverse information (the fit's variance matrix).  Rows, in model order:

* each predictor: all its coefficients (a factor's dummies, a spline's k − 1 columns);
* `` Nonlinear`` under a spline predictor: its k − 2 non-linear columns (H0: linear);
* ``TOTAL NONLINEAR``: every spline's non-linear columns jointly (only when the model has
  more than one non-linear predictor, as rms prints it; with one it equals that row);
* ``TOTAL``: every coefficient.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import special

__all__ = ["wald_chisq", "anova_table"]


def wald_chisq(coef: np.ndarray, var: np.ndarray, idx: Sequence[int]) -> tuple[float, int, float]:
    """Joint Wald chi-square of ``coef[idx]`` = 0: (chisq, df, p)."""
    idx = list(idx)
    b = np.asarray(coef, dtype=float)[idx]
    v = np.asarray(var, dtype=float)[np.ix_(idx, idx)]
    chisq = float(b @ np.linalg.solve(v, b))
    return chisq, len(idx), float(special.chdtrc(len(idx), chisq))


def anova_table(
    coef: np.ndarray,
    var: np.ndarray,
    groups: Mapping[str, Sequence[int]],
    nonlinear: Mapping[str, Sequence[int]] | None = None,
) -> pd.DataFrame:
    """rms-style Wald ``anova`` of a fitted model.

    Parameters
    ----------
    coef, var : ndarray
        Coefficients and their variance matrix (inverse information).
    groups : mapping
        Predictor → positions of its coefficients, in model order.
    nonlinear : mapping, optional
        Spline predictor → positions (in the full coefficient vector) of its non-linear
        columns.

    Returns
    -------
    DataFrame
        Columns ``row`` (rms's row label), ``predictor`` (blank for the totals), ``part``
        (``all``, ``nonlinear``, ``total_nonlinear``, ``total``), ``chisq``, ``df``, ``p``.
    """
    nonlinear = {k: list(v) for k, v in (nonlinear or {}).items() if len(v)}
    rows = []
    for name, idx in groups.items():
        rows.append((name, name, "all", *wald_chisq(coef, var, idx)))
        if name in nonlinear:
            rows.append((" Nonlinear", name, "nonlinear", *wald_chisq(coef, var, nonlinear[name])))
    if len(nonlinear) > 1:
        every = [i for v in nonlinear.values() for i in v]
        rows.append(("TOTAL NONLINEAR", "", "total_nonlinear", *wald_chisq(coef, var, every)))
    all_idx = [i for v in groups.values() for i in v]
    if all_idx:
        rows.append(("TOTAL", "", "total", *wald_chisq(coef, var, all_idx)))
    return pd.DataFrame(rows, columns=["row", "predictor", "part", "chisq", "df", "p"])
