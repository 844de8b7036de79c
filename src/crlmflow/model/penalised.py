"""Penalised Cox regression (LASSO, elastic net, ridge) with the penalty chosen by
cross-validated partial likelihood.

The penalised fits are scikit-survival's: :class:`sksurv.linear_model.CoxnetSurvivalAnalysis`
(Simon, Friedman, Hastie & Tibshirani, J Stat Softw 2011; the coordinate-descent path of
glmnet) for ``l1_ratio`` in (0, 1], minimising

    −(1/n) log PL(β) + α (r ‖β‖₁ + (1 − r)/2 ‖β‖²₂),

and for ``r = 0`` (ridge) the same objective as sksurv's ``CoxPHSurvivalAnalysis(alpha = n·α)``,
maximised by :func:`ridge_cox` (tests pin the two together), both with Breslow ties on standardised columns
(mean 0, SD 1, as glmnet's ``standardize = TRUE``); coefficients are returned per unit of
the original columns.

The penalty α is chosen by K-fold cross-validated partial likelihood (Verweij & van
Houwelingen, Stat Med 1993; glmnet's ``cv.glmnet(family = "cox", grouped = TRUE)``): for
fold k, ``cvl_k(α) = log PL(β̂₋ₖ(α)) − log PL₋ₖ(β̂₋ₖ(α))`` — the full data's log partial
likelihood minus that of the data without fold k, both at the fit without fold k. The
deviance per event of fold k is ``−2 cvl_k / d_k``; its event-weighted mean over folds is
minimised (``rule = "min"``), or the largest α within one standard error of that minimum is
taken (``rule = "1se"``, Hastie, Tibshirani & Friedman, ESL §7.10).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sksurv.linear_model import CoxnetSurvivalAnalysis
from sksurv.util import Surv

from crlmflow.survival.checks import check_survival
from crlmflow.survival.cox import CoxData

__all__ = ["PenalisedPath", "fold_ids", "penalised_cox_cv", "ridge_cox"]


@dataclass
class PenalisedPath:
    """The chosen penalised fit and its cross-validation curve.

    ``coef`` is per unit of the original columns; ``cv`` has one row per α: ``alpha``,
    ``deviance`` (event-weighted mean CV deviance per event), ``deviance_se``,
    ``nonzero`` (coefficients ≠ 0 on all data) and ``chosen``.
    """

    coef: np.ndarray
    alpha: float
    l1_ratio: float
    rule: str
    folds: int
    cv: pd.DataFrame


def fold_ids(n: int, folds: int, rng: np.random.Generator) -> np.ndarray:
    """Random fold labels 0..folds−1, as balanced as n allows (cv.glmnet's ``foldid``)."""
    if folds < 2 or folds > n:
        raise ValueError(f"cross-validation needs 2 <= folds <= n ({n}), got {folds}")
    return rng.permutation(np.arange(n) % folds)


def _standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = X.mean(axis=0)
    sd = X.std(axis=0)
    if np.any(sd == 0):
        raise ValueError("a column without variation cannot be penalised (constant in the training data)")
    return (X - mean) / sd, mean, sd


def _alpha_grid(Xs, t, e, l1_ratio: float, n_alphas: int, min_ratio: float) -> np.ndarray:
    """glmnet's grid: α_max = max_j |U_j(0)| / (n·max(r, 0.001)), the smallest α at which
    every coefficient is 0 (U the score of the Breslow partial likelihood at β = 0), down
    to α_max·min_ratio, log-spaced (for ridge glmnet computes α_max as for r = 0.001)."""
    _, U, _ = CoxData(t, e, Xs, ties="breslow").derivatives(np.zeros(Xs.shape[1]))
    alpha_max = float(np.max(np.abs(U))) / (len(t) * max(l1_ratio, 1e-3))
    return np.geomspace(alpha_max, alpha_max * min_ratio, n_alphas)


def ridge_cox(data: CoxData, alpha: float, init=None, *, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    """Ridge Cox: maximise log PL(β) − (n α / 2) ‖β‖² by Newton's method with step halving.

    The objective of :class:`sksurv.linear_model.CoxPHSurvivalAnalysis` with its
    ``alpha = n α`` (tests pin the two together); written on the vectorised partial
    likelihood of :class:`crlmflow.survival.cox.CoxData` because sksurv's optimiser loops
    over patients in Python, too slow for a 100-penalty cross-validation."""
    pen = data.n * alpha
    beta = np.zeros(data.X_raw.shape[1]) if init is None else np.asarray(init, float).copy()

    def objective(b):
        ll, U, info = data.derivatives(b)
        return ll - 0.5 * pen * b @ b, U - pen * b, info + pen * np.eye(b.size)

    f, g, H = objective(beta)
    for _ in range(max_iter):
        new = beta + np.linalg.solve(H, g)
        f_new, g_new, H_new = objective(new)
        halve = 0
        while f_new < f and halve < 30:
            new = (beta + new) / 2.0
            f_new, g_new, H_new = objective(new)
            halve += 1
        done = abs(f_new - f) <= tol * max(abs(f_new), 1.0)
        beta, f, g, H = new, f_new, g_new, H_new
        if done:
            break
    return beta


def _fit_path(Xs, t, e, alphas, l1_ratio: float) -> np.ndarray:
    """Coefficients (p × len(alphas)) on the standardised columns along the α grid; NaN from
    the first α whose coordinate descent diverges (weights too large: a nearly unpenalised
    fit of many columns on few events), where glmnet, too, ends its path."""
    out = np.full((Xs.shape[1], len(alphas)), np.nan)
    if l1_ratio > 0:
        y = Surv.from_arrays(e == 1, t)
        # one fit per α: a path fit stops early once the deviance ratio stops changing,
        # which would leave the weakest penalties of the grid without a fit
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "all coefficients are zero" at the strongest α
            for j, a in enumerate(alphas):
                try:
                    fit = CoxnetSurvivalAnalysis(l1_ratio=l1_ratio, alphas=[a], max_iter=100_000).fit(Xs, y)
                except ArithmeticError:
                    break  # the weaker penalties diverge too: the path ends here
                out[:, j] = fit.coef_[:, 0]
        return out
    data = CoxData(t, e, Xs, ties="breslow")
    beta = None
    for j, a in enumerate(alphas):  # warm start from the previous, stronger penalty
        beta = out[:, j] = ridge_cox(data, a, beta)
    return out


def _path_length(coefs: np.ndarray) -> int:
    """Number of leading α of a path that were fitted (``_fit_path`` leaves NaN after a divergence)."""
    ok = np.isfinite(coefs).all(axis=0)
    return int(ok.size if ok.all() else np.argmin(ok))


def penalised_cox_cv(
    time,
    event,
    X,
    *,
    l1_ratio: float,
    foldid: np.ndarray,
    n_alphas: int = 100,
    alpha_min_ratio: float | None = None,
    rule: str = "min",
) -> PenalisedPath:
    """Penalised Cox fit with α chosen by cross-validated partial likelihood.

    Parameters
    ----------
    time, event : array-like
        Survival outcome.
    X : ndarray, shape (n, p)
        Design columns (unstandardised).
    l1_ratio : float
        1 = LASSO, in (0, 1) = elastic net, 0 = ridge.
    foldid : ndarray of int
        Fold of each row (:func:`fold_ids` on a named random stream).
    n_alphas, alpha_min_ratio : int, float
        The α grid (``alpha_min_ratio`` default 1e-4 when n > p, else 1e-2, as glmnet).
    rule : {"min", "1se"}
        The α minimising the CV deviance, or the largest within one SE of it.

    Returns
    -------
    PenalisedPath
    """
    if rule not in ("min", "1se"):
        raise ValueError(f"rule must be 'min' or '1se', got {rule!r}")
    if not 0 <= l1_ratio <= 1:
        raise ValueError(f"l1_ratio must lie in [0, 1], got {l1_ratio}")
    t, e = check_survival(time, event)
    X = np.asarray(X, float)
    Xs, _, sd = _standardise(X)
    n, p = Xs.shape
    ratio = alpha_min_ratio if alpha_min_ratio is not None else (1e-4 if n > p else 1e-2)
    alphas = _alpha_grid(Xs, t, e, l1_ratio, n_alphas, ratio)
    full = CoxData(t, e, Xs, ties="breslow")
    folds = np.unique(foldid)
    dev = np.empty((len(folds), len(alphas)))
    events = np.empty(len(folds))
    fitted = len(alphas)  # the grid every fold's path (and the full data's) reaches
    for k, f in enumerate(folds):
        train = foldid != f
        coefs = _fit_path(Xs[train], t[train], e[train], alphas, l1_ratio)
        fitted = min(fitted, _path_length(coefs))
        part = CoxData(t[train], e[train], Xs[train], ties="breslow")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # near-divergent fits overflow
            cvl = np.array([full.loglik(coefs[:, j]) - part.loglik(coefs[:, j]) for j in range(fitted)])
        events[k] = e[~train].sum()
        dev[k, :fitted] = -2.0 * cvl / max(events[k], 1.0)
    all_coef = _fit_path(Xs, t, e, alphas, l1_ratio)
    fitted = min(fitted, _path_length(all_coef), _path_length(dev[:, :fitted]))
    if fitted == 0:
        raise ArithmeticError("penalised Cox: the fit diverges at every penalty of the grid")
    # cv.glmnet's rule: the grid is cut to the penalties reached by every fit (here also
    # those whose held-out partial likelihood is finite in every fold)
    alphas, dev, all_coef = alphas[:fitted], dev[:, :fitted], all_coef[:, :fitted]
    w = events / events.sum()
    cvm = w @ dev
    cvsd = np.sqrt((w @ (dev - cvm) ** 2) / (len(folds) - 1))
    best = int(np.argmin(cvm))
    chosen = best if rule == "min" else int(np.flatnonzero(cvm <= cvm[best] + cvsd[best])[0])
    cv = pd.DataFrame(
        {
            "alpha": alphas,
            "deviance": cvm,
            "deviance_se": cvsd,
            "nonzero": (np.abs(all_coef) > 0).sum(axis=0),
            "chosen": np.arange(len(alphas)) == chosen,
        }
    )
    return PenalisedPath(all_coef[:, chosen] / sd, float(alphas[chosen]), float(l1_ratio), rule, len(folds), cv)
