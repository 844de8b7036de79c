"""Harrell's C and the IPCW Brier score with frequency weights on fixed (time, event).

A bootstrap resample is a vector of integer frequency weights on the original rows; these
oracles give exactly what the unweighted estimators give on the duplicated rows:

* ``harrell_c_weighted``: Harrell et al. (1996) C = Σ w_i w_j K_ij / Σ w_i w_j P_ij with
  P the comparable-pair matrix and K its concordant part (``survival::concordance``
  conventions; ``concordance_index`` on duplicated rows).
* ``BrierFrame`` / ``ipcw_brier_weighted``: the IPCW Brier score with reverse
  Kaplan–Meier censoring weights (Graf et al. 1999; ``riskRegression::Score``,
  ``roc.brier_score`` on duplicated rows), G recomputed per weight vector in O(n).
"""

from __future__ import annotations

import numpy as np

from crlmflow.validation.concordance import timefix

__all__ = [
    "pair_matrix",
    "concordance_kernel",
    "harrell_c_weighted",
    "BrierFrame",
    "ipcw_brier_weighted",
]


def pair_matrix(time, event) -> np.ndarray:
    """P[i, j] = 1 when (i, j) is comparable with i the shorter, event member (survival's
    convention: a censored time tied with an event time counts as longer; timefix applied)."""
    t = timefix(np.asarray(time, dtype=float))
    e = np.asarray(event).astype(bool)
    later = (t[None, :] > t[:, None]) | ((t[None, :] == t[:, None]) & ~e[None, :])
    P = later & e[:, None]
    np.fill_diagonal(P, False)
    return P.astype(float)


def concordance_kernel(lp: np.ndarray) -> np.ndarray:
    """H[i, j] = 1 if lp_i > lp_j, 1/2 if equal, 0 otherwise."""
    return (lp[:, None] > lp[None, :]) + 0.5 * (lp[:, None] == lp[None, :])


def harrell_c_weighted(time, event, risk, weights=None) -> float:
    """Harrell's C with frequency weights via the n x n comparable-pair matrix (small n).
    Equals ``concordance_index(...).c_index`` on the duplicated rows."""
    P = pair_matrix(time, event)
    x = np.asarray(risk, dtype=float)
    w = np.ones(x.size) if weights is None else np.asarray(weights, dtype=float)
    K = P * concordance_kernel(x)
    return float(w @ K @ w / (w @ P @ w))


class BrierFrame:
    """IPCW Brier score with frequency weights on fixed (time, event): reverse-KM G with
    prodlim's reverse convention (deaths leave the censoring risk set first), as
    ``roc.brier_score``; weights recompute G per replicate in O(n)."""

    def __init__(self, time, event, horizons):
        self.t = np.asarray(time, dtype=float)
        self.e = np.asarray(event).astype(bool)
        self.h = np.asarray(horizons, dtype=float)
        self.uniq, self.inv = np.unique(self.t, return_inverse=True)
        self.nu = self.uniq.size
        self.pos = np.searchsorted(self.uniq, self.t, side="left")  # times strictly before T_i
        self.hpos = np.searchsorted(self.uniq, self.h, side="right")  # times <= h
        self.case = (self.t[:, None] <= self.h[None, :]) & self.e[:, None]  # n x H
        self.ctrl = self.t[:, None] > self.h[None, :]
        self.inv_e = self.inv[self.e]
        self.inv_c = self.inv[~self.e]

    def weights_G(self, w):
        cnt = np.bincount(self.inv, weights=w, minlength=self.nu)
        n_risk = np.cumsum(cnt[::-1])[::-1]
        n_cens = np.bincount(self.inv_c, weights=w[~self.e], minlength=self.nu)
        n_dead = np.bincount(self.inv_e, weights=w[self.e], minlength=self.nu)
        with np.errstate(divide="ignore", invalid="ignore"):
            G = np.cumprod(np.where(n_cens > 0, 1.0 - n_cens / (n_risk - n_dead), 1.0))
            km = np.cumprod(np.where(n_dead > 0, 1.0 - n_dead / n_risk, 1.0))
        Gpad = np.concatenate([[1.0], G])
        kmpad = np.concatenate([[1.0], km])
        return Gpad[self.pos], Gpad[self.hpos], kmpad[self.hpos]

    def brier(self, S: np.ndarray, w=None, G=None) -> np.ndarray:
        """S: n x H predicted survival at the horizons -> Brier per horizon."""
        w = np.ones(self.t.size) if w is None else w
        G_Ti, G_t, _ = self.weights_G(w) if G is None else G
        with np.errstate(divide="ignore", invalid="ignore"):
            resid = np.where(self.case, S**2 / G_Ti[:, None], 0.0) + np.where(self.ctrl, (1.0 - S) ** 2 / G_t, 0.0)
        # rows outside the sample (weight 0) may sit where G = 0: they contribute nothing
        resid[w == 0] = 0.0
        return (w @ resid) / w.sum()


def ipcw_brier_weighted(time, event, surv_pred, t: float, weights=None) -> float:
    """IPCW Brier score at t with frequency weights (``roc.brier_score`` on duplicated rows)."""
    bf = BrierFrame(time, event, [t])
    w = None if weights is None else np.asarray(weights, dtype=float)
    return float(bf.brier(np.asarray(surv_pred, dtype=float)[:, None], w)[0])
