"""Inverse-probability-of-censoring weights and the influence function of the Kaplan–Meier
censoring estimator, as riskRegression::Score uses them (cens.model = "km").

Reference: Gerds & Schumacher (Biom J 2006); Blanche, Dartigues & Jacqmin-Gadda (Stat Med
2013) for the AUC; the KM-censoring influence term as in riskRegression's C++ code
(getInfluenceFunctionKM / ...KMCensoringTerm).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crlmflow.survival.checks import check_survival
from crlmflow.validation._km import reverse_km


@dataclass(frozen=True)
class CensoringWeights:
    """G at each row's own time (left limit) and at the horizon, plus what the influence
    function of log G needs."""

    time: np.ndarray
    event: np.ndarray
    horizon: float
    G_Ti_minus: np.ndarray  # G(T_i-) per row
    G_t: float  # G(t)
    uniq: np.ndarray
    n_risk: np.ndarray
    #: cumsum of n * dN_C(u) / Y(u)^2 over distinct times (prefix 0 prepended: index = count)
    cum_lambda_star: np.ndarray
    #: number of distinct times <= T_i (1-based position of the row's time)
    m: np.ndarray


def censoring_weights(time, event, t: float) -> CensoringWeights:
    """Reverse-KM censoring survival G(T_i-) and G(t) (prodlim reverse=TRUE convention)."""
    return censoring_weights_at(time, event, [t])[float(t)]


def censoring_weights_at(time, event, horizons) -> dict[float, CensoringWeights]:
    """``censoring_weights`` at several horizons (keyed by float horizon), from one reverse
    Kaplan–Meier fit: only G(t) and the horizon differ between them."""
    time, event = check_survival(time, event)
    event = event == 1.0
    n = time.shape[0]
    uniq, n_risk, n_cens, G = reverse_km(time, event)
    Gpad = np.concatenate([[1.0], G])  # Gpad[k] = G after the first k distinct times
    pos = np.searchsorted(uniq, time, side="left")  # distinct times strictly before T_i
    G_Ti_minus = Gpad[pos]
    cls = np.concatenate([[0.0], np.cumsum(n * n_cens / n_risk**2)])
    m = pos + 1
    return {
        float(t): CensoringWeights(
            time=time,
            event=event,
            horizon=float(t),
            G_Ti_minus=G_Ti_minus,
            G_t=float(Gpad[np.searchsorted(uniq, t, side="right")]),
            uniq=uniq,
            n_risk=n_risk,
            cum_lambda_star=cls,
            m=m,
        )
        for t in horizons
    }


def km_censoring_term(cw: CensoringWeights, coef: np.ndarray, at_own_time_minus: np.ndarray) -> np.ndarray:
    """For every row i return  sum_j coef_j * f_i(s_j),  where f_i(s) is the influence of row i
    on the Nelson–Aalen censoring cumulative hazard at s (so on 1/G(s) relative to itself):

        f_i(s) = (1 - delta_i) 1{T_i <= s} n / Y(T_i) - sum_{u <= min(T_i, s)} n dN_C(u) / Y(u)^2

    and s_j = T_j- when ``at_own_time_minus[j]`` (rows weighted by 1/G(T_j-)), else s_j = t
    (rows weighted by 1/G(t)).  Y(u) = #{T >= u} here (deaths at u included), as in
    riskRegression's getInfluenceFunctionKM, even though G itself removes tied deaths first;
    keeping both conventions reproduces Score's SEs to ~1e-14.  O(n) after the sort done in
    ``censoring_weights``.
    """
    coef = np.asarray(coef, dtype=float)
    nu = cw.uniq.size
    # s_j as "number of distinct times <= s_j"
    k_t = int(np.searchsorted(cw.uniq, cw.horizon, side="right"))
    k = np.where(at_own_time_minus, cw.m - 1, k_t)
    # A_ge[m] = sum of coef_j with k_j >= m ; B_lt[m] = sum of coef_j * cumL[k_j] with k_j < m
    a_by_k = np.bincount(k, weights=coef, minlength=nu + 1)
    b_by_k = np.bincount(k, weights=coef * cw.cum_lambda_star[k], minlength=nu + 1)
    A_ge = np.cumsum(a_by_k[::-1])[::-1]
    B_le = np.cumsum(b_by_k)
    mi = cw.m
    A_i = A_ge[mi]  # rows j with k_j >= m_i, i.e. T_i <= s_j
    B_i = B_le[mi - 1]  # rows j with k_j < m_i
    jump = np.where(cw.event, 0.0, cw.time.shape[0] / cw.n_risk[mi - 1])
    return jump * A_i - (B_i + cw.cum_lambda_star[mi] * A_i)
