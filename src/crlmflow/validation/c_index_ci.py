"""Percentile bootstrap CI of Harrell's C for a fixed risk score (no refit).

Method: Efron & Tibshirani (1993), An Introduction to the Bootstrap, ch. 13 (percentile
interval); C as ``survival::concordance`` (Harrell et al. 1996), each resample's C from
frequency weights (``crlmflow.validation.weighted``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crlmflow.validation.concordance import WeightedConcordance, concordance_index
from crlmflow.validation.weighted import concordance_kernel, pair_matrix

__all__ = ["BootstrapCI", "bootstrap_c_index_ci"]

# above this n the B x n x n pair products (W @ K) cost more than WeightedConcordance's
# O(B n log n) cumulative sums (the two agree to rounding; tests pin them)
_CI_PAIR_LIMIT = 2000


@dataclass(frozen=True)
class BootstrapCI:
    c_index: float  # on the original data
    lower: float
    upper: float
    level: float
    B: int
    replicates: np.ndarray  # C of each replicate (NaN if a resample has no comparable pair)


def bootstrap_c_index_ci(
    time, event, risk, *, rng: np.random.Generator, B: int = 1000, level: float = 0.95, chunk: int = 256
) -> BootstrapCI:
    """Percentile CI of Harrell's C of a FIXED risk score (no refit): resample patients with
    ``rng`` (B x n draws, replicate by replicate), recompute C.  The workflow passes
    ``crlmflow.pipeline.streams.stream(seed, "c_index_bootstrap", endpoint_index, set_index)``.

    Vectorised: with P the comparable-pair matrix and K = P * [risk_i > risk_j] (+1/2 ties),
    C_b = w_b' K w_b / w_b' P w_b for frequency weights w_b (n <= _CI_PAIR_LIMIT); for larger n
    ``WeightedConcordance`` (O(n log n) per replicate, O(n log n) memory).  Quantiles: numpy
    "linear" (R type 7)."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event).astype(bool)
    x = np.asarray(risk, dtype=float)
    n = t.size
    c0 = concordance_index(t, e, x).c_index
    reps = np.empty(B)
    use_pairs = n <= _CI_PAIR_LIMIT
    if use_pairs:
        P = pair_matrix(t, e)
        K = P * concordance_kernel(x)
    else:
        wc = WeightedConcordance(t, e, x)
    for s in range(0, B, chunk):
        m = min(chunk, B - s)
        idx = rng.integers(0, n, size=(m, n))
        W = np.bincount((idx + n * np.arange(m)[:, None]).ravel(), minlength=m * n).reshape(m, n).astype(float)
        del idx
        if use_pairs:
            num = np.einsum("bi,bi->b", W @ K, W)
            den = np.einsum("bi,bi->b", W @ P, W)
            with np.errstate(invalid="ignore", divide="ignore"):
                reps[s : s + m] = np.where(den > 0, num / den, np.nan)
        else:
            reps[s : s + m] = wc.c_index(W)
    a = (1.0 - level) / 2.0
    ok = reps[np.isfinite(reps)]
    lo, hi = np.quantile(ok, [a, 1.0 - a])
    return BootstrapCI(float(c0), float(lo), float(hi), float(level), int(B), reps)
