"""Shared cases of the optimism-bootstrap tests: the synthetic CRLM training subset and a
replicate engine on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rref import read_csv, reference

from crlmflow.validation.optimism import ReplicateEngine

CRLM_CANDIDATES = reference("crlm_a")["spec"]["candidates"]
EXCLUDE = ("chemo_full_course",)
HORIZONS = [12, 36, 60]


def load_crlm_train() -> pd.DataFrame:
    """A seeded 70% subset of the synthetic CRLM fixture (as the paper's training set)."""
    df = read_csv("crlm_synth_a.csv")
    rng = np.random.default_rng(20240601)
    keep = np.sort(rng.choice(len(df), int(round(0.7 * len(df))), replace=False))
    return df.iloc[keep].reset_index(drop=True)


def engine(df, ep="os", method="stepaic_both", seed=11, **kw) -> ReplicateEngine:
    return ReplicateEngine(
        df,
        CRLM_CANDIDATES,
        f"{ep}_months",
        f"{ep}_event",
        HORIZONS,
        seed=seed,
        endpoint_index=0 if ep == "os" else 1,
        exclude=EXCLUDE,
        method=method,
        **kw,
    )
