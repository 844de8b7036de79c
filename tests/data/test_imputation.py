"""Chained-equation imputation with the outcome in the model (crlmflow.data.imputation)."""

import numpy as np
import pandas as pd
import pytest

from crlmflow.data.imputation import impute_chained, imputed_counts, n_imputations, nelson_aalen_at

CANDS = [
    {"name": "x", "type": "numeric"},
    {"name": "b", "type": "binary"},
    {"name": "score", "type": "numeric", "allowed": [0, 1, 2, 3]},
    {"name": "f", "type": "factor", "levels": ["lo", "mid", "hi"], "ref": "lo"},
]


def _cohort(n=300, seed=0, frac=0.25):
    rng = np.random.default_rng(seed)
    event = rng.integers(0, 2, n)
    time = rng.exponential(10, n) + 1
    x = 10.0 * event + rng.normal(0, 1, n)  # x is (almost) the event indicator
    df = pd.DataFrame(
        {
            "time": time,
            "event": event,
            "x": x,
            "b": (rng.random(n) < 0.4).astype(float),
            "score": rng.integers(0, 4, n).astype(float),
            "f": rng.choice(["lo", "mid", "hi"], n).astype(object),
        }
    )
    for c in ("x", "b", "score", "f"):
        df.loc[rng.random(n) < frac, c] = np.nan
    return df


def test_number_of_imputations_rule():
    assert n_imputations(0.0) == 20 and n_imputations(0.15) == 20
    assert n_imputations(0.351) == 36 and n_imputations(0.5) == 50
    with pytest.raises(ValueError):
        n_imputations(1.5)


def test_nelson_aalen_by_hand():
    # times 1, 2, 2, 3, 0.5 (events 1, 1, 0, 1, 0): at risk 4, 3, 1 at the event times 1, 2, 3:
    # H(1) = 1/4, H(2) = 1/4 + 1/3, H(3) = H(2) + 1/1, H(0.5) = 0
    H = nelson_aalen_at([1, 2, 2, 3, 0.5], [1, 1, 0, 1, 0])
    h2 = 0.25 + 1 / 3
    assert H == pytest.approx([0.25, h2, h2, h2 + 1.0, 0.0])


def test_imputation_is_deterministic_given_the_seed_and_differs_between_imputations():
    df = _cohort()
    a = impute_chained(df, CANDS, "time", "event", 3, seed=7, endpoint_index=1)
    b = impute_chained(df, CANDS, "time", "event", 3, seed=7, endpoint_index=1)
    c = impute_chained(df, CANDS, "time", "event", 3, seed=8, endpoint_index=1)
    for u, v in zip(a, b):
        pd.testing.assert_frame_equal(u, v)
    assert not a[0]["x"].equals(a[1]["x"])  # proper imputation: draws differ
    assert not a[0]["x"].equals(c[0]["x"])


def test_no_imputed_value_outside_observed_range_or_levels_and_observed_cells_kept():
    df = _cohort()
    for d in impute_chained(df, CANDS, "time", "event", 4, seed=1):
        assert not d[["x", "b", "score", "f"]].isna().any().any()
        obs = df["x"].notna()
        assert d.loc[obs, "x"].equals(df.loc[obs, "x"])
        assert d["x"].between(df["x"].min(), df["x"].max()).all()
        assert set(d["b"].unique()) <= {0.0, 1.0}
        assert set(d["score"].unique()) <= {0.0, 1.0, 2.0, 3.0}
        assert set(d["f"].unique()) <= {"lo", "mid", "hi"}
        assert d.loc[df["f"].notna(), "f"].equals(df.loc[df["f"].notna(), "f"])


def test_outcome_is_in_the_imputation_model():
    # x equals 10 x event (+ noise): only a model with the event indicator imputes
    # x near 10 for patients with an event and near 0 for the others
    df = _cohort(n=400, frac=0.3)
    miss = df["x"].isna()
    for d in impute_chained(df, CANDS, "time", "event", 2, seed=3):
        imp = d.loc[miss]
        assert imp.loc[imp["event"] == 1, "x"].mean() > 8
        assert imp.loc[imp["event"] == 0, "x"].mean() < 2


def test_complete_data_and_missing_outcome():
    df = _cohort(frac=0.0)
    out = impute_chained(df, CANDS, "time", "event", 2, seed=1)
    assert len(out) == 2 and out[0].equals(df)
    bad = _cohort()
    bad.loc[0, "time"] = np.nan
    with pytest.raises(ValueError, match="outcome must be complete"):
        impute_chained(bad, CANDS, "time", "event", 2, seed=1)


def test_imputed_counts_per_column():
    df = _cohort()
    tab = imputed_counts(df, CANDS).set_index("column")
    assert tab.loc["x", "imputed"] == df["x"].isna().sum()
    assert (
        tab.loc["(patients with any imputed value)", "imputed"] == df[["x", "b", "score", "f"]].isna().any(axis=1).sum()
    )
