"""Expected range of the paper's published numbers under the calibrated truth.

Each replicate of the simulation study (``crlmflow.simulation.study``) is a cohort of the
paper's size analysed by the configured procedure. The spread of a statistic across
replicates is its sampling distribution under the generator's truth; the central 95%
(2.5th-97.5th percentiles, ``numpy.quantile`` type 7) is the range a published number
would fall in if the paper's cohort came from that truth. A Table 2 multivariable HR or
p exists only in the replicates that selected the term, so its range is conditional on
selection (``n_replicates`` says how many).

Monte Carlo error of a percentile (distribution-free): with R replicates the 2.5th
percentile lies between the order statistics of ranks R·q ∓ 1.96·√(R·q·(1−q)) with
≈95% probability (the binomial interval of a quantile; Conover, *Practical
Nonparametric Statistics*, 3rd ed., §3.2); ``lower_mc_lo``/``lower_mc_hi`` and
``upper_mc_lo``/``upper_mc_hi`` give those values.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["expected_ranges", "quantile_mc_interval", "EXPECTED_COLUMNS"]

EXPECTED_COLUMNS = [
    "key",
    "lower",
    "upper",
    "median",
    "n_replicates",
    "lower_mc_lo",
    "lower_mc_hi",
    "upper_mc_lo",
    "upper_mc_hi",
    "source",
]


def quantile_mc_interval(x: np.ndarray, q: float) -> tuple[float, float]:
    """Distribution-free ~95% interval of the q-quantile of the sample ``x`` (order
    statistics at ranks R·q ∓ 1.96·√(R·q·(1−q)), clipped to the sample)."""
    xs = np.sort(np.asarray(x, float))
    r = xs.size
    half = 1.96 * math.sqrt(r * q * (1.0 - q))
    lo = int(np.clip(math.floor(r * q - half), 0, r - 1))
    hi = int(np.clip(math.ceil(r * q + half), 0, r - 1))
    return float(xs[lo]), float(xs[hi])


def _range(key: str, values, source: str) -> dict:
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(float)
    if x.size == 0:
        return {"key": key, "n_replicates": 0, "source": source}
    lo, hi = np.quantile(x, [0.025, 0.975])
    llo, lhi = quantile_mc_interval(x, 0.025)
    ulo, uhi = quantile_mc_interval(x, 0.975)
    return {
        "key": key,
        "lower": float(lo),
        "upper": float(hi),
        "median": float(np.median(x)),
        "n_replicates": int(x.size),
        "lower_mc_lo": llo,
        "lower_mc_hi": lhi,
        "upper_mc_lo": ulo,
        "upper_mc_hi": uhi,
        "source": source,
    }


#: paper_targets.yaml variable names that differ from the cohort's
_PAPER_VAR = {"male": "sex"}


def expected_ranges(replicates: pd.DataFrame) -> pd.DataFrame:
    """Expected 95% ranges, keyed like ``paper_comparison``'s rows, from the simulation
    study's ``replicates.csv`` (one row per replicate, endpoint and term).

    Covered: cohort sizes and event counts, Table 2 multivariable HR (with CI bounds) and
    p of every term when selected, C-index in the training (apparent) and validation sets.
    """
    reps = replicates.copy()
    per_ep = reps.drop_duplicates(["rep", "endpoint"]).set_index(["endpoint", "rep"])
    rows = []
    first = per_ep.index.get_level_values(0)[0]
    sizes = per_ep.loc[first]
    rows.append(_range("cohort.n_train", sizes["n_train"], "replicate split"))
    rows.append(_range("cohort.n_validation", sizes["n_validation"], "replicate split"))
    rows.append(_range("cohort.n_total", sizes["n_train"] + sizes["n_validation"], "replicate cohort"))
    for ep, key in (("os", "cohort.deaths"), ("rfs", "cohort.recurrences")):
        if ep in per_ep.index.get_level_values(0):
            e = per_ep.loc[ep]
            rows.append(_range(key, e["events_train"] + e["events_validation"], "replicate cohort"))
    for ep in per_ep.index.get_level_values(0).unique():
        e = per_ep.loc[ep]
        rows.append(_range(f"performance.{ep}.c_index.train.0", e["c_apparent"], "apparent C, training set"))
        rows.append(_range(f"performance.{ep}.c_index.validation.0", e["c_split"], "C, validation set"))
        sel = reps[(reps["endpoint"] == ep) & (reps["selected"] == 1)]
        for var, part in sel.groupby("variable", sort=True):
            k = f"table2.{ep}.multivariable.selected.{_PAPER_VAR.get(var, var)}"
            src = "replicates that selected the term"
            for i, col in enumerate(("hr", "hr_lower", "hr_upper")):
                rows.append(_range(f"{k}.hr.{i}", part[col], src))
            rows.append(_range(f"{k}.p", part["p"], src))
    return pd.DataFrame(rows, columns=EXPECTED_COLUMNS)
