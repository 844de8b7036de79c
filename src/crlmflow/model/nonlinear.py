"""A fitted model's Wald ``anova`` and partial effects, as rms's ``anova`` and ``Predict``.

* ``model_anova``: ``crlmflow.survival.anova.anova_table`` on a stored fit summary, one
  row per predictor (all its columns), a `` Nonlinear`` row under each spline, and the
  totals (Harrell, Regression Modeling Strategies, 2nd ed., sec. 5.5).
* ``interquartile_effects``: a spline's hazard ratio as rms's ``summary(fit)`` gives it, upper
  vs lower quartile (datadist's ``q.effect``), since its coefficients have no per-unit meaning.
* ``partial_effect``: log relative hazard against one predictor with the others held at
  their adjust-to values (rms ``datadist``: the median of a numeric predictor, the most
  frequent level of a factor; see ``adjust_to``), as ``Predict(cph_fit, x, conf.int = 0.95)``:
  ŷ = x β − x̄ β (centred at the training means of the design columns, cph's ``center``)
  with a pointwise Wald band ŷ ± z·√((x − x̄) V (x − x̄)ᵀ).  rms's default grid is 200
  points over datadist's display range (``display_limits``), or the distinct values of a
  predictor with at most 10 of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from crlmflow.model.nomogram import N_UNIQUE, display_limits
from crlmflow.survival.anova import anova_table
from crlmflow.survival.design import design_matrix, normalise_candidates, with_knots
from crlmflow.survival.splines import rcs_nonlinear_columns

__all__ = [
    "model_candidates",
    "model_anova",
    "adjust_to",
    "default_grid",
    "partial_effect",
    "partial_effects",
    "interquartile_effects",
    "with_spline_effects",
]

GRID_POINTS = 200  # rms Predict's default number of points for a continuous predictor


def model_candidates(fit: dict, candidates: list) -> list:
    """Resolved candidates of the fit's selected predictors (spline knots from the fit)."""
    chosen = {v: None for v in fit.get("selected", [])}
    cands = normalise_candidates(with_knots(candidates, fit.get("knots")))
    by_name = {c.name: c for c in cands}
    return [by_name[v] for v in chosen]


def _groups(fit: dict, cands: list) -> tuple[dict, dict]:
    terms = list(fit.get("terms", []))
    groups, nonlin = {}, {}
    for c in cands:
        names = c.term_names()
        groups[c.name] = [terms.index(t) for t in names]
        if c.is_spline:
            nonlin[c.name] = [groups[c.name][j] for j in rcs_nonlinear_columns(len(c.knots))]
    return groups, nonlin


def model_anova(fit: dict, candidates: list) -> pd.DataFrame:
    """rms-style Wald anova of a stored fit summary (``fit_summary`` with ``var``)."""
    if not fit.get("terms"):
        return pd.DataFrame(columns=["row", "predictor", "part", "chisq", "df", "p"])
    groups, nonlin = _groups(fit, model_candidates(fit, candidates))
    return anova_table(np.asarray(fit["coef"]), np.asarray(fit["var"]), groups, nonlin)


def adjust_to(data: pd.DataFrame, cands: list) -> dict:
    """rms ``datadist`` adjust-to values: a numeric (or binary) predictor's median, but its
    lower value when it has 2 distinct values and the middle one when it has 3; a factor's
    most frequent level (first in level order on ties)."""
    out = {}
    for c in cands:
        col = data[c.name]
        if c.type == "factor":
            counts = col.value_counts()
            levels = [lv for lv in c.levels if lv in counts.index]
            out[c.name] = max(levels, key=lambda lv: (counts[lv], -levels.index(lv)))
        else:
            v = pd.to_numeric(col).to_numpy(float)
            uniq = np.unique(v)
            # datadist: the lowest of 2 distinct values, the middle of 3, else the median
            out[c.name] = float(uniq[0] if uniq.size < 3 else uniq[1] if uniq.size == 3 else np.median(v))
    return out


def default_grid(x: pd.Series, n: int = GRID_POINTS) -> np.ndarray:
    """rms Predict's default values of a numeric predictor (see module docstring)."""
    v = pd.to_numeric(x).dropna().to_numpy(float)
    uniq = np.unique(v)
    if uniq.size <= N_UNIQUE:
        return uniq
    lo, hi = display_limits(v)
    return np.linspace(lo, hi, n)


