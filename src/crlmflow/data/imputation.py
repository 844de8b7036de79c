"""Multiple imputation of missing candidate predictors by chained equations (MICE).

Method: fully conditional specification (van Buuren, *Flexible Imputation of Missing
Data*, 2nd ed. 2018, ch. 4; White, Royston & Wood, Stat Med 2011;30:377–399). Each
incomplete predictor is regressed on all the others in turn, cycling ``max_iter`` times,
and every imputation draws its values from the posterior predictive distribution.

*Outcome in the imputation model.* For a Cox analysis the imputation model includes the
event indicator and the Nelson–Aalen estimate of the cumulative hazard at the patient's own
time, ``H(T_i)`` (White & Royston, Stat Med 2009;28:1982–1998), computed on all patients
of the data being imputed (:func:`nelson_aalen_at`). Leaving the outcome out would bias the
imputed predictors' associations towards zero (Moons et al., J Clin Epidemiol 2006).

*Engine.* scikit-learn's ``IterativeImputer(sample_posterior=True)`` with its default
Bayesian ridge regression per column: a well-kept, fast implementation of chained
equations whose posterior draws make the m imputations *proper* (Rubin 1987) — the
spread between imputations carries the uncertainty of the missing values. It is chosen
over statsmodels' ``MICEData`` (predictive mean matching) because statsmodels is not a
dependency of the workflow and scikit-learn is; sampling is truncated to each column's
observed range (``min_value``/``max_value``), so **no imputed value lies outside the
observed range**. Discrete columns are imputed on a continuous scale and mapped back:

* ``binary``: rounded to 0/1 (the nearest allowed level);
* numeric with an ``allowed`` list (a score): rounded to the nearest allowed value;
* ``factor``: indicator columns of its non-reference levels are imputed; the level whose
  indicator (reference: one minus their sum) is largest is taken.

Rounding discrete draws is the approximation van Buuren discusses (§4.6 "rounding"); with
few categories it can bias proportions slightly (Horton, Lipsitz & Parzen 2003), which is
why binary predictors with many missing values are better handled by PMM or logistic
models (not offered here).

Derived indices (NLR, PLR, SII) are imputed as variables in their own right
("just another variable", von Hippel, Sociol Methodol 2009), not passively.

*Number of imputations.* :func:`n_imputations`: m = max(20, ⌈100 × fraction of incomplete
patients⌉), White, Royston & Wood's rule of thumb (Stat Med 2011, §7.3: m at least the
percentage of incomplete cases), with at least 20 imputations.

*Randomness.* Imputation i of endpoint k uses the integer seed of the named stream
``stream(seed, "multiple_imputation", k, i)`` (:mod:`crlmflow.pipeline.streams`), so the
imputations are reproducible and independent of each other and of every other step.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from crlmflow.pipeline.streams import integer_seed
from crlmflow.survival.design import Candidate, normalise_candidates

__all__ = [
    "MIN_IMPUTATIONS",
    "imputation_columns",
    "impute_chained",
    "imputed_counts",
    "n_imputations",
    "nelson_aalen_at",
]

#: Smallest default number of imputations.
MIN_IMPUTATIONS = 20

#: Names of the outcome columns added to the imputation model.
EVENT_COLUMN = "_mi_event"
HAZARD_COLUMN = "_mi_cumhaz"


def n_imputations(fraction_incomplete: float, minimum: int = MIN_IMPUTATIONS) -> int:
    """Default number of imputations: max(``minimum``, ⌈100 × fraction of incomplete cases⌉).

    White, Royston & Wood (Stat Med 2011;30:377–399, §7.3) rule of thumb: m should be at
    least the percentage of incomplete cases; the floor of 20 keeps the Monte Carlo error
    of pooled estimates and of selection frequencies small when few cases are incomplete.
    """
    f = float(fraction_incomplete)
    if not 0.0 <= f <= 1.0:
        raise ValueError(f"fraction of incomplete cases must be in [0, 1], got {f}")
    return max(int(minimum), int(math.ceil(round(100.0 * f, 9))))


def nelson_aalen_at(time, event) -> np.ndarray:
    """Nelson–Aalen cumulative hazard at each patient's own time, ``H(T_i)`` = Σ_{t_j ≤ T_i}
    d_j / n_j (ties: all events at a time count, as ``survival::basehaz`` without covariates).

    The outcome summary White & Royston (2009) recommend for the imputation model of a
    Cox analysis, together with the event indicator.
    """
    t = np.asarray(time, float)
    d = np.asarray(event, float)
    uniq = np.unique(t[d > 0])
    if uniq.size == 0:
        return np.zeros_like(t)
    at_risk = np.array([(t >= u).sum() for u in uniq], float)
    deaths = np.array([d[t == u].sum() for u in uniq], float)
    cum = np.cumsum(deaths / at_risk)
    idx = np.searchsorted(uniq, t, side="right") - 1
    return np.where(idx >= 0, cum[np.clip(idx, 0, None)], 0.0)


def imputation_columns(candidates) -> list[Candidate]:
    """The candidates as :class:`Candidate` (spline knots are irrelevant to imputation)."""
    return normalise_candidates(candidates)


def _encode(df: pd.DataFrame, cands: list[Candidate]) -> tuple[pd.DataFrame, dict]:
    """Numeric matrix for the imputer: factors as indicators of their non-reference levels
    (NaN where the factor is missing)."""
    cols, factor_cols = {}, {}
    for c in cands:
        if c.type == "factor":
            s = df[c.name]
            names = []
            for lev in c.levels:
                if lev == c.ref:
                    continue
                name = f"{c.name}=={lev}"
                cols[name] = np.where(s.isna(), np.nan, (s.astype(object) == lev).astype(float))
                names.append((name, lev))
            factor_cols[c.name] = names
        else:
            cols[c.name] = pd.to_numeric(df[c.name], errors="coerce").to_numpy(float)
    return pd.DataFrame(cols, index=df.index), factor_cols


def _decode(X: pd.DataFrame, df: pd.DataFrame, cands: list[Candidate], factor_cols, allowed) -> pd.DataFrame:
    """Imputed matrix back to the predictors' own scales and levels; observed cells kept."""
    out = df.copy()
    for c in cands:
        miss = df[c.name].isna().to_numpy()
        if not miss.any():
            continue
        if c.type == "factor":
            names = factor_cols[c.name]
            ind = X[[n for n, _ in names]].to_numpy(float)
            scores = np.column_stack([1.0 - ind.sum(axis=1), ind])
            levels = [c.ref, *[lev for _, lev in names]]
            chosen = np.array(levels, dtype=object)[np.argmax(scores, axis=1)]
            col = out[c.name].astype(object)
            col[miss] = chosen[miss]
            out[c.name] = col
            continue
        vals = X[c.name].to_numpy(float)
        if c.type == "binary":
            vals = np.clip(np.rint(vals), 0, 1)
        elif allowed.get(c.name):
            lev = np.sort(np.asarray(allowed[c.name], float))
            vals = lev[np.abs(vals[:, None] - lev[None, :]).argmin(axis=1)]
        col = out[c.name].astype(float)
        col[miss] = vals[miss]
        out[c.name] = col
    return out


