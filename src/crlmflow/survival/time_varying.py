"""Cox model with a time-varying coefficient for one flagged term (a remedy for non-
proportional hazards; Therneau & Grambsch 2000, §6.4; Harrell, RMS §20.6.6).

β_j(t) = β_j + γ·g(t) for the flagged column j, with g(t) = log t (``form="log"``) or the
step g(t) = 1{t > τ} (``form="step"``: one coefficient before τ, another after). The
partial likelihood is evaluated with the covariate x_j·g(t) at every event time t over the
patients at risk then (Efron or Breslow ties), as R's
``coxph(Surv(time, event) ~ x + tt(x_j), tt = function(x, t, ...) x * log(t))``; the Wald
test of γ = 0 is a test of proportional hazards for that term.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from crlmflow.survival.checks import check_survival


@dataclass(frozen=True)
class TimeVaryingCox:
    """Coefficients (the columns of X, then γ of the flagged term), their SEs and the fit."""

    coef: np.ndarray
    se: np.ndarray
    var: np.ndarray
    loglik: float
    iterations: int
    gamma: float
    gamma_se: float
    gamma_p: float


def time_function(t, form: str, step_at: float | None = None) -> np.ndarray:
    """g(t) of the time-varying coefficient: ``log`` → log t, ``step`` → 1{t > step_at}."""
    t = np.asarray(t, dtype=float)
    if form == "log":
        return np.log(t)
    if form == "step":
        if step_at is None:
            raise ValueError("form 'step' needs step_at (months)")
        return (t > step_at).astype(float)
    raise ValueError(f"form must be 'log' or 'step', got {form!r}")


def _expand(time, event, X, j, g):
    """Risk-set expansion: one row per (event time, patient at risk) with z = [X, x_j·g(t)]."""
    ut = np.unique(time[event == 1])
    rows, grp, dead = [], [], []
    for k, t in enumerate(ut):
        at = np.flatnonzero(time >= t)
        rows.append(np.column_stack([X[at], X[at, j] * g(t)]))
        grp.append(np.full(at.size, k))
        dead.append((time[at] == t) & (event[at] == 1))
    return np.vstack(rows), np.concatenate(grp), np.concatenate(dead), ut.size


def _derivatives(Z, grp, dead, beta, efron):
    """Log partial likelihood, score and information (Efron or Breslow ties)."""
    eta = Z @ beta
    top = eta.max()
    r = np.exp(eta - top)
    p = Z.shape[1]
    ll, U, info = 0.0, np.zeros(p), np.zeros((p, p))
    starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])
    ends = np.r_[starts[1:], grp.size]
    for a, b in zip(starts, ends):
        z, w, dd = Z[a:b], r[a:b], dead[a:b]
        d = int(dd.sum())
        zd, wd = z[dd], w[dd]
        s0, s1, s2 = w.sum(), w @ z, (z * w[:, None]).T @ z
        d0, d1, d2 = wd.sum(), wd @ zd, (zd * wd[:, None]).T @ zd
        ll += float(eta[a:b][dd].sum())
        U += zd.sum(axis=0)
        for m in range(d):
            f = m / d if efron else 0.0
            t0, t1, t2 = s0 - f * d0, s1 - f * d1, s2 - f * d2
            ll -= np.log(t0) + top
            mean = t1 / t0
            U -= mean
            info += t2 / t0 - np.outer(mean, mean)
    return ll, U, info


def cox_time_varying(
    time, event, X, j: int, form: str = "log", *, step_at=None, ties: str = "efron", max_iter=50, tol=1e-10
) -> TimeVaryingCox:
    """Newton–Raphson fit of the Cox model with β_j(t) = β_j + γ·g(t) (module docstring).

    ``X``: n × p covariates (column ``j`` flagged); returns p + 1 coefficients, γ last.
    """
    t, e = check_survival(time, event)
    X = np.asarray(X, dtype=float).reshape(t.size, -1)
    Z, grp, dead, _ = _expand(t, e, X, j, lambda s: float(time_function(s, form, step_at)))
    beta = np.zeros(Z.shape[1])
    ll, U, info = _derivatives(Z, grp, dead, beta, ties == "efron")
    it = 0
    while it < max_iter:
        it += 1
        step = np.linalg.solve(info, U)
        new = beta + step
        ll_new, U_new, info_new = _derivatives(Z, grp, dead, new, ties == "efron")
        while ll_new < ll - 1e-12:  # step halving, as R's coxph
            step /= 2
            new = beta + step
            ll_new, U_new, info_new = _derivatives(Z, grp, dead, new, ties == "efron")
        done = abs(ll_new - ll) <= tol * max(abs(ll), 1.0)
        beta, ll, U, info = new, ll_new, U_new, info_new
        if done:
            break
    var = np.linalg.inv(info)
    se = np.sqrt(np.diag(var))
    z = beta[-1] / se[-1]
    return TimeVaryingCox(beta, se, var, ll, it, float(beta[-1]), float(se[-1]), float(2 * special.ndtr(-abs(z))))
