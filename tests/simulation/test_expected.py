"""Expected ranges of the published numbers from simulation-study replicates."""

import numpy as np
import pandas as pd
import pytest

from crlmflow.simulation.expected import expected_ranges, quantile_mc_interval


def _replicates(R=200, seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(R):
        for ep, ev in (("os", 140), ("rfs", 280)):
            n_tr = 272 + int(rng.integers(-2, 3))
            c_split = 0.7 + rng.normal(0, 0.03)
            for var, sel in (("rfa", 1), ("age", int(rng.random() < 0.3))):
                hr = np.exp(0.8 + rng.normal(0, 0.2)) if sel else np.nan
                rows.append(
                    dict(
                        rep=r,
                        endpoint=ep,
                        term=var,
                        variable=var,
                        selected=sel,
                        hr=hr,
                        hr_lower=hr / 1.5,
                        hr_upper=hr * 1.5,
                        p=0.01 if sel else np.nan,
                        n_train=n_tr,
                        n_validation=389 - n_tr,
                        events_train=ev * 0.7,
                        events_validation=ev * 0.3,
                        c_apparent=c_split + 0.03,
                        c_split=c_split,
                    )
                )
    return pd.DataFrame(rows)


def test_ranges_are_the_central_95_percent_keyed_like_the_comparison():
    reps = _replicates()
    e = expected_ranges(reps).set_index("key")
    assert e.loc["cohort.n_total", "lower"] == e.loc["cohort.n_total", "upper"] == 389
    assert e.loc["cohort.deaths", "lower"] == pytest.approx(140)
    c = reps.drop_duplicates(["rep", "endpoint"]).query("endpoint == 'os'")["c_split"]
    assert e.loc["performance.os.c_index.validation.0", "lower"] == pytest.approx(np.quantile(c, 0.025))
    assert e.loc["performance.os.c_index.validation.0", "n_replicates"] == 200
    age = e.loc["table2.os.multivariable.selected.age.hr.0"]
    assert 30 < age["n_replicates"] < 90  # conditional on selection
    assert age["lower_mc_lo"] <= age["lower"] <= age["lower_mc_hi"]
    assert e.loc["table2.rfs.multivariable.selected.rfa.hr.0", "n_replicates"] == 200


def test_quantile_mc_interval_covers_the_true_quantile():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(300):
        lo, hi = quantile_mc_interval(rng.normal(size=400), 0.025)
        hits += lo <= -1.959964 <= hi
    assert hits / 300 > 0.9