def partial_effect(
    fit: dict, candidates: list, data: pd.DataFrame, variable: str, grid=None, conf_level: float = 0.95
) -> pd.DataFrame:
    """Log relative hazard against ``variable`` with a pointwise confidence band.

    Parameters
    ----------
    fit : dict
        Fit summary (``terms``, ``coef``, ``var``, ``means``, ``selected``, ``knots``).
    candidates : list
        Config candidate specs.
    data : DataFrame
        Training rows (adjust-to values and the default grid).
    variable : str
        A selected numeric predictor.
    grid : array-like, optional
        Values of ``variable``; rms's default grid when omitted.

    Returns
    -------
    DataFrame
        ``variable``, ``x``, ``yhat``, ``lower``, ``upper``, ``se``.
    """
    cands = model_candidates(fit, candidates)
    by_name = {c.name: c for c in cands}
    if variable not in by_name or by_name[variable].type == "factor":
        raise ValueError(f"{variable!r} is not a numeric predictor of the model")
    x = default_grid(data[variable]) if grid is None else np.asarray(grid, dtype=float)
    X = _design_rows(fit, cands, data, variable, x)
    beta, means = np.asarray(fit["coef"]), np.asarray(fit["means"])
    Xc = X - means
    yhat = Xc @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", Xc, np.asarray(fit["var"]), Xc))
    z = special.ndtri(0.5 + conf_level / 2)
    return pd.DataFrame(
        {"variable": variable, "x": x, "yhat": yhat, "lower": yhat - z * se, "upper": yhat + z * se, "se": se}
    )


def partial_effects(fit: dict, candidates: list, data: pd.DataFrame) -> pd.DataFrame:
    """``partial_effect`` on rms's default grid for every numeric (non-binary) predictor of
    the model, stacked (empty when there is none)."""
    cols = ["variable", "x", "yhat", "lower", "upper", "se"]
    parts = [
        partial_effect(fit, candidates, data, c.name) for c in model_candidates(fit, candidates) if c.type == "numeric"
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def _design_rows(fit: dict, cands: list, data: pd.DataFrame, variable: str, x) -> np.ndarray:
    adj = adjust_to(data, cands)
    new = pd.DataFrame({c.name: [adj[c.name]] * len(x) for c in cands})
    new[variable] = np.asarray(x, dtype=float)
    des = design_matrix(new, cands)
    return des.X[:, [des.columns.index(t) for t in fit["terms"]]]


def interquartile_effects(fit: dict, candidates: list, data: pd.DataFrame, conf_level: float = 0.95) -> pd.DataFrame:
    """Hazard ratio of each spline predictor, upper vs lower quartile of the training values,
    as rms ``summary(fit)``: log HR = (x_Q3 − x_Q1) β with variance (x_Q3 − x_Q1) V (x_Q3 − x_Q1)ᵀ,
    the other predictors at their adjust-to values (a spline's effect depends on where it is
    read).  ``p`` is the predictor's overall Wald test (``model_anova``), not the contrast's.

    Columns: variable, low, high, hr, hr_lower, hr_upper, p.
    """
    cands = model_candidates(fit, candidates)
    anova = model_anova(fit, candidates)
    overall = anova[anova["part"] == "all"].set_index("predictor")["p"]
    z = special.ndtri(0.5 + conf_level / 2)
    beta, var = np.asarray(fit["coef"]), np.asarray(fit["var"])
    rows = []
    for c in cands:
        if not c.is_spline:
            continue
        lo, hi = np.quantile(pd.to_numeric(data[c.name]).to_numpy(float), [0.25, 0.75])
        X = _design_rows(fit, cands, data, c.name, [lo, hi])
        d = X[1] - X[0]
        est, se = float(d @ beta), float(np.sqrt(d @ var @ d))
        rows.append((c.name, lo, hi, np.exp(est), np.exp(est - z * se), np.exp(est + z * se), overall[c.name]))
    return pd.DataFrame(rows, columns=["variable", "low", "high", "hr", "hr_lower", "hr_upper", "p"])


def with_spline_effects(forest: pd.DataFrame, fit: dict, candidates: list, data: pd.DataFrame) -> pd.DataFrame:
    """A forest table (``term, label, hr, hr_lower, hr_upper, p``) with each spline's k − 1
    coefficient rows replaced by its interquartile hazard ratio (``interquartile_effects``);
    unchanged for a model without splines."""
    if not fit.get("knots"):
        return forest
    effects = interquartile_effects(fit, candidates, data).set_index("variable")
    labels = {c.name: c.name for c in model_candidates(fit, candidates)}
    labels.update({c["name"]: c.get("label", c["name"]) for c in candidates if isinstance(c, dict)})
    rows = []
    done = set()
    spline_terms = {t: c.name for c in model_candidates(fit, candidates) if c.is_spline for t in c.term_names()}
    for r in forest.to_dict("records"):
        var = spline_terms.get(r["term"])
        if var is None:
            rows.append(r)
        elif var not in done:
            e = effects.loc[var]
            label = f"{labels[var]}, spline ({e['high']:.4g} vs {e['low']:.4g}, Q3 vs Q1)"
            rows.append({"term": var, "label": label, **{k: e[k] for k in ("hr", "hr_lower", "hr_upper", "p")}})
            done.add(var)
    return pd.DataFrame(rows, columns=forest.columns)
