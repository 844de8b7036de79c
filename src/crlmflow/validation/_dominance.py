"""Weighted 2-D dominance sums in O(n log^2 n) with vectorised numpy (no n x n matrices).

For query points (kq, rq) and data points (kd, rd, wd) with integer coordinates we need, for
every query, the weight of the data points with a strictly larger key ``kd > kq`` split by the
value relation ``rd < rq`` / ``rd == rq`` / ``rd > rq``.  This is what a Fenwick or balanced
tree sweep gives (survival::concordance uses a balanced binary tree); here the "less" part is
done by binary decomposition of the value rank: rd < rq exactly when, at the highest bit where
they differ, rd has 0 and rq has 1, so for every bit level the problem becomes a 1-D
"same prefix, larger key" count solved with one sort and two searchsorted calls.
"""

from __future__ import annotations

import numpy as np


def dominance_sums(kq, rq, kd, rd, wd):
    """Return (below, equal, above, total): sums of ``wd`` over data with ``kd > kq`` and
    ``rd < rq``, ``rd == rq``, ``rd > rq``, and all of them.  Coordinates are non-negative
    integers (dense ranks)."""
    kq = np.asarray(kq, dtype=np.int64)
    rq = np.asarray(rq, dtype=np.int64)
    kd = np.asarray(kd, dtype=np.int64)
    rd = np.asarray(rd, dtype=np.int64)
    wd = np.asarray(wd, dtype=float)
    nq = kq.shape[0]
    if kd.shape[0] == 0 or nq == 0:
        z = np.zeros(nq)
        return z, z.copy(), z.copy(), z.copy()
    K = int(max(kq.max(initial=0), kd.max(initial=0))) + 2  # key span; keys < K

    # total weight with kd > kq
    o = np.argsort(kd, kind="stable")
    ks = kd[o]
    cw = np.concatenate([[0.0], np.cumsum(wd[o])])
    total = cw[-1] - cw[np.searchsorted(ks, kq, side="right")]

    # equal value, larger key: composite key (value, key)
    ck = rd * K + kd
    o = np.argsort(ck, kind="stable")
    cks = ck[o]
    cw = np.concatenate([[0.0], np.cumsum(wd[o])])
    lo = np.searchsorted(cks, rq * K + kq, side="right")
    hi = np.searchsorted(cks, (rq + 1) * K, side="left")
    equal = cw[hi] - cw[lo]

    # strictly smaller value, larger key: one pass per bit of the value rank
    below = np.zeros(nq)
    rmax = int(max(rq.max(initial=0), rd.max(initial=0)))
    nbits = max(1, rmax.bit_length())
    for b in range(nbits):
        dsel = ((rd >> b) & 1) == 0
        qsel = ((rq >> b) & 1) == 1
        if not dsel.any() or not qsel.any():
            continue
        pk = (rd[dsel] >> (b + 1)) * K + kd[dsel]
        o = np.argsort(pk, kind="stable")
        pks = pk[o]
        cw = np.concatenate([[0.0], np.cumsum(wd[dsel][o])])
        pq = rq[qsel] >> (b + 1)
        lo = np.searchsorted(pks, pq * K + kq[qsel], side="right")
        hi = np.searchsorted(pks, (pq + 1) * K, side="left")
        below[qsel] += cw[hi] - cw[lo]

    above = total - below - equal
    # guard tiny negative round-off when weights are non-integer
    above[np.abs(above) < 1e-12 * max(1.0, float(np.abs(wd).sum()))] = 0.0
    return below, equal, above, total


def dense_rank(x) -> np.ndarray:
    """0-based dense rank (ties share a rank)."""
    _, inv = np.unique(np.asarray(x), return_inverse=True)
    return inv.astype(np.int64)
