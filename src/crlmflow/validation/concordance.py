"""Harrell's concordance index with survival::concordance's counts and infinitesimal-jackknife SE.

Method: Harrell et al. (JAMA 1982; Stat Med 1996) C-index; variance by the infinitesimal
jackknife exactly as R's ``survival::concordance`` (Therneau & Atkinson, "The concordance
statistic" vignette, survival >= 3.0, ``timewt = "n"``).  O(n log^2 n) time, O(n) memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crlmflow.survival.checks import check_survival
from crlmflow.validation._dominance import dense_rank, dominance_sums


@dataclass(frozen=True)
class ConcordanceResult:
    """Harrell's C (higher risk = shorter survival) with survival::concordance's counts."""

    c_index: float
    #: sqrt of survival::concordance()$var (infinitesimal jackknife)
    std_err: float
    concordant: float
    discordant: float
    tied_x: float  # tied on the risk score, not on time (counts 1/2 in C)
    tied_y: float  # two events at the same time, risk scores differ (not comparable)
    tied_xy: float  # two events at the same time with the same risk score
    n: int
    #: per-observation influence on C (survival's dfbeta/2); sum of squares = std_err**2
    influence: np.ndarray

    @property
    def counts(self) -> dict[str, float]:
        """Counts under survival's names."""
        return {
            "concordant": self.concordant,
            "discordant": self.discordant,
            "tied.x": self.tied_x,
            "tied.y": self.tied_y,
            "tied.xy": self.tied_xy,
        }


def timefix(time: np.ndarray, tolerance: float = np.sqrt(np.finfo(float).eps)) -> np.ndarray:
    """Merge times that differ only by floating-point noise, like survival::aeqSurv (which
    coxph and concordance apply by default): successive distinct times whose gap is
    <= tolerance, absolutely or relative to mean(|time|), become one tied time."""
    time = np.asarray(time, dtype=float)
    y = np.unique(time[np.isfinite(time)])
    if y.size < 2:
        return time
    dy = np.diff(y)
    tied = (dy <= tolerance) | (dy / np.mean(np.abs(y)) <= tolerance)
    if not tied.any():
        return time
    cuts = y[np.concatenate([[True], ~tied])]
    # every time maps to the first value of its run of near-equal times
    return cuts[np.searchsorted(cuts, time, side="right") - 1]