def impute_chained(
    df: pd.DataFrame,
    candidates,
    time_col: str,
    event_col: str,
    m: int,
    *,
    seed: int,
    endpoint_index: int = 0,
    max_iter: int = 10,
    purpose: str = "multiple_imputation",
    keys: tuple = (),
) -> list[pd.DataFrame]:
    """``m`` completed copies of ``df``: missing candidate predictors imputed by chained
    equations with the outcome (event indicator and Nelson–Aalen ``H(T)``) in the model.

    Parameters
    ----------
    df : DataFrame
        Patients (one row each) with the candidates, ``time_col`` and ``event_col``
        (complete: a patient without an outcome is excluded before imputation).
    candidates : list of dict or Candidate
        The config's candidates (``type`` numeric/binary/factor; ``allowed`` values of a
        numeric score are honoured when rounding).
    m : int
        Number of imputations (:func:`n_imputations`).
    seed, endpoint_index : int
        The study seed and the endpoint's index: imputation i draws from
        ``stream(seed, "multiple_imputation", endpoint_index, i)``.
    max_iter : int
        Cycles of the chained equations per imputation.
    purpose, keys :
        The named stream and extra keys: imputation i draws from ``stream(seed, purpose,
        endpoint_index, *keys, i)`` (``mi_bootstrap_imputation`` with the replicate as key
        imputes a bootstrap sample).

    Returns
    -------
    list of DataFrame
        Copies of ``df`` with the candidates' missing cells filled; other columns untouched.
    """
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    if m < 1:
        raise ValueError(f"number of imputations must be at least 1, got {m}")
    if df[[time_col, event_col]].isna().any().any():
        raise ValueError(f"{time_col}/{event_col}: the outcome must be complete to impute predictors")
    cands = imputation_columns(candidates)
    allowed = {
        c["name"]: c.get("allowed") for c in candidates if isinstance(c, dict) and c.get("type", "numeric") == "numeric"
    }
    X, factor_cols = _encode(df, cands)
    X[EVENT_COLUMN] = df[event_col].to_numpy(float)
    X[HAZARD_COLUMN] = nelson_aalen_at(df[time_col], df[event_col])
    if not X.isna().any().any():
        return [df.copy() for _ in range(m)]
    arr = X.to_numpy(float)
    lo = np.nanmin(arr, axis=0)
    hi = np.nanmax(arr, axis=0)
    out = []
    for i in range(m):
        imp = IterativeImputer(
            sample_posterior=True,
            max_iter=max_iter,
            random_state=integer_seed(seed, purpose, endpoint_index, *keys, i),
            min_value=lo,
            max_value=hi,
            skip_complete=True,
            keep_empty_features=True,
        )
        with warnings.catch_warnings():
            # convergence of the chain is not expected with posterior sampling
            warnings.filterwarnings("ignore", message=".*IterativeImputer.*early stopping.*")
            filled = pd.DataFrame(imp.fit_transform(arr), columns=X.columns, index=X.index)
        out.append(_decode(filled, df, cands, factor_cols, allowed))
    return out


def imputed_counts(df: pd.DataFrame, candidates) -> pd.DataFrame:
    """Per candidate: ``imputed`` (missing values, imputed under multiple imputation) and
    their ``percent`` of the patients; a last row counts the patients with any imputed
    value. Counts only, no patient-level data."""
    names = [c.name for c in imputation_columns(candidates)]
    miss = df[names].isna()
    rows = [{"column": c, "imputed": int(miss[c].sum())} for c in names]
    rows.append({"column": "(patients with any imputed value)", "imputed": int(miss.any(axis=1).sum())})
    out = pd.DataFrame(rows)
    out["percent"] = 100.0 * out["imputed"] / max(len(df), 1)
    return out
