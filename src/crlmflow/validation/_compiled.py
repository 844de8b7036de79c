"""Compiled loops of the optimism bootstrap on large samples (numba).

NumPy works in whole-array passes.  Where a computation is a loop over rows whose passes,
not its arithmetic, are the cost, or a sequential sweep NumPy cannot express, it is
written here as one compiled loop, compiled ahead of first use and cached on disk (a
fresh process pays the compilation once per machine):

* ``segment_sums`` – the risk-set sums of the batched Cox derivatives (``batch_cox``):
  NumPy forms them as a chain of passes (the products r·x of every row, then segment
  sums), each reading and writing M × q × n doubles; here one pass per model reads each
  row once.  The exponentials stay in NumPy, whose vectorised exp beats a scalar loop's.
  Sums run in row order within a segment: NumPy's sums with another rounding order
  (relative differences ~1e-16; pinned against ``CoxData`` by the tests of ``batch_cox``).
* ``series_sums`` – the Efron tie-term sums of every distinct event time as power series
  in the dying share of its risk set (``batch_cox``), by Horner's rule per model and time
  instead of a (times × models × powers) array and a stack of small matrix products.
* ``harrell_c`` – Harrell's C under frequency weights by a sweep in descending time with a
  Fenwick tree over risk ranks (Fenwick, Softw Pract Exper 1994;
  ``concordance.WeightedConcordance``), O(n log n) per weight vector.  With integer
  weights the weighted pair counts are exact integers, so C = concordant / comparable is
  the brute-force pair sums' to the last bit (``concordance_index`` to rounding: it forms
  C as (Somers' d + 1) / 2).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["harrell_c", "segment_sums", "series_sums"]


@njit(cache=True, nogil=True)
def _segment_sums(XT, r, bounds, second):  # pragma: no cover - compiled; run through segment_sums
    M, q, _ = XT.shape
    nseg = bounds.size - 1
    width = q + 1 + (1 if second else 0)
    S = np.zeros((M, width, nseg))
    acc = np.empty(width)
    for m in range(M):
        for s in range(nseg):
            acc[:] = 0.0
            for i in range(bounds[s], bounds[s + 1]):
                ri = r[m, i]
                acc[0] += ri
                for j in range(q):
                    acc[1 + j] += ri * XT[m, j, i]
                if second:
                    acc[q + 1] += ri * XT[m, 0, i] * XT[m, 0, i]
            for k in range(width):
                S[m, k, s] = acc[k]
    return S


@njit(cache=True, nogil=True)
def _segment_sums_one(X, r, bounds, second):  # pragma: no cover - compiled; run through segment_sums
    # one column per model (univariable screening): the sums stay in registers, where the
    # general loop's accumulator array is stored and reloaded on every row (~2x slower)
    M, _ = X.shape
    nseg = bounds.size - 1
    S = np.zeros((M, 3 if second else 2, nseg))
    for m in range(M):
        for s in range(nseg):
            a0 = a1 = a2 = 0.0
            for i in range(bounds[s], bounds[s + 1]):
                ri = r[m, i]
                xi = X[m, i]
                a0 += ri
                a1 += ri * xi
                if second:
                    a2 += ri * xi * xi
            S[m, 0, s] = a0
            S[m, 1, s] = a1
            if second:
                S[m, 2, s] = a2
    return S


def segment_sums(XT: np.ndarray, r: np.ndarray, bounds: np.ndarray, second: bool) -> np.ndarray:
    """Sums over the row segments ``bounds[s] <= i < bounds[s + 1]`` of r, r·x_j (and r·x_0²
    when ``second``) for every model: XT (M, q, n), r (M, n) -> (M, q + 1 [+ 1], segments).
    The same sums in the same order whatever q (one column: ``_segment_sums_one``)."""
    if XT.shape[1] == 1:
        return _segment_sums_one(
            np.ascontiguousarray(XT[:, 0, :], dtype=np.float64),
            np.ascontiguousarray(r, dtype=np.float64),
            np.ascontiguousarray(bounds, dtype=np.int64),
            bool(second),
        )
    return _segment_sums(
        np.ascontiguousarray(XT, dtype=np.float64),
        np.ascontiguousarray(r, dtype=np.float64),
        np.ascontiguousarray(bounds, dtype=np.int64),
        bool(second),
    )


@njit(cache=True, nogil=True)
def _prefix(tree, k):  # pragma: no cover - compiled
    total = 0.0
    while k > 0:
        total += tree[k]
        k -= k & (-k)
    return total


@njit(cache=True, nogil=True)
def _harrell_c(order, bounds, rank, is_event, W, n_ranks):  # pragma: no cover - compiled; via harrell_c
    m = W.shape[0]
    out = np.empty(m)
    tree = np.empty(n_ranks + 1)
    for b in range(m):
        tree[:] = 0.0
        total = num = den = 0.0
        for g in range(bounds.size - 1):
            # the group's events are compared with the rows of strictly larger key only
            for p in range(bounds[g], bounds[g + 1]):
                i = order[p]
                wi = W[b, i]
                if is_event[i] and wi != 0.0:
                    below = _prefix(tree, rank[i] - 1)
                    num += wi * (below + 0.5 * (_prefix(tree, rank[i]) - below))
                    den += wi * total
            for p in range(bounds[g], bounds[g + 1]):
                i = order[p]
                wi = W[b, i]
                if wi != 0.0:
                    k = rank[i]
                    while k <= n_ranks:
                        tree[k] += wi
                        k += k & (-k)
                    total += wi
        out[b] = num / den if den > 0.0 else np.nan
    return out


def harrell_c(key, rank, is_event, W) -> np.ndarray:
    """Harrell's C for each row of ``W`` (m × n frequency weights).

    ``key``: comparison key per row (row j is comparable to event i when key_j > key_i);
    ``rank``: dense rank of the risk score (0-based; concordant when the event's is larger,
    ties count 1/2); ``is_event``: 0/1.  C = sum_i w_i sum_j w_j (1[r_j < r_i] + 1[r_j = r_i]/2)
    / sum_i w_i sum_j w_j over events i and rows j of larger key; NaN without such a pair."""
    key = np.asarray(key, dtype=np.int64)
    order = np.argsort(-key, kind="stable")
    ks = key[order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]]) if ks.size else np.zeros(0, np.int64)
    bounds = np.append(starts, ks.size).astype(np.int64)
    r = np.asarray(rank, dtype=np.int64) + 1  # the tree is 1-based
    return _harrell_c(
        order.astype(np.int64),
        bounds,
        r,
        np.asarray(is_event, dtype=np.bool_),
        np.ascontiguousarray(W, dtype=np.float64),
        int(r.max(initial=0)),
    )


@njit(cache=True, nogil=True, error_model="numpy")
def _series_sums(R0, D0, coef, Q0):  # pragma: no cover - compiled; run through series_sums
    M, Gl = R0.shape
    J1 = coef.shape[1]
    s = np.empty((5, M, Gl))
    logterm = np.empty((M, Gl))
    o = np.empty(6)
    for m in range(M):
        for g in range(Gl):
            r0 = R0[m, g]
            rho = D0[m, g] / r0
            o[:] = 0.0
            for j in range(J1 - 1, -1, -1):
                for k in range(6):
                    o[k] = o[k] * rho + coef[g, j, k]
            inv = 1.0 / r0
            inv2 = inv * inv
            s[0, m, g] = o[0] * inv
            s[1, m, g] = o[1] * inv
            s[2, m, g] = o[2] * inv2
            s[3, m, g] = o[3] * inv2
            s[4, m, g] = o[4] * inv2
            logterm[m, g] = Q0[g] * np.log(r0) - o[5]
    return s, logterm


def series_sums(R0: np.ndarray, D0: np.ndarray, coef: np.ndarray, Q0: np.ndarray):
    """(s, logterm): for M models (rows of R0, D0: risk-set and dying-block sums per live
    time) and each time g, out_k = sum_j rho^j coef[g, j, k] with rho = D0 / R0 (Horner);
    s = (out_0, out_1) / R0 and (out_2, out_3, out_4) / R0^2 stacked (5, M, times), logterm =
    Q0 log R0 - out_5 (M, times).  Exact only where the series converges (rho small); the
    caller replaces the other times' values."""
    return _series_sums(
        np.ascontiguousarray(R0, dtype=np.float64),
        np.ascontiguousarray(D0, dtype=np.float64),
        np.ascontiguousarray(coef, dtype=np.float64),
        np.ascontiguousarray(Q0, dtype=np.float64),
    )
