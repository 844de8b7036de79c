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


class DominancePlan:
    """The weight-free part of ``dominance_sums``: the sorts and binary searches depend only
    on the coordinates, so one plan serves any number of weight vectors (e.g. bootstrap
    frequency weights), each then costing O(n log n) cumulative sums and gathers."""

    def __init__(self, kq, rq, kd, rd):
        kq = np.asarray(kq, dtype=np.int64)
        rq = np.asarray(rq, dtype=np.int64)
        kd = np.asarray(kd, dtype=np.int64)
        rd = np.asarray(rd, dtype=np.int64)
        self.nq, self.nd = kq.shape[0], kd.shape[0]
        self.levels = []
        if self.nd == 0 or self.nq == 0:
            return
        K = int(max(kq.max(initial=0), kd.max(initial=0))) + 2  # key span; keys < K

        # total weight with kd > kq
        self.o_all = np.argsort(kd, kind="stable")
        self.hi_all = np.searchsorted(kd[self.o_all], kq, side="right")

        # equal value, larger key: composite key (value, key)
        ck = rd * K + kd
        self.o_eq = np.argsort(ck, kind="stable")
        cks = ck[self.o_eq]
        self.eq_lo = np.searchsorted(cks, rq * K + kq, side="right")
        self.eq_hi = np.searchsorted(cks, (rq + 1) * K, side="left")

        # strictly smaller value, larger key: one pass per bit of the value rank
        rmax = int(max(rq.max(initial=0), rd.max(initial=0)))
        for b in range(max(1, rmax.bit_length())):
            dsel = np.flatnonzero(((rd >> b) & 1) == 0)
            qsel = np.flatnonzero(((rq >> b) & 1) == 1)
            if dsel.size == 0 or qsel.size == 0:
                continue
            pk = (rd[dsel] >> (b + 1)) * K + kd[dsel]
            o = np.argsort(pk, kind="stable")
            pks = pk[o]
            pq = rq[qsel] >> (b + 1)
            lo = np.searchsorted(pks, pq * K + kq[qsel], side="right")
            hi = np.searchsorted(pks, (pq + 1) * K, side="left")
            self.levels.append((dsel[o], qsel, lo, hi))

    @staticmethod
    def _prefix(W: np.ndarray, order: np.ndarray) -> np.ndarray:
        cw = np.zeros((W.shape[0], order.size + 1))
        np.cumsum(W[:, order], axis=1, out=cw[:, 1:])
        return cw

    def sums(self, W: np.ndarray):
        """(below, equal, total), each (m, nq), for the m weight vectors in the rows of W."""
        W = np.asarray(W, dtype=float)
        m = W.shape[0]
        below = np.zeros((m, self.nq))
        if self.nd == 0 or self.nq == 0:
            return below, below.copy(), below.copy()
        cw = self._prefix(W, self.o_all)
        total = cw[:, -1:] - cw[:, self.hi_all]
        cw = self._prefix(W, self.o_eq)
        equal = cw[:, self.eq_hi] - cw[:, self.eq_lo]
        for idx, q, lo, hi in self.levels:
            cw = self._prefix(W, idx)
            below[:, q] += cw[:, hi] - cw[:, lo]
        return below, equal, total


def dominance_sums(kq, rq, kd, rd, wd):
    """Return (below, equal, above, total): sums of ``wd`` over data with ``kd > kq`` and
    ``rd < rq``, ``rd == rq``, ``rd > rq``, and all of them.  Coordinates are non-negative
    integers (dense ranks)."""
    wd = np.asarray(wd, dtype=float)
    below, equal, total = (a[0] for a in DominancePlan(kq, rq, kd, rd).sums(wd[None, :]))
    above = total - below - equal
    # guard tiny negative round-off when weights are non-integer
    above[np.abs(above) < 1e-12 * max(1.0, float(np.abs(wd).sum()))] = 0.0
    return below, equal, above, total


def dense_rank(x) -> np.ndarray:
    """0-based dense rank (ties share a rank)."""
    _, inv = np.unique(np.asarray(x), return_inverse=True)
    return inv.astype(np.int64)
