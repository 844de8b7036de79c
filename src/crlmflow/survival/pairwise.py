"""Pairwise log-rank tests with a multiplicity correction (as survminer's ``pairwise_survdiff``).

Each pair of groups is compared by the two-sample log-rank test on the patients of those two
groups only (``survival::survdiff`` on the subset); the p-values of all pairs are then
adjusted by Holm's step-down method (Holm, Scand J Stat 1979), R's ``p.adjust(method = "holm")``,
which controls the family-wise error rate without assuming independent tests.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from crlmflow.survival.km import logrank_test

__all__ = ["holm_adjust", "pairwise_logrank"]


def holm_adjust(p) -> np.ndarray:
    """Holm-adjusted p-values: p_(i) (m - i + 1) for the i-th smallest p, made monotone by a
    running maximum and capped at 1 (R ``p.adjust(p, "holm")``); NaN stays NaN and is not counted."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out[order] = adj
    return out


def pairwise_logrank(time, event, group, levels=None) -> pd.DataFrame:
    """Two-sample log-rank test for every pair of groups, with Holm-adjusted p-values.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and event indicators (1 = event).
    group : array-like
        Group of each patient.
    levels : sequence, optional
        Groups to compare, in this order (default: the sorted distinct groups).

    Returns
    -------
    DataFrame with columns ``group_1, group_2, chisq, p, p_holm`` (one row per pair).
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    g = np.asarray(group).astype(str)
    levels = [str(x) for x in (levels if levels is not None else sorted(set(g.tolist())))]
    rows = []
    for a, b in combinations(levels, 2):
        keep = (g == a) | (g == b)
        if (g == a).sum() == 0 or (g == b).sum() == 0:
            rows.append((a, b, np.nan, np.nan))
            continue
        res = logrank_test(t[keep], e[keep], g[keep])
        rows.append((a, b, res.chisq, res.p))
    out = pd.DataFrame(rows, columns=["group_1", "group_2", "chisq", "p"])
    out["p_holm"] = holm_adjust(out["p"].to_numpy(float))
    return out
