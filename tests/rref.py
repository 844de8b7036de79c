"""The one loader of the R reference fixtures (tests/fixtures/r_reference/, see its README:
R 4.2.2, survival 3.5-3, rms 6.5-0, riskRegression 2022.11.28, Hmisc 4.8-0).

Every test reads the fixtures through this module (``import rref``: pytest puts tests/ on
the path), so all of them see the same numbers. CSV floats are parsed with
``float_precision="round_trip"``: pandas' default C parser can be 1 ulp off R's value,
which moves step functions (Kaplan–Meier, cut-offs) at tied times. Only the empty cell is
missing, as R wrote the files; "NA"-like text stays text.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "r_reference"
DATASETS = ("crlm_a", "colon")
ENDPOINTS = ("os", "rfs")
CASES = [(ds, ep) for ds in DATASETS for ep in ENDPOINTS]

# README: deterministic numbers to 1e-6, relative for coefficients/SEs, absolute for p and
# probabilities
TOL = 1e-6
RTOL = 1e-6
ATOL = 1e-6


@cache
def _read_json(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@cache
def _read_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / name, float_precision="round_trip", keep_default_na=False, na_values=[""])


def read_json(name: str) -> dict:
    """A JSON file of the fixture folder (a fresh copy: callers may modify it)."""
    return json.loads(_read_json(name))


def read_csv(name: str) -> pd.DataFrame:
    """A CSV file of the fixture folder (a fresh copy: callers may modify it)."""
    return _read_csv(name).copy()


@cache
def reference(ds: str) -> dict:
    """R's results for dataset ``ds`` (``<ds>.json``). Shared between tests: do not modify."""
    return read_json(f"{ds}.json")


def rows(ds: str) -> pd.DataFrame:
    """The exact rows R analysed (``<ds>_rows.csv``), in the order of every per-row array."""
    return read_csv(f"{ds}_rows.csv")


def spec(ds: str) -> dict:
    """The analysis specification R was run with (``spec_<ds>.json``)."""
    return read_json(f"spec_{ds}.json")


def load_case(ds: str) -> tuple[dict, pd.DataFrame]:
    """(R's results, the rows R analysed) of dataset ``ds``."""
    return reference(ds), rows(ds)


def endpoint(ds: str, ep: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """(time, event, R's results for the endpoint), rows in the fixture's per-row order."""
    r = rows(ds)
    return r[f"{ep}_months"].to_numpy(float), r[f"{ep}_event"].to_numpy(int), reference(ds)["endpoints"][ep]


def horizons(ds: str) -> list[int]:
    return [int(h) for h in reference(ds)["spec"]["horizons"]]


def na(x):
    """JSON null -> NaN: a float for a scalar, a float array for a list."""
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
