"""Compiled loops of the batched Cox derivatives on large samples (``batch_cox``).

NumPy forms the risk-set sums of M models as a chain of whole-array passes (the products
r·x of every row, then segment sums), each reading and writing M × q × n doubles; at
n = 100,000 those passes, not the arithmetic, are the cost.  Here one compiled pass per
model reads each row once and accumulates its segment's sums (numba, ahead of first use
and cached on disk, so a fresh process pays the compilation once per machine).

The exponentials stay in NumPy, whose vectorised exp is faster than a scalar loop's.
Sums run in row order within a segment: the same sums as NumPy's, with a different
rounding order (relative differences ~1e-16; pinned against ``CoxData`` by the tests of
``batch_cox``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["segment_sums"]


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


def segment_sums(XT: np.ndarray, r: np.ndarray, bounds: np.ndarray, second: bool) -> np.ndarray:
    """Sums over the row segments ``bounds[s] <= i < bounds[s + 1]`` of r, r·x_j (and r·x_0²
    when ``second``) for every model: XT (M, q, n), r (M, n) -> (M, q + 1 [+ 1], segments)."""
    return _segment_sums(
        np.ascontiguousarray(XT, dtype=np.float64),
        np.ascontiguousarray(r, dtype=np.float64),
        np.ascontiguousarray(bounds, dtype=np.int64),
        bool(second),
    )
