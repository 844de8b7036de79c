"""Combining analyses of m imputed datasets: Rubin's rules, the majority rule of variable
selection, and pooled performance measures.

* :func:`rubin_pool` — Rubin's rules (Rubin, *Multiple Imputation for Nonresponse in
  Surveys*, 1987; van Buuren, *Flexible Imputation of Missing Data* 2nd ed. §2.3–2.4).
  For estimates Q_i with variances U_i, i = 1..m::

      Q̄ = mean Q_i,   Ū = mean U_i,   B = Σ (Q_i − Q̄)² / (m − 1)
      T = Ū + (1 + 1/m) B                       (total variance; pooled SE = √T)
      r = (1 + 1/m) B / Ū                       (relative increase in variance)
      λ = (1 + 1/m) B / T                       (proportion of variance due to missingness)
      ν_old = (m − 1) / λ²                      (Rubin's degrees of freedom)
      ν_obs = (ν_com + 1)/(ν_com + 3) ν_com (1 − λ),  ν = ν_old ν_obs / (ν_old + ν_obs)
                                                (Barnard & Rubin, Biometrika 1999, when the
                                                 complete-data df ν_com is given)
      fmi = (r + 2/(ν + 3)) / (r + 1)           (fraction of missing information)

  The interval is Q̄ ± t_{ν, 0.975} √T and the p-value that of Q̄/√T on t_ν, as
  ``mice::pool`` / ``summary(pool(fit))`` report them.
* :func:`majority_terms` — the majority rule of Wood, White & Royston (Stat Med
  2008;27:3227–3246): select the model in each imputed dataset and keep the terms selected
  in at least half of them.
* :func:`pool_mean` — performance measures (C-index, calibration slope) averaged over the
  imputations, Marshall et al. (BMC Med Res Methodol 2009;9:57) "pooled by averaging".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["majority_terms", "pool_mean", "rubin_pool", "selection_table"]


def rubin_pool(
    estimates, variances, *, df_complete: float | None = None, names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Pool m analyses by Rubin's rules (see the module docstring for the formulas).

    Parameters
    ----------
    estimates, variances : array-like, shape (m, p) or (m,)
        The estimate of each of p parameters and its squared standard error in each of the
        m imputed datasets (the diagonal of the covariance: parameters are pooled one at a
        time, as ``mice::pool``).
    df_complete : float, optional
        Complete-data degrees of freedom ν_com; given, the Barnard–Rubin small-sample
        degrees of freedom are used (for a Cox model, e.g. the number of events minus the
        number of parameters); None: Rubin's large-sample ν_old.
    names : sequence of str, optional
        Parameter names (index of the result).

    Returns
    -------
    DataFrame
        Per parameter: ``estimate`` Q̄, ``ubar`` Ū, ``b`` B, ``t`` T, ``se`` √T, ``riv`` r,
        ``lambda`` λ, ``df`` ν, ``fmi``, ``statistic`` Q̄/√T, ``p``, ``lower``/``upper``
        (95% interval on t_ν), ``m``.
    """
    q = np.asarray(estimates, float)
    u = np.asarray(variances, float)
    q = q[:, None] if q.ndim == 1 else q
    u = u[:, None] if u.ndim == 1 else u
    if q.shape != u.shape:
        raise ValueError(f"estimates {q.shape} and variances {u.shape} must have the same shape")
    m = q.shape[0]
    if m < 2:
        raise ValueError(f"Rubin's rules need at least 2 imputations, got {m}")
    qbar = q.mean(axis=0)
    ubar = u.mean(axis=0)
    b = q.var(axis=0, ddof=1)
    t = ubar + (1.0 + 1.0 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = (1.0 + 1.0 / m) * b / ubar
        lam = (1.0 + 1.0 / m) * b / t
        df_old = np.where(lam > 0, (m - 1) / lam**2, np.inf)
        if df_complete is not None:
            nu = float(df_complete)
            df_obs = (nu + 1.0) / (nu + 3.0) * nu * (1.0 - lam)
            df = np.where(np.isinf(df_old), df_obs, df_old * df_obs / (df_old + df_obs))
        else:
            df = df_old
        fmi = (riv + 2.0 / (df + 3.0)) / (riv + 1.0)
        se = np.sqrt(t)
        stat = qbar / se
    crit = stats.t.ppf(0.975, df)
    out = pd.DataFrame(
        {
            "estimate": qbar,
            "ubar": ubar,
            "b": b,
            "t": t,
            "se": se,
            "riv": riv,
            "lambda": lam,
            "df": df,
            "fmi": fmi,
            "statistic": stat,
            "p": 2.0 * stats.t.sf(np.abs(stat), df),
            "lower": qbar - crit * se,
            "upper": qbar + crit * se,
            "m": m,
        },
        index=list(names) if names is not None else None,
    )
    return out


def selection_table(selected: Sequence[Sequence[str]], names: Sequence[str], threshold: float = 0.5) -> pd.DataFrame:
    """Per candidate: ``times_selected`` over the m imputed datasets, ``proportion``, and
    ``in_final`` = proportion ≥ ``threshold`` (the majority rule, :func:`majority_terms`)."""
    m = len(selected)
    if m == 0:
        raise ValueError("no imputed datasets: nothing to count")
    counts = {n: sum(n in set(s) for s in selected) for n in names}
    df = pd.DataFrame({"variable": list(names), "times_selected": [counts[n] for n in names]})
    df["proportion"] = df["times_selected"] / m
    df["in_final"] = df["proportion"] >= threshold - 1e-12
    df["imputations"] = m
    return df


def majority_terms(selected: Sequence[Sequence[str]], names: Sequence[str], threshold: float = 0.5) -> list[str]:
    """Terms selected in at least ``threshold`` (default half) of the imputed datasets, in
    the order of ``names`` — Wood, White & Royston's majority rule (Stat Med 2008)."""
    tab = selection_table(selected, names, threshold)
    return tab.loc[tab["in_final"], "variable"].tolist()


def pool_mean(values) -> dict:
    """Average of a performance measure over imputations (Marshall et al. 2009), with the
    between-imputation SD and the number of finite values."""
    v = np.asarray(values, float)
    ok = np.isfinite(v)
    if not ok.any():
        return {"pooled": float("nan"), "between_sd": float("nan"), "n": 0}
    return {
        "pooled": float(v[ok].mean()),
        "between_sd": float(v[ok].std(ddof=1)) if ok.sum() > 1 else float("nan"),
        "n": int(ok.sum()),
    }
