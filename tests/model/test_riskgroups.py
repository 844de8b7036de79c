"""Risk groups: training results labelled descriptive, the cut-off's bootstrap interval,
the permutation p at its floor printed as an inequality."""

import numpy as np
import pandas as pd
import pytest

from crlmflow.model.riskgroups import cutoff_bootstrap_interval, risk_groups


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(11)
    n = 300
    score = rng.normal(100, 20, n)
    time = rng.exponential(40 * np.exp(-(score - 100) / 15))
    cens = rng.uniform(10, 80, n)
    return pd.DataFrame(
        {
            "patient_id": [f"p{i}" for i in range(n)],
            "set": np.where(rng.random(n) < 0.7, "train", "validation"),
            "total_points": np.round(score, 1),
            "t": np.minimum(time, cens),
            "e": (time <= cens).astype(float),
        }
    )


def test_training_is_descriptive_and_validation_inferential(cohort):
    summary, _, _ = risk_groups(cohort, "t", "e", n_perm=50, seed=3, bootstrap_B=30)
    assert summary["by_set"]["train"]["inference"] == "descriptive"
    assert summary["by_set"]["validation"]["inference"] == "inferential"
    assert "no p-value there is honest" in summary["note"]
    assert "correct for the search" not in summary["note"]
    iv = summary["total_points_interval"]
    assert iv["lower"] <= iv["upper"] and iv["B"] == 30
    # a strong score: every permutation falls below the observed statistic -> p at its floor
    assert summary["p_permutation"] == pytest.approx(1 / 51)
    assert summary["p_permutation_text"] == "< 0.02"


def test_cutoff_interval_is_reproducible_and_brackets_the_search_range(cohort):
    train = cohort[cohort["set"] == "train"]
    args = (train["total_points"], train["t"], train["e"])
    a = cutoff_bootstrap_interval(*args, minprop=0.1, B=40, seed=5)
    b = cutoff_bootstrap_interval(*args, minprop=0.1, B=40, seed=5)
    assert a == b
    assert train["total_points"].min() <= a["lower"] < a["upper"] <= train["total_points"].max()
