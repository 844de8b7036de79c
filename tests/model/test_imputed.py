"""The paper's procedure across multiply imputed datasets (crlmflow.model.imputed)."""

import numpy as np
import pandas as pd
import pytest

from crlmflow.model.imputed import BOOTSTRAP_ORDER, BOOTSTRAP_ORDERS, fit_with_multiple_imputation

CANDS = [
    {"name": "x1", "type": "numeric"},
    {"name": "x2", "type": "numeric"},
    {"name": "noise", "type": "numeric"},
    {"name": "b", "type": "binary"},
]


def _cohort(n=200, seed=5):
    rng = np.random.default_rng(seed)
    x1, x2, noise = rng.normal(size=(3, n))
    b = (rng.random(n) < 0.5).astype(float)
    t = rng.exponential(np.exp(-(0.9 * x1 + 0.6 * x2 + 0.7 * b)))
    c = rng.exponential(2.0, n)
    df = pd.DataFrame(
        {"time": np.minimum(t, c), "event": (t <= c).astype(int), "x1": x1, "x2": x2, "noise": noise, "b": b}
    )
    # MAR: x2 and b missing more often when x1 is high
    p = 1 / (1 + np.exp(-(x1 - 1)))
    df.loc[rng.random(n) < p, "x2"] = np.nan
    df.loc[rng.random(n) < 0.15, "b"] = np.nan
    return df


@pytest.fixture(scope="module")
def fitted():
    return fit_with_multiple_imputation(_cohort(), CANDS, "time", "event", seed=11, m=4, bootstrap_B=2)


def test_majority_rule_pooled_coefficients_and_performance(fitted):
    res = fitted
    assert res.m == 4
    sel = res.selection.set_index("variable")
    assert res.terms == [v for v in sel.index if sel.loc[v, "proportion"] >= 0.5]
    assert {"x1", "x2", "b"} <= set(res.terms)
    assert list(res.pooled.index) == res.terms  # numeric/binary: one column per term
    assert res.pooled.loc["x1", "estimate"] == pytest.approx(0.9, abs=0.35)
    assert (res.pooled["hr"] == np.exp(res.pooled["estimate"])).all()
    perf = res.performance.iloc[0]
    assert 0.5 < perf["apparent"] < 1 and perf["imputations"] == 4
    assert perf["corrected"] == pytest.approx(perf["apparent"] - perf["optimism"])
    assert perf["bootstrap_order"] == BOOTSTRAP_ORDER
    assert res.per_imputation["c_index_pooled_model"].mean() == pytest.approx(perf["apparent"])
    slope = res.performance.set_index("measure").loc["slope"]
    assert slope["apparent"] == pytest.approx(1.0, abs=0.1)  # pooled β: close to each dataset's MLE
    assert slope["corrected"] == pytest.approx(slope["apparent"] - slope["optimism"])
    assert res.imputed.set_index("column").loc["x2", "imputed"] == _cohort()["x2"].isna().sum()


def test_pooled_variance_includes_the_between_imputation_part(fitted):
    pooled = fitted.pooled
    assert pooled.loc["x2", "b"] > 0  # x2 is incomplete: its estimates differ between imputations
    assert (pooled["t"] >= pooled["ubar"]).all()
    assert pooled["t"].to_numpy() == pytest.approx((pooled["ubar"] + (1 + 1 / 4) * pooled["b"]).to_numpy())


def test_predictions_and_determinism(fitted):
    df = _cohort().dropna()
    S = fitted.survival(df, [0.5, 1.0])
    assert S.shape == (len(df), 2) and ((S > 0) & (S <= 1)).all() and (S[:, 1] <= S[:, 0]).all()
    assert fitted.risk(df, 1.0) == pytest.approx(1 - S[:, 1])
    terms = fitted.terms_table().set_index("term")
    assert list(terms.index) == ["x1", "x2", "noise", "b"]
    assert terms.loc["x1", "selected"] and terms.loc["x1", "coef"] == fitted.pooled.loc["x1", "estimate"]
    assert terms.loc[~terms["selected"], "coef"].isna().all()
    again = fit_with_multiple_imputation(_cohort(), CANDS, "time", "event", seed=11, m=4, bootstrap_B=2)
    pd.testing.assert_frame_equal(again.pooled, fitted.pooled)
    pd.testing.assert_frame_equal(again.performance, fitted.performance)


def test_default_number_of_imputations_and_no_optimism_without_bootstrap():
    df = _cohort(n=120)
    res = fit_with_multiple_imputation(df, CANDS, "time", "event", seed=1, m=None, bootstrap_B=0)
    frac = df[["x1", "x2", "noise", "b"]].isna().any(axis=1).mean()
    assert res.m == max(20, int(np.ceil(100 * frac)))
    assert np.isnan(res.performance["optimism"].iloc[0])
    assert res.performance["bootstrap_order"].iloc[0].startswith("not computed")


def test_bootstrap_then_impute_repeats_imputation_in_each_bootstrap_sample():
    df = _cohort(n=120, seed=8)
    res = fit_with_multiple_imputation(
        df, CANDS, "time", "event", seed=2, m=2, bootstrap_B=2, bootstrap_order="bootstrap_then_impute"
    )
    perf = res.performance.set_index("measure")
    assert perf.loc["c_index", "bootstrap_order"] == BOOTSTRAP_ORDERS["bootstrap_then_impute"]
    assert np.isfinite(perf.loc["c_index", "optimism"])
    assert perf.loc["c_index", "corrected"] == pytest.approx(
        perf.loc["c_index", "apparent"] - perf.loc["c_index", "optimism"]
    )
    assert res.per_imputation["optimism_c_index"].isna().all()  # no per-imputation optimism in this order
    with pytest.raises(ValueError, match="bootstrap_order"):
        fit_with_multiple_imputation(df, CANDS, "time", "event", seed=2, m=2, bootstrap_order="sideways")
