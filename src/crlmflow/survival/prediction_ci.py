"""Confidence limits of a Cox model's predicted survival for new covariates.

The variance of the predicted cumulative hazard H(t | x) = H0c(t)·exp(x_cβ), x_c = x − x̄,
is Tsiatis's (1981), as R's ``survfit.coxph`` computes it (Therneau & Grambsch 2000, §10.2;
survival's ``agsurv``):

    Var H(t | x) = exp(2·x_cβ) · [ Σ_{t_j ≤ t} v_j + q(t)ᵀ V q(t) ],
    q(t) = H0c(t)·x_c − Σ_{t_j ≤ t} a_j,

with V the coefficients' covariance and, at each event time t_j with d tied deaths (Efron
ties: one term per k = 0..d−1, den_k = S0_j − (k/d)·E0_j, E the risk-score sums over the deaths;
Breslow ties: d/S0_j²)

    v_j = Σ_k 1/den_k²,   a_j = Σ_k (S1_j − (k/d)·E1_j)/den_k²,

where S0_j = Σ_{at risk} exp(x_cβ) and S1_j = Σ_{at risk} x_c·exp(x_cβ). These are aggregates
over risk sets (no patient row can be read back from them); ``model.json`` carries their
cumulative sums so that ``score`` and the calculator need no data.

The limits are R's ``survfit`` ``conf.type`` "log" (its default: exp(log S ± z·se(H)),
upper capped at 1) or "log-log" (exp(−exp(log(−log S) ± z·se(H)/log S))).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from crlmflow.survival.cox import CoxData
from crlmflow.survival.cox_result import CoxResult

CONF_TYPES = ("log", "log-log")


@dataclass(frozen=True)
class HazardVarianceTerms:
    """Cumulative Tsiatis terms at each distinct event time, covariates centred at ``center``."""

    time: np.ndarray  # (T,) ascending event times
    cumhaz: np.ndarray  # (T,) H0c(t): baseline cumulative hazard at x = center
    varhaz: np.ndarray  # (T,) Σ_{t_j ≤ t} v_j
    xbar: np.ndarray  # (T, p) Σ_{t_j ≤ t} a_j
    center: np.ndarray  # (p,)


def hazard_variance_terms(data: CoxData, fit: CoxResult) -> HazardVarianceTerms:
    """Tsiatis's variance terms of a fitted Cox model (R ``survival:::agsurv``, ties of the fit).

    Parameters
    ----------
    data : the CoxData the model was fitted on (unweighted: survfit's per-death terms).
    fit : its CoxResult; covariates are centred at ``fit.means``.
    """
    rs = data.risk_sets
    if not np.all(rs.weights == 1.0):
        raise ValueError("confidence limits of predicted survival need an unweighted fit")
    sub = data.sorted_columns(fit.cols)
    center = np.asarray(fit.means, dtype=float)
    Xc = sub.X + sub.center - center  # sorted rows, centred at the fit's means
    r = np.exp(Xc @ fit.coef) if fit.coef.size else np.ones(data.n)
    S0 = np.cumsum(r)[rs.risk_end]
    S1 = np.cumsum(r[:, None] * Xc, axis=0)[rs.risk_end]
    dp = rs.death_pos
    E0 = np.add.reduceat(r[dp], rs.death_start)
    E1 = np.add.reduceat(r[dp, None] * Xc[dp], rs.death_start, axis=0)
    g = rs.term_group
    den = S0[g] - rs.term_frac * E0[g]
    G = rs.n_groups
    haz, var, xb = np.zeros(G), np.zeros(G), np.zeros((G, Xc.shape[1]))
    np.add.at(haz, g, rs.term_weight / den)
    np.add.at(var, g, rs.term_weight / den**2)
    np.add.at(xb, g, (rs.term_weight / den**2)[:, None] * (S1[g] - rs.term_frac[:, None] * E1[g]))
    keep = rs.deaths[::-1] > 0  # groups are in descending time
    return HazardVarianceTerms(
        time=rs.event_times[::-1][keep],
        cumhaz=np.cumsum(haz[::-1][keep]),
        varhaz=np.cumsum(var[::-1][keep]),
        xbar=np.cumsum(xb[::-1][keep], axis=0),
        center=center,
    )


def _step(time: np.ndarray, values: np.ndarray, t: float):
    i = int(np.searchsorted(time, t, side="right")) - 1
    return None if i < 0 else values[i]


def survival_confint(
    x_centered,
    coef,
    var,
    terms: HazardVarianceTerms | dict,
    times,
    conf_type: str = "log",
    level: float = 0.95,
) -> dict[str, np.ndarray]:
    """Predicted survival S(t | x) with its standard error and confidence limits (R ``survfit``).

    Parameters
    ----------
    x_centered : (n, p) design rows of new patients minus ``terms.center`` (the fit's means).
    coef, var : coefficients and their covariance.
    terms : ``hazard_variance_terms`` or its JSON form (keys time, cumhaz, varhaz, xbar).
    times : horizons t.
    conf_type : "log" (R's default) or "log-log".

    Returns
    -------
    dict of (n, len(times)) arrays: surv, std_err (of S, as R's ``summary.survfit``), lower, upper.
    """
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")
    get = terms.get if isinstance(terms, dict) else lambda k: getattr(terms, k)
    time = np.asarray(get("time"), dtype=float)
    cumhaz, varhaz = np.asarray(get("cumhaz"), dtype=float), np.asarray(get("varhaz"), dtype=float)
    xbar = np.asarray(get("xbar"), dtype=float).reshape(time.size, -1)
    X = np.atleast_2d(np.asarray(x_centered, dtype=float))
    beta, V = np.asarray(coef, dtype=float), np.asarray(var, dtype=float).reshape(len(coef), len(coef))
    risk = np.exp(X @ beta)
    shape = (X.shape[0], len(times))
    H, se_H = np.zeros(shape), np.zeros(shape)
    for j, t in enumerate(times):
        h0 = _step(time, cumhaz, t)
        if h0 is None:  # before the first event: S = 1 with no uncertainty
            continue
        q = h0 * X - _step(time, xbar, t)
        H[:, j] = h0 * risk
        se_H[:, j] = risk * np.sqrt(_step(time, varhaz, t) + np.einsum("ij,jk,ik->i", q, V, q))
    z = special.ndtri(1 - (1 - level) / 2)
    surv = np.exp(-H)
    if conf_type == "log":
        lower, upper = surv * np.exp(-z * se_H), np.minimum(surv * np.exp(z * se_H), 1.0)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            loglog, w = np.log(H), z * se_H / H  # log(−log S) and z·se(H)/(−log S)
            lower, upper = np.exp(-np.exp(loglog + w)), np.exp(-np.exp(loglog - w))
        lower, upper = np.where(H > 0, lower, 1.0), np.where(H > 0, upper, 1.0)
    return {"surv": surv, "std_err": se_H * surv, "lower": lower, "upper": upper}


def prediction_variance_at(terms: HazardVarianceTerms, horizons) -> dict:
    """The terms' values at the horizons, in the JSON form ``survival_confint`` reads.

    Only the horizons are kept: between consecutive event times near the end of follow-up
    the risk set can be one patient, whose covariates its x̄ increment would reveal; the
    cumulative sums at the horizons pool every risk set before them.
    """
    hs = [float(h) for h in horizons]
    idx = np.searchsorted(terms.time, hs, side="right") - 1
    ok = idx >= 0
    i = np.maximum(idx, 0)
    p = terms.center.size
    return {
        "time": hs,
        "cumhaz": np.where(ok, terms.cumhaz[i], 0.0).tolist(),
        "varhaz": np.where(ok, terms.varhaz[i], 0.0).tolist(),
        "xbar": np.where(ok[:, None], terms.xbar[i], np.zeros(p)).tolist(),
        "center": terms.center.tolist(),
        "method": "Tsiatis variance of H(t|x) with the fit's ties (R survfit.coxph)",
    }
