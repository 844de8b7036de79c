"""Models beyond the paper: a pre-specified full model, penalised Cox models and the
uniformly shrunk stepwise model, each a fixed linear predictor with its own baseline.

* ``full``: every eligible candidate in one Cox model, no selection (Harrell, *Regression
  Modeling Strategies* 2nd ed. §4.12: pre-specification avoids selection's bias).
* ``lasso``, ``elastic_net``, ``ridge``: penalised Cox on every eligible candidate, the
  penalty chosen by cross-validated partial likelihood (:mod:`crlmflow.model.penalised`;
  Tibshirani, Stat Med 1997; Zou & Hastie 2005; Verweij & van Houwelingen 1994).
* ``shrunk_stepwise``: the paper's stepwise coefficients times a uniform shrinkage factor,
  the bootstrap (selection-aware) calibration slope (van Houwelingen & le Cessie, Stat Med
  1990; Harrell, Lee & Mark, Stat Med 1996; Steyerberg, *Clinical Prediction Models* §13.2).

Every model's baseline cumulative hazard is re-estimated at its fixed coefficients on the
training data (Efron-type, as the paper's model), so that shrinkage changes the spread of
the predictions but not their average (the Cox analogue of re-estimating the intercept).

The functions take a training DataFrame and the config's candidates and return a
:class:`LinearCoxModel` whose ``predict`` gives the centred linear predictor and survival at
the horizons for any rows — the simulation study can call them on its replicate cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crlmflow.model.penalised import PenalisedPath, penalised_cox_cv
from crlmflow.report.formats import horizon_key
from crlmflow.survival.cox import BaselineHazard, CoxData, baseline_hazard, baseline_survival_at
from crlmflow.survival.design import Candidate, Design, design_matrix, normalise_candidates, resolve_knots, with_knots

__all__ = [
    "ALTERNATIVE_METHODS",
    "LinearCoxModel",
    "fit_alternative",
    "fit_full_model",
    "fit_penalised_model",
    "shrink_coefficients",
]

#: method -> l1_ratio of the penalised fits (elastic net's from the config)
PENALISED = {"lasso": 1.0, "ridge": 0.0, "elastic_net": None}
ALTERNATIVE_METHODS = ("full", "lasso", "elastic_net", "ridge", "shrunk_stepwise")


@dataclass
class LinearCoxModel:
    """A Cox model with fixed coefficients: columns of the design, β per column (0 for a
    column a penalty removed), training means (centring) and the baseline hazard at
    covariates 0."""

    method: str
    candidates: list[Candidate]
    columns: list[str]
    coef: np.ndarray
    means: np.ndarray
    baseline: BaselineHazard
    details: dict = field(default_factory=dict)
    cv: pd.DataFrame | None = None

    @property
    def center(self) -> float:
        return float(self.means @ self.coef)

    def design(self, df: pd.DataFrame) -> np.ndarray:
        des = design_matrix(df, self.candidates)
        return des.X[:, [des.columns.index(c) for c in self.columns]] if self.columns else np.zeros((len(df), 0))

    def predict(self, df: pd.DataFrame, horizons) -> pd.DataFrame:
        """Centred linear predictor ``lp`` and ``surv_<h>`` = exp(−H0(h)·exp(xβ)) per row."""
        raw = self.design(df) @ self.coef if self.columns else np.zeros(len(df))
        out = pd.DataFrame({"lp": raw - self.center}, index=df.index)
        surv = baseline_survival_at(self.baseline, horizons, lp=raw)
        for j, h in enumerate(horizons):
            out[f"surv_{horizon_key(h)}"] = surv[:, j]
        return out

    def coefficients(self) -> pd.DataFrame:
        """One row per design column: coef, HR and whether the column is in the model."""
        return pd.DataFrame(
            {
                "term": self.columns,
                "coef": self.coef,
                "hr": np.exp(self.coef),
                "retained": self.coef != 0,
            }
        )


def _eligible(candidates, exclude) -> list[Candidate]:
    return [c for c in normalise_candidates(candidates) if c.name not in set(exclude)]


def _training_design(train, candidates, time_col, event_col, exclude):
    # a spline's knots are placed on the training data (rms's rcs), then travel with the model
    des = design_matrix(train, resolve_knots(train, _eligible(candidates, exclude)))
    t = train[time_col].to_numpy(float)
    e = train[event_col].to_numpy(float)
    return des, t, e


def _with_baseline(method, des, t, e, coef, details=None, cv=None) -> LinearCoxModel:
    """The model at fixed coefficients, with its baseline re-estimated on the training data."""
    coef = np.asarray(coef, float)
    data = CoxData(t, e, des.X, ties="efron")
    fit = data.fit(init=coef, max_iter=0, on_separation="ignore")
    bh = baseline_hazard(data, fit)
    return LinearCoxModel(method, des.candidates, list(des.columns), coef, des.X.mean(axis=0), bh, details or {}, cv)


def fit_full_model(train: pd.DataFrame, candidates, time_col: str, event_col: str, *, exclude=()) -> LinearCoxModel:
    """Pre-specified full model: every eligible candidate, maximum partial likelihood (Efron)."""
    des, t, e = _training_design(train, candidates, time_col, event_col, exclude)
    fit = CoxData(t, e, des.X, ties="efron", names=des.columns).fit(on_separation="warn")
    details = {"lr_chisq": fit.lr_test.chisq, "df": fit.lr_test.df, "converged": bool(fit.converged)}
    return _with_baseline("full", des, t, e, fit.coef, details)


def fit_penalised_model(
    train: pd.DataFrame,
    candidates,
    time_col: str,
    event_col: str,
    *,
    l1_ratio: float,
    foldid: np.ndarray,
    exclude=(),
    n_alphas: int = 100,
    rule: str = "min",
    method: str | None = None,
) -> LinearCoxModel:
    """Penalised Cox on every eligible candidate (:func:`crlmflow.model.penalised.penalised_cox_cv`)."""
    des, t, e = _training_design(train, candidates, time_col, event_col, exclude)
    path: PenalisedPath = penalised_cox_cv(t, e, des.X, l1_ratio=l1_ratio, foldid=foldid, n_alphas=n_alphas, rule=rule)
    name = method or {1.0: "lasso", 0.0: "ridge"}.get(float(l1_ratio), "elastic_net")
    details = {"alpha": path.alpha, "l1_ratio": path.l1_ratio, "rule": path.rule, "folds": path.folds}
    return _with_baseline(name, des, t, e, path.coef, details, path.cv)


def shrink_coefficients(
    train: pd.DataFrame,
    candidates,
    time_col: str,
    event_col: str,
    *,
    terms,
    coef,
    shrinkage: float,
    method: str = "shrunk_stepwise",
    knots=None,
) -> LinearCoxModel:
    """Uniform shrinkage β·s of a fitted model's coefficients (van Houwelingen & le Cessie
    1990), the baseline re-estimated at the shrunk linear predictor.

    ``terms`` are the model's design columns (``fit.json``'s ``terms``), ``coef`` its
    coefficients, ``shrinkage`` s (the bootstrap calibration slope; > 0), ``knots`` the
    fit's spline knots (``fit.json``'s ``knots``; without them a spline's knots are placed
    on ``train``)."""
    if not shrinkage > 0:
        raise ValueError(f"shrinkage factor must be positive, got {shrinkage}")
    terms = list(terms)
    resolved = resolve_knots(train, with_knots(candidates, knots) if knots else candidates)
    chosen = [c for c in resolved if any(t in c.term_names() for t in terms)]
    des = design_matrix(train, chosen)
    X = des.X[:, [des.columns.index(t) for t in terms]] if terms else np.zeros((len(train), 0))
    sub = Design(X, terms, {}, des.candidates)
    t = train[time_col].to_numpy(float)
    e = train[event_col].to_numpy(float)
    return _with_baseline(method, sub, t, e, shrinkage * np.asarray(coef, float), {"shrinkage": float(shrinkage)})


def fit_alternative(
    method: str,
    train: pd.DataFrame,
    candidates,
    time_col: str,
    event_col: str,
    *,
    exclude=(),
    foldid: np.ndarray | None = None,
    elastic_net_l1_ratio: float = 0.5,
    n_alphas: int = 100,
    rule: str = "min",
) -> LinearCoxModel:
    """Fit one of ``full``, ``lasso``, ``elastic_net``, ``ridge`` on a training DataFrame
    (``shrunk_stepwise`` needs the stepwise fit: :func:`shrink_coefficients`)."""
    if method == "full":
        return fit_full_model(train, candidates, time_col, event_col, exclude=exclude)
    if method in PENALISED:
        if foldid is None:
            raise ValueError(f"{method}: fold labels (foldid) are required for the cross-validation")
        l1 = elastic_net_l1_ratio if method == "elastic_net" else PENALISED[method]
        return fit_penalised_model(
            train,
            candidates,
            time_col,
            event_col,
            l1_ratio=l1,
            foldid=foldid,
            exclude=exclude,
            n_alphas=n_alphas,
            rule=rule,
            method=method,
        )
    raise ValueError(f"unknown alternative model {method!r}; known: full, lasso, elastic_net, ridge")
