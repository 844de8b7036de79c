"""Optimal cut-off by maximally selected log-rank statistics (Lausen & Schumacher 1992).

Reproduces ``survminer::surv_cutpoint(minprop)`` = ``maxstat::maxstat.test(Surv ~ marker,
smethod = "LogRank", pmethod = "none", minprop, maxprop = 1 - minprop)`` (maxstat 0.7-25,
Hothorn & Lausen 2003), its ``pLausen92`` p-value and a seeded permutation p-value.  The
log-rank test between the resulting groups (``survival::survdiff``) is
``crlmflow.survival.km.logrank_test``.

Everything is O(n log n): the statistic for every candidate cut comes from one cumulative
sum of log-rank scores over the marker-sorted data, not from a log-rank test per cut, so
cohorts of 100,000 rows take milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crlmflow.pipeline.streams import stream
from crlmflow.survival.checks import check_survival

__all__ = [
    "CutpointResult",
    "PermutationResult",
    "logrank_scores",
    "maxstat_cutpoint",
    "lausen_schumacher_p",
    "permutation_p",
    "decision_threshold",
]


def logrank_scores(time, event) -> np.ndarray:
    """Log-rank (Savage) scores as maxstat's ``cscores.Surv``.

    ``a_i = d_i - sum_{j: t_j <= t_i} d_j / (N - r_j + 1)`` where ``r_j`` is maxstat's
    ``irank``: the number of observations with time <= t_j (ties get the *largest* rank).
    That tie convention is maxstat's, kept so the statistic equals R's with tied times.
    """
    t = np.asarray(time, dtype=float)
    d = np.asarray(event, dtype=float)
    n = t.size
    ot = np.argsort(t, kind="stable")
    ts = t[ot]
    rt = np.searchsorted(ts, t, side="right")  # irank: count of times <= t_i
    fact = d / (n - rt + 1)
    cum = np.cumsum(fact[ot])
    return d - cum[rt - 1]


@dataclass
class CutpointResult:
    """Maximally selected standardized log-rank statistic over candidate cuts."""

    estimate: float  # the cut: groups are marker <= estimate ("low") vs > estimate ("high")
    statistic: float  # max |standardized log-rank statistic|
    curve: pd.DataFrame  # columns cut, stat (maxstat's $cuts, $stats)
    n_low: int
    n_high: int
    n: int
    minprop: float
    maxprop: float

    def groups(self, marker) -> np.ndarray:
        """Boolean 'high' indicator (marker > cut), as survminer's surv_categorize."""
        return np.asarray(marker, dtype=float) > self.estimate


def decision_threshold(marker, cut: float, *, rtol: float = 1e-8) -> float:
    """The boundary actually applied to classify patients: midway between the cut and the next
    larger observed marker value.

    ``maxstat`` returns an *observed* marker value ``c`` and survminer classifies ``x > c`` as
    high. Applied literally, the patient whose score defines ``c`` sits exactly on the
    boundary, and a last-bit difference in how the score is summed (NumPy here, JavaScript in
    the calculator, another BLAS on another machine) flips that patient's group. Every
    threshold in ``[c, x_next)`` splits the training patients identically, so the log-rank
    statistic and the groups of every training patient are those of survminer; the midpoint
    ``(c + x_next) / 2`` is the one that no training score lies near (the convention CART uses
    for its split points). Values within ``rtol * max(1, |c|)`` of ``c`` count as equal to it.

    Parameters
    ----------
    marker : array_like
        The training marker values the cut was searched on.
    cut : float
        maxstat's estimate (an observed value).
    rtol : float
        Relative tolerance below which two marker values are treated as tied.

    Returns
    -------
    float
        The threshold; patients with marker > threshold are high risk. If no training value
        exceeds the cut, the cut itself.
    """
    x = np.asarray(marker, dtype=float)
    tol = rtol * max(1.0, abs(float(cut)))
    above = x[x > cut + tol]
    if above.size == 0:
        return float(cut)
    return float((cut + above.min()) / 2.0)


def _candidate_positions(xs: np.ndarray, minprop: float, maxprop: float) -> np.ndarray:
    """maxstat's ``m``: group sizes at each distinct-value boundary inside [minprop, maxprop]."""
    n = xs.size
    first = np.ones(n, dtype=bool)
    first[1:] = xs[1:] != xs[:-1]
    m = np.flatnonzero(first)  # = which(!duplicated(x)) - 1: #obs strictly below each value
    if minprop == 0 and maxprop == 1:
        m = m[1:-1] if m.size > 2 else m[1:]
    else:
        if np.all(m < math.floor(n * minprop)):
            raise ValueError("minprop too large")
        if np.all(m > math.floor(n * maxprop)):
            raise ValueError("maxprop too small")
        m = m[m >= max(1, math.floor(n * minprop))]
        m = m[m <= math.floor(n * maxprop)]
    if m.size < 1:
        raise ValueError("no data between minprop and maxprop")
    return m


def _standardise(cs_at_m: np.ndarray, m: np.ndarray, n: int, ss: float, ss2: float) -> np.ndarray:
    """|(S_m - E) / sqrt(V)| with maxstat's permutation mean and variance of a score sum."""
    e = m / n * ss
    v = m * (n - m) / (n**2 * (n - 1)) * (n * ss2 - ss**2)
    return np.abs((cs_at_m - e) / np.sqrt(v))