def concordance_index(time, event, risk, weights=None, *, apply_timefix: bool = True) -> ConcordanceResult:
    """Harrell's C-index (higher ``risk`` = shorter survival) and its IJ standard error.

    A pair is comparable when the shorter observed time is an event; a censored time tied with
    an event time counts as longer (survival's convention).  Pairs tied on risk count 1/2.
    ``weights`` are case weights (e.g. bootstrap frequencies: integer weights reproduce C and
    the counts of the expanded sample; the SE follows survival's case-weight formula).
    Matches ``survival::concordance(coxph_fit)`` (``timewt = "n"``, no strata).
    """
    t, e, x = check_survival(time, event, risk, names=("time", "event", "risk"))
    e = e == 1.0
    n = t.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != t.shape or np.any(w < 0):
        raise ValueError("weights must be non-negative and of the same length as time")
    if apply_timefix:
        t = timefix(t)

    # Time key: events at a time sort before censorings at that time, so for an event i the
    # comparable partners are exactly the rows with a strictly larger key.
    k = 2 * dense_rank(t) + (~e).astype(np.int64)
    r = dense_rank(x)
    di = np.flatnonzero(e)
    kdead, rdead, wdead = k[di], r[di], w[di]

    # Role 1 - row i is the event (shorter time): partners j with k_j > k_i.
    #   concordant: the partner has lower risk; discordant: higher; tied.x: equal.
    lo1, eq1, hi1, _ = dominance_sums(kdead, rdead, k, r, w)
    # Role 2 - row j is the longer member: events i with k_i < k_j (flip the key order).
    kmax = int(k.max()) + 1
    lo2, eq2, hi2, _ = dominance_sums(kmax - k, r, kmax - kdead, rdead, wdead)

    concordant = float(np.sum(wdead * lo1))
    discordant = float(np.sum(wdead * hi1))
    tied_x = float(np.sum(wdead * eq1))

    # tied.y / tied.xy: pairs of events at the same time (and the same risk)
    def _pairs(group_keys: np.ndarray) -> float:
        _, inv = np.unique(group_keys, return_inverse=True)
        s = np.bincount(inv, weights=wdead)
        s2 = np.bincount(inv, weights=wdead**2)
        return float(np.sum((s * s - s2) / 2.0))

    tied_xy = _pairs(kdead * (int(r.max()) + 1) + rdead) if di.size else 0.0
    tied_y = (_pairs(kdead) if di.size else 0.0) - tied_xy

    npair = concordant + discordant + tied_x
    if npair == 0:
        raise ValueError("no comparable pairs: C-index undefined")
    somers_d = (concordant - discordant) / npair

    # Per-row influence counts (partner weights, not multiplied by the row's own weight),
    # survival's 'influence' matrix columns concordant / discordant / tied.x.
    inf_c = hi2.copy()  # as longer member: events with higher risk than mine -> concordant
    inf_d = lo2.copy()
    inf_t = eq2.copy()
    inf_c[di] += lo1
    inf_d[di] += hi1
    inf_t[di] += eq1
    # survival's dfbeta for Somers' d; var(C) = var(d)/4
    dfbeta = w * ((inf_c - inf_d) / npair - (somers_d / npair) * (inf_c + inf_d + inf_t))
    var_c = float(np.sum(dfbeta**2)) / 4.0

    return ConcordanceResult(
        c_index=(somers_d + 1.0) / 2.0,
        std_err=float(np.sqrt(var_c)),
        concordant=concordant,
        discordant=discordant,
        tied_x=tied_x,
        tied_y=tied_y,
        tied_xy=tied_xy,
        n=n,
        influence=dfbeta / 2.0,
    )


class WeightedConcordance:
    """Harrell's C of one fixed risk score under many sets of case (frequency) weights.

    The comparable-pair geometry (time key, risk rank) does not depend on the weights, so
    it is computed once; each weight vector then costs one sweep in descending time with a
    Fenwick tree over the risk ranks (``_compiled.harrell_c``), O(n log n).  ``c_index(W)``
    equals ``concordance_index(time, event, risk, weights=w).c_index`` for every row w of W
    (to the last bit with integer weights, whose sums are exact; pinned by tests), without
    the IJ standard error.  Memory O(n).
    """

    def __init__(self, time, event, risk, *, apply_timefix: bool = True):
        t, e, x = check_survival(time, event, risk, names=("time", "event", "risk"))
        e = e == 1.0
        if apply_timefix:
            t = timefix(t)
        self.n = t.shape[0]
        self.key = 2 * dense_rank(t) + (~e).astype(np.int64) if self.n else np.zeros(0, np.int64)
        self.rank = dense_rank(x) if self.n else np.zeros(0, np.int64)
        self.event = e

    def c_index(self, weights=None) -> np.ndarray | float:
        """C for each row of ``weights`` (m x n; a 1-D vector gives a float; None = unit
        weights).  NaN where a weight vector leaves no comparable pair."""
        W = np.ones(self.n) if weights is None else np.asarray(weights, dtype=float)
        single = W.ndim == 1
        W = np.atleast_2d(W)
        if W.shape[1] != self.n:
            raise ValueError("weights must have n columns")
        from crlmflow.validation._compiled import harrell_c  # numba: imported where needed (0.2 s)

        out = harrell_c(self.key, self.rank, self.event, W) if self.n else np.full(W.shape[0], np.nan)
        return float(out[0]) if single else out
