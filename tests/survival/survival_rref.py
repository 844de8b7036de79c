"""Helpers to read the R reference results (see tests/fixtures/r_reference/README.md)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "r_reference"
DATASETS = ("crlm_a", "colon")
ENDPOINTS = ("os", "rfs")
CASES = [(d, e) for d in DATASETS for e in ENDPOINTS]

# reference README: 1e-6 relative for coefficients/SEs, absolute for p and probabilities
RTOL = 1e-6
ATOL = 1e-6


@lru_cache(maxsize=None)
def load_reference(name: str) -> dict:
    with open(FIXTURES / f"{name}.json") as fh:
        return json.load(fh)


@lru_cache(maxsize=None)
def load_rows(name: str) -> pd.DataFrame:
    # round_trip: the default C parser can be 1 ulp off, which shifts step functions
    return pd.read_csv(FIXTURES / f"{name}_rows.csv", float_precision="round_trip")


def na(x):
    """JSON null -> NaN, recursively for lists."""
    if isinstance(x, list):
        return np.array([np.nan if v is None else v for v in x], dtype=float)
    return np.nan if x is None else float(x)


def assert_rel(actual, expected, rtol=RTOL, what=""):
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert a.shape == e.shape, f"{what}: shape {a.shape} vs {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=0, err_msg=what)


def assert_abs(actual, expected, atol=ATOL, what=""):
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert a.shape == e.shape, f"{what}: shape {a.shape} vs {e.shape}"
    np.testing.assert_allclose(a, e, rtol=0, atol=atol, err_msg=what, equal_nan=True)