def maxstat_cutpoint(marker, time, event, minprop: float = 0.1, maxprop: float | None = None) -> CutpointResult:
    """Optimal cut-off as ``maxstat.test(smethod="LogRank", pmethod="none")`` / ``surv_cutpoint``.

    Candidate cuts are the distinct marker values leaving between ``floor(n*minprop)`` and
    ``floor(n*maxprop)`` observations at or below them (``maxprop`` defaults to
    ``1 - minprop`` as survminer passes it). The estimate is the first cut reaching the
    maximum statistic.
    """
    t, d, x = check_survival(time, event, marker, names=("time", "event", "marker"))
    if maxprop is None:
        maxprop = 1 - minprop
    n = x.size
    y = logrank_scores(t, d)
    ox = np.argsort(x, kind="stable")
    xs, ys = x[ox], y[ox]
    m = _candidate_positions(xs, minprop, maxprop)
    # R accumulates sum()/cumsum() in long double; doing the same keeps the argmax stable
    yl = ys.astype(np.longdouble)
    cs = np.cumsum(yl)
    ss = float(cs[-1])
    ss2 = float(np.sum(yl * yl))
    stat = _standardise(cs[m - 1].astype(float), m.astype(float), n, ss, ss2)
    k = int(np.argmax(stat))  # first maximum, as maxstat's min(which(Test == STATISTIC))
    cut = float(xs[m[k] - 1])
    n_low = int(np.sum(x <= cut))
    return CutpointResult(
        estimate=cut,
        statistic=float(stat[k]),
        curve=pd.DataFrame({"cut": xs[m - 1], "stat": stat}),
        n_low=n_low,
        n_high=n - n_low,
        n=n,
        minprop=minprop,
        maxprop=maxprop,
    )


def lausen_schumacher_p(statistic: float, minprop: float = 0.1, maxprop: float | None = None) -> float:
    """Lausen & Schumacher (1992) approximate p-value, as maxstat's ``pLausen92``.

    Miller & Siegmund's (1982) bound for the supremum of a standardized Brownian bridge
    over [minprop, maxprop]; maxstat returns 1 for statistics below 1 (Schell's fix).
    """
    if maxprop is None:
        maxprop = 1 - minprop
    b = float(statistic)
    if b < 1:
        return 1.0
    db = stats.norm.pdf(b)
    p = 4 * db / b + db * (b - 1 / b) * math.log((maxprop * (1 - minprop)) / ((1 - maxprop) * minprop))
    return max(p, 0.0)


@dataclass
class PermutationResult:
    """Permutation p-value of the maximally selected statistic."""

    p_value: float  # (1 + #{null >= observed}) / (n_perm + 1)
    statistic: float
    null_max: np.ndarray
    n_perm: int
    seed: int | None  # the int seed given, None when a Generator was passed


def permutation_p(
    marker,
    time,
    event,
    minprop: float = 0.1,
    maxprop: float | None = None,
    n_perm: int = 1000,
    seed: int | np.random.Generator = 20240601,
    max_cells: int = 20_000_000,
    *,
    endpoint_index: int = 0,
) -> PermutationResult:
    """Permutation p-value for the maximally selected log-rank statistic (seeded).

    Permuting the marker against (time, event) is the same as permuting the log-rank
    scores against the sorted marker; the candidate set, E and V stay fixed, so each
    permutation costs one shuffle and one cumulative sum. Permutations run in batches of
    at most ``max_cells`` scores to bound memory; the batching does not change the draws.

    ``seed``: a ``numpy.random.Generator`` to draw from (the workflow passes the named
    stream ``stream(study seed, "cutpoint_permutation", endpoint_index)``), or the study
    seed itself, in which case that stream is built here with ``endpoint_index``.
    """
    t, d, x = check_survival(time, event, marker, names=("time", "event", "marker"))
    if maxprop is None:
        maxprop = 1 - minprop
    obs = maxstat_cutpoint(x, t, d, minprop, maxprop)
    n = x.size
    y = logrank_scores(t, d)
    xs = np.sort(x, kind="stable")
    m = _candidate_positions(xs, minprop, maxprop)
    ss, ss2 = float(np.sum(y)), float(np.sum(y * y))
    e = m / n * ss
    sd = np.sqrt(m * (n - m) / (n**2 * (n - 1)) * (n * ss2 - ss**2))
    if isinstance(seed, np.random.Generator):
        rng, seed_used = seed, None
    else:
        rng, seed_used = stream(seed, "cutpoint_permutation", endpoint_index), int(seed)
    null = np.empty(n_perm)
    batch = max(1, max_cells // n)
    for start in range(0, n_perm, batch):
        b = min(batch, n_perm - start)
        perm = rng.permuted(np.broadcast_to(y, (b, n)), axis=1)
        cs = np.cumsum(perm, axis=1)[:, m - 1]
        null[start : start + b] = np.max(np.abs((cs - e) / sd), axis=1)
    # a relative tolerance so that float noise on an exactly equal maximum counts as >=
    exceed = int(np.sum(null >= obs.statistic * (1 - 1e-12)))
    return PermutationResult(
        p_value=(1 + exceed) / (n_perm + 1),
        statistic=obs.statistic,
        null_max=null,
        n_perm=n_perm,
        seed=seed_used,
    )
