"""Shared loaders for the R reference fixtures (tests/fixtures/r_reference, see its README.md:
R 4.2.2, survival 3.5-3, rms 6.5-0, riskRegression 2022.11.28, Hmisc 4.8-0)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "r_reference"
DATASETS = ("crlm_a", "colon")
ENDPOINTS = ("os", "rfs")
CASES = [(ds, ep) for ds in DATASETS for ep in ENDPOINTS]
TOL = 1e-6  # README: deterministic numbers to 1e-6


@lru_cache(maxsize=None)
def fixture(ds: str) -> dict:
    return json.loads((FIXTURES / f"{ds}.json").read_text())


@lru_cache(maxsize=None)
def rows(ds: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"{ds}_rows.csv")


def endpoint(ds: str, ep: str):
    """(time, event, endpoint fixture) with rows in the fixture's per-row order."""
    r = rows(ds)
    e = fixture(ds)["endpoints"][ep]
    return r[f"{ep}_months"].to_numpy(float), r[f"{ep}_event"].to_numpy(int), e


def horizons(ds: str) -> list[int]:
    return [int(h) for h in fixture(ds)["spec"]["horizons"]]


def arr(values) -> np.ndarray:
    """JSON array with null -> NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)
