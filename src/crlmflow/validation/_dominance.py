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
        self.o_all = _stable_order(kd, np.arange(self.nd))
        self.hi_all = np.searchsorted(kd[self.o_all], kq, side="right")

        # equal value, larger key: composite key (value, key)
        ck = rd * K + kd
        self.o_eq = _stable_order(rd, self.o_all)  # by (rd, kd, index), as argsort(ck, stable)
        cks = ck[self.o_eq]
        self.eq_lo = np.searchsorted(cks, rq * K + kq, side="right")
        self.eq_hi = np.searchsorted(cks, (rq + 1) * K, side="left")

        # strictly smaller value, larger key: one pass per bit of the value rank
        rmax = int(max(rq.max(initial=0), rd.max(initial=0)))
        o_q = _stable_order(kq, np.arange(self.nq))
        for b in range(max(1, rmax.bit_length())):
            dsel_mask = ((rd >> b) & 1) == 0
            qsel_mask = ((rq >> b) & 1) == 1
            if not dsel_mask.any() or not qsel_mask.any():
                continue
            # queries in ascending search key (prefix, kq): binary searches of sorted keys
            # are faster; the sums are per query, so their order does not matter
            qsel = _stable_order(rq >> (b + 1), o_q[qsel_mask[o_q]])
            # data ordered by (prefix, kd, index), as argsort(prefix * K + kd, stable)
            idx = _stable_order(rd >> (b + 1), self.o_all[dsel_mask[self.o_all]])
            pks = (rd[idx] >> (b + 1)) * K + kd[idx]
            pq = rq[qsel] >> (b + 1)
            lo = np.searchsorted(pks, pq * K + kq[qsel], side="right")
            hi = np.searchsorted(pks, (pq + 1) * K, side="left")
            self.levels.append((idx, qsel, lo, hi))

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


def _stable_order(key: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``order`` (row indices) re-sorted stably by the non-negative integer ``key`` of its
    rows: ties keep their order in ``order``.  LSD radix sort by 16-bit digits (numpy's
    stable sort of 16-bit integers is a radix sort): same result as a stable comparison
    sort, in O(n) per digit."""
    k = key[order]
    kmax = int(k.max()) if k.size else 0
    shift = 0
    while True:
        o = np.argsort(((k >> shift) & 0xFFFF).astype(np.uint16), kind="stable")
        order, k = order[o], k[o]
        shift += 16
        if kmax >> shift == 0:
            return order


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
