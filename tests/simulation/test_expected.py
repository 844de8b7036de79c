"""Expected ranges of the published numbers and selection frequencies from the replicate
cohorts' values (crlmflow.simulation.expected)."""

import math

import numpy as np
import pandas as pd
import pytest

from crlmflow.simulation.expected import expected_ranges, quantile_mc_interval, selection_frequency


def _values(R=200, seed=3):
    """Long replicate values as run_paper_replicate writes them."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(R):
        sel = rng.random() < 0.3
        rows += [
            (r, "cohort.n_total", 389.0),
            (r, "performance.os.c_index.validation.0", 0.7 + rng.normal(0, 0.03)),
            (r, "table2.os.multivariable.selected.age.hr.0", np.exp(0.02 + rng.normal(0, 0.01)) if sel else np.nan),
            (r, "table3.os.train.12", 90 + rng.normal(0, 2)),
            (r, "selection.os.age", float(sel)),
            (r, "selection.os.rfa", 1.0),
        ]
    return pd.DataFrame(rows, columns=["rep", "key", "value"])


def test_ranges_are_the_central_95_percent_keyed_like_the_comparison():
    v = _values()
    e = expected_ranges(v)
    assert list(e["key"]) == [
        "cohort.n_total",
        "performance.os.c_index.validation.0",
        "table2.os.multivariable.selected.age.hr.0",
        "table3.os.train.12",
    ]  # the order of first appearance; no selection.* key
    e = e.set_index("key")
    assert e.loc["cohort.n_total", "lower"] == e.loc["cohort.n_total", "upper"] == 389
    c = v.loc[v["key"] == "performance.os.c_index.validation.0", "value"]
    assert e.loc["performance.os.c_index.validation.0", "lower"] == pytest.approx(np.quantile(c, 0.025))
    assert e.loc["performance.os.c_index.validation.0", "upper"] == pytest.approx(np.quantile(c, 0.975))
    assert e.loc["performance.os.c_index.validation.0", "n_replicates"] == 200
    age = e.loc["table2.os.multivariable.selected.age.hr.0"]
    n_sel = int(v.loc[v["key"] == "selection.os.age", "value"].sum())
    assert age["n_replicates"] == n_sel  # conditional on selection
    assert age["source"] == "replicates that selected the term"
    assert age["lower_mc_lo"] <= age["lower"] <= age["lower_mc_hi"]
    assert age["upper_mc_lo"] <= age["upper"] <= age["upper_mc_hi"]


def test_selection_frequency_with_its_monte_carlo_se():
    v = _values()
    f = selection_frequency(v).set_index(["endpoint", "variable"])
    p = v.loc[v["key"] == "selection.os.age", "value"].mean()
    assert f.loc[("os", "age"), "selection_freq"] == pytest.approx(p)
    assert f.loc[("os", "age"), "mc_se"] == pytest.approx(math.sqrt(p * (1 - p) / 200))
    assert f.loc[("os", "rfa"), "selection_freq"] == 1.0 and f.loc[("os", "rfa"), "mc_se"] == 0.0
    assert (f["n_replicates"] == 200).all()


def test_a_key_without_any_value_has_no_range():
    v = pd.DataFrame({"rep": [0, 1], "key": ["table2.os.multivariable.selected.bmi.p"] * 2, "value": [np.nan] * 2})
    e = expected_ranges(v).iloc[0]
    assert e["n_replicates"] == 0 and pd.isna(e["lower"]) and pd.isna(e["upper"])


def test_quantile_mc_interval_covers_the_true_quantile():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(300):
        lo, hi = quantile_mc_interval(rng.normal(size=400), 0.025)
        hits += lo <= -1.959964 <= hi
    assert hits / 300 > 0.9
