"""Expected range of the paper's published numbers under the calibrated truth.

Each replicate (:mod:`crlmflow.simulation.paper_replicate`, the simulation study's
replicate cohort of the same number) is a cohort of the paper's size analysed by the
configured procedure, every published number computed on it as the paper comparison
computes it on the run's cohort. The spread of a number across replicates is its
sampling distribution under the generator's truth; the central 95%
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

from crlmflow.simulation.paper_replicate import SELECTION_PREFIX
from crlmflow.simulation.performance import proportion_mcse

__all__ = ["expected_ranges", "selection_frequency", "quantile_mc_interval", "EXPECTED_COLUMNS", "SELECTION_COLUMNS"]

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
SELECTION_COLUMNS = ["endpoint", "variable", "selection_freq", "n_replicates", "mc_se"]


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


def expected_ranges(values: pd.DataFrame) -> pd.DataFrame:
    """Expected 95% ranges, keyed like ``paper_comparison``'s rows, from the replicates'
    values (:func:`crlmflow.simulation.paper_replicate.run_paper_replicate`: columns rep,
    key, value; the ``selection.*`` keys are left to :func:`selection_frequency`).

    One row per key, in the order the keys first appear: the 2.5th and 97.5th percentiles
    (``lower``, ``upper``), the median, ``n_replicates`` (replicates with a value: a Table
    2 multivariable HR or p exists only where the term was selected, so its range is
    conditional on selection) and the Monte Carlo interval of each bound. A key no
    replicate has a value for gets ``n_replicates`` 0 and no range.
    """
    v = values[~values["key"].str.startswith(f"{SELECTION_PREFIX}.")]
    rows = []
    for key, part in v.groupby("key", sort=False):
        conditional = ".multivariable.selected." in key
        src = "replicates that selected the term" if conditional else "replicate cohorts"
        rows.append(_range(str(key), part["value"], src))
    return pd.DataFrame(rows, columns=EXPECTED_COLUMNS)


def selection_frequency(values: pd.DataFrame) -> pd.DataFrame:
    """Per endpoint and candidate, the proportion of replicates whose procedure selected it,
    with its Monte Carlo SE √(p(1−p)/R) (Morris, White & Crowther 2019, Table 6).

    Columns: endpoint, variable, selection_freq, n_replicates, mc_se.
    """
    sel = values[values["key"].str.startswith(f"{SELECTION_PREFIX}.")]
    parts = sel["key"].str.split(".", n=2, expand=True)
    sel = sel.assign(endpoint=parts[1], variable=parts[2])
    rows = []
    for (ep, var), part in sel.groupby(["endpoint", "variable"], sort=False):
        x = pd.to_numeric(part["value"], errors="coerce").dropna()
        p, se = proportion_mcse(int(x.sum()), int(len(x)))
        rows.append({"endpoint": ep, "variable": var, "selection_freq": p, "n_replicates": int(len(x)), "mc_se": se})
    return pd.DataFrame(rows, columns=SELECTION_COLUMNS)
