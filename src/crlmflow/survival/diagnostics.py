"""Cox model diagnostics: proportional-hazards tests and events per parameter.

Method references:
  * ``cox_zph(method="score")``: R ``survival::cox.zph`` for survival >= 3.0 (Therneau,
    2019 rewrite): the score test, at (β̂, γ = 0), of the time-varying model
    β(t) = β + γ·g(t), i.e. extra covariates x·g(t) with g(t) = transform(t) centred at
    its mean over events; per term (its γ's, all β free) and global (all γ's).
    transform "km": g = 1 − S_KM(t−) (left-continuous KM), as cox.zph.
  * ``cox_zph(method="approx")``: Grambsch & Therneau (1994), Biometrika 81:515 —
    survival < 3's cox.zph and lifelines' ``proportional_hazard_test``: scaled Schoenfeld
    residuals with the information approximated by d·V(β̂)⁻¹ (V_k ≈ I/d).
  * ``scaled_schoenfeld``: the residuals R's ``cox.zph`` returns as ``$y`` (and plots):
    r*_k = d · V(β̂) s_k + β̂ per death k, s_k its Schoenfeld residual (Efron-averaged
    risk-set mean), against ``$x`` = 1 − S_KM(t−) (transform "km").
  * Events per candidate parameter: Peduzzi et al. (1995), J Clin Epidemiol 48:1503 (Cox
    models); the current standard is Riley et al. (2019), Stat Med 38:1276.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from crlmflow.survival.cox import CoxData
from crlmflow.survival.cox_result import CoxResult

__all__ = ["ZphResult", "cox_zph", "events_per_parameter", "scaled_schoenfeld", "binned_residuals"]


@dataclass
class ZphResult:
    """``table``: one row per term + "GLOBAL" with chisq, df, p; ``g`` = g(t) per death."""

    table: pd.DataFrame
    method: str
    transform: str
    time: np.ndarray
    g: np.ndarray


def _term_moments(data: CoxData, fit: CoxResult):
    """Per Efron/Breslow term k: weight c_k, group g_k, mean M1_k, variance V_k."""
    rs = data.risk_sets
    sub = data.sorted_columns(fit.cols)
    X = sub.X
    q = X.shape[1]
    r = rs.weights * np.exp(X @ fit.coef)
    Z = np.concatenate(
        [r[:, None], r[:, None] * X, (r[:, None, None] * X[:, :, None] * X[:, None, :]).reshape(-1, q * q)], axis=1
    )
    C = np.cumsum(Z, axis=0)
    R = C[rs.risk_end]
    D = np.add.reduceat(Z[rs.death_pos], rs.death_start, axis=0)
    g, f, c = rs.term_group, rs.term_frac, rs.term_weight
    E = R[g] - f[:, None] * D[g]
    E0 = E[:, 0]
    M1 = E[:, 1 : 1 + q] / E0[:, None]
    M2 = (E[:, 1 + q :] / E0[:, None]).reshape(-1, q, q)
    V = M2 - M1[:, :, None] * M1[:, None, :]
    return sub, c, g, M1, V


def _km_transform(data: CoxData, left_continuous: bool) -> np.ndarray:
    """1 − KM at each distinct event time (descending order of data.event_times_desc)."""
    t = data.time
    w = data.weights
    ut, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=w * data.event, minlength=ut.size)
    tot = np.bincount(inv, weights=w, minlength=ut.size)
    n_risk = np.cumsum(tot[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(np.where(n_risk > 0, 1.0 - d / n_risk, 1.0))
    s_before = np.concatenate([[1.0], s[:-1]])
    idx = np.searchsorted(ut, data.event_times_desc)
    return 1.0 - (s_before[idx] if left_continuous else s[idx])


def _schoenfeld(rs, gk, c, M1, Xd) -> np.ndarray:
    """Schoenfeld residual of each death: x minus the Efron-averaged risk-set mean."""
    n_terms = np.bincount(gk, weights=c, minlength=rs.deaths.size)
    mbar = np.zeros((rs.deaths.size, M1.shape[1]))
    np.add.at(mbar, gk, c[:, None] * M1)
    mbar /= np.where(n_terms > 0, n_terms, 1.0)[:, None]
    return Xd - mbar[rs.death_group]


def scaled_schoenfeld(data: CoxData, fit: CoxResult) -> pd.DataFrame:
    """Scaled Schoenfeld residuals, one row per death in time order, as R's ``cox.zph``
    (survival >= 3): columns ``time``, ``km_time`` (1 − S_KM(t−), the "km" transform
    axis) and one column per model column, r* = d · s V(β̂) + β̂ (Grambsch & Therneau
    1994). A smooth of r* against time estimates β(t): flat under proportional hazards."""
    rs = data.risk_sets
    sub, c, gk, M1, _ = _term_moments(data, fit)
    sres = _schoenfeld(rs, gk, c, M1, sub.Xd)
    scaled = rs.death_weights.sum() * sres @ fit.var + fit.coef
    g = _km_transform(data, left_continuous=True)[rs.death_group]
    t = data.event_times_desc[rs.death_group]
    out = pd.DataFrame(scaled, columns=list(fit.names))
    out.insert(0, "km_time", g)
    out.insert(0, "time", t)
    return out.iloc[np.argsort(t, kind="stable")].reset_index(drop=True)


def binned_residuals(res: pd.DataFrame, columns, coef, bins: int = 8) -> pd.DataFrame:
    """Group-level summary of scaled Schoenfeld residuals for a figure without row-level
    data: the deaths, in time order, cut into ``bins`` groups of (nearly) equal size; per
    model column and group the time range and median, the number of deaths and the mean
    residual with a normal 95% CI (mean ± 1.96 SD/√n). Under proportional hazards the
    means scatter around β̂ (``coef``) with no trend over time."""
    n = len(res)
    bins = max(1, min(bins, n // 5)) if n else 0
    edges = np.linspace(0, n, bins + 1).round().astype(int) if bins else np.array([0])
    out = []
    for j, col in enumerate(columns):
        for b in range(bins):
            part = res.iloc[edges[b] : edges[b + 1]]
            y = part[col].to_numpy(float)
            half = 1.959963984540054 * y.std(ddof=1) / np.sqrt(y.size) if y.size > 1 else np.nan
            out.append(
                {
                    "column": col,
                    "coef": float(coef[j]),
                    "bin": b + 1,
                    "time_from": float(part["time"].min()),
                    "time_to": float(part["time"].max()),
                    "time_median": float(part["time"].median()),
                    "deaths": int(y.size),
                    "mean": float(y.mean()),
                    "lower": float(y.mean() - half),
                    "upper": float(y.mean() + half),
                }
            )
    return pd.DataFrame(
        out,
        columns=["column", "coef", "bin", "time_from", "time_to", "time_median", "deaths", "mean", "lower", "upper"],
    )


def cox_zph(
    data: CoxData,
    fit: CoxResult,
    groups: dict[str, list[int]] | None = None,
    transform: str = "km",
    method: str = "score",
) -> ZphResult:
    """Test of proportional hazards per term and globally.

    ``groups`` maps term name → positions in ``fit.coef`` (a factor is one term);
    default one term per column.  ``transform``: "km" (default, as R), "identity",
    "log" or "rank".  ``method``: "score" (survival >= 3) or "approx" (survival < 3 /
    lifelines).  For "approx" the km transform is right-continuous, as lifelines
    (``1 − S(t)``); R < 3 used S(t−).
    """
    if method not in ("score", "approx"):
        raise ValueError("method must be 'score' or 'approx'")
    q = fit.coef.size
    groups = groups or {nm: [j] for j, nm in enumerate(fit.names)}
    rs = data.risk_sets
    sub, c, gk, M1, V = _term_moments(data, fit)
    # transform per distinct event time (descending), then centre over deaths
    td = data.event_times_desc
    if transform == "km":
        gt = _km_transform(data, left_continuous=(method == "score"))
    elif transform == "identity":
        gt = td.copy()
    elif transform == "log":
        gt = np.log(td)
    elif transform == "rank":
        # rank among death times counting tied deaths (R rank(), average ties)
        order = np.argsort(td)
        dg = rs.deaths
        cum = np.cumsum(dg[order])
        gt = np.empty_like(td)
        gt[order] = cum - (dg[order] - 1) / 2.0
    else:
        raise ValueError(f"unknown transform {transform!r}")
    dg = rs.deaths
    gt = gt - (dg @ gt) / dg.sum()
    wd = rs.death_weights
    gdeath = gt[rs.death_group]
    Xd = sub.Xd

    if method == "score":
        ck = c
        gterm = gt[gk]
        u = (wd * gdeath) @ Xd - (ck * gterm) @ M1
        Ibb = np.einsum("k,kij->ij", ck, V)
        Ibg = np.einsum("k,kij->ij", ck * gterm, V)
        Igg = np.einsum("k,kij->ij", ck * gterm**2, V)
        imat = np.block([[Ibb, Ibg], [Ibg.T, Igg]])
        rows = []
        for name, jj in groups.items():
            kk = list(range(q)) + [q + j for j in jj]
            uu = np.concatenate([np.zeros(q), u[jj]])
            chisq = float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu))
            rows.append((name, chisq, len(jj)))
        uu = np.concatenate([np.zeros(q), u])
        rows.append(("GLOBAL", float(uu @ np.linalg.solve(imat, uu)), q))
    else:
        sres = _schoenfeld(rs, gk, c, M1, Xd)
        d = wd.sum()
        scaled = d * sres @ fit.var
        denom = (wd * gdeath**2).sum()
        rows = []
        for name, jj in groups.items():
            if len(jj) != 1:
                raise ValueError("method='approx' tests single columns only")
            j = jj[0]
            num = ((wd * gdeath) @ scaled[:, j]) ** 2
            rows.append((name, float(num / (d * fit.var[j, j] * denom)), 1))
        z = (wd * gdeath) @ sres
        rows.append(("GLOBAL", float(z @ fit.var @ z * d / denom), q))
    table = pd.DataFrame(rows, columns=["term", "chisq", "df"])
    table["p"] = special.chdtrc(table["df"].to_numpy(float), table["chisq"].to_numpy())
    return ZphResult(table, method, transform, td[rs.death_group], gdeath)


def events_per_parameter(events, n_parameters) -> float:
    """Events per candidate parameter, EPV = events / p.

    ``p`` counts every candidate parameter considered, including those dropped by screening
    or stepwise selection, since selection is part of fitting.  Peduzzi et al. (J Clin
    Epidemiol 1995, Cox models) suggested >= 10; Riley et al. (Stat Med 2019) replace that
    rule of thumb with sample-size criteria based on shrinkage and optimism.
    """
    if n_parameters <= 0:
        return float("inf")
    return float(events) / float(n_parameters)
