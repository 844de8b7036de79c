"""evaluate_set gathers the R-verified measures correctly (R reference: crlm_a.json, colon.json)."""

import numpy as np
import pandas as pd
import pytest
from rref import load_case

from crlmflow.pipeline.streams import stream
from crlmflow.validation.performance import calibrate_bias_corrected, evaluate_set

HORIZONS = [12, 36, 60]


def _case(name, ep):
    ref, rows = load_case(name)
    return ref["endpoints"][ep], rows


@pytest.mark.parametrize("name,ep", [("crlm_a", "os"), ("colon", "rfs")])
def test_evaluate_set_matches_r(name, ep):
    ref, rows = _case(name, ep)
    pr = ref["per_row"]
    surv = {str(h): np.asarray(pr[f"surv_{h}"]) for h in HORIZONS}
    res = evaluate_set(
        rows[ref["time"]], rows[ref["event"]], pr["lp"], surv, HORIZONS, B=50, rng=stream(1, "c_index_bootstrap", 0, 0)
    )
    perf = res["performance"].set_index(["measure", "horizon"])
    assert perf.loc[("c_index", np.nan), "estimate"] == pytest.approx(ref["concordance"]["c_index"], abs=1e-6)
    assert perf.loc[("c_index", np.nan), "se"] == pytest.approx(ref["concordance"]["std_err"], abs=1e-6)
    for entry in ref["survivalROC_KM"]["by_horizon"]:
        h = float(entry["predict_time"])
        assert perf.loc[("auc_km", h), "estimate"] == pytest.approx(entry["auc"], abs=1e-6)
    auc = ref["score"]["auc"]
    for model, h, a, se in zip(auc["model"], auc["horizon"], auc["auc"], auc["se"]):
        if model == "cox":
            assert perf.loc[("auc_uno", float(h)), "estimate"] == pytest.approx(a, abs=1e-6)
            assert perf.loc[("auc_uno", float(h)), "se"] == pytest.approx(se, abs=1e-6)
    # bootstrap CI brackets the estimate; the slope of the model's own lp is 1 (apparent)
    lo, hi = perf.loc[("c_index_bootstrap", np.nan), ["lower", "upper"]]
    assert lo < perf.loc[("c_index", np.nan), "estimate"] < hi
    assert perf.loc[("calibration_slope", np.nan), "estimate"] == pytest.approx(1.0, abs=1e-6)
    assert set(res["dca"]["horizon"]) == set(HORIZONS)
    first = res["roc"].groupby("horizon").head(1)
    assert (first["fpr"] == 1).all() and (first["tpr"] == 1).all()  # survivalROC starts at (1, 1)


def test_bias_corrected_calibration_is_deterministic_and_bounded():
    ref, rows = _case("crlm_a", "os")
    terms = ref["final"]["terms"]
    X = rows[terms].to_numpy(float)
    args = (rows["os_months"], rows["os_event"], X, [36])
    a = calibrate_bias_corrected(*args, B=20, seed=3, endpoint_index=0)
    b = calibrate_bias_corrected(*args, B=20, seed=3, endpoint_index=0)
    pd.testing.assert_frame_equal(a, b)
    # the optimism bootstrap's stream, keyed by endpoint: another endpoint draws other resamples
    other = calibrate_bias_corrected(*args, B=20, seed=3, endpoint_index=1)
    assert not np.allclose(other["optimism"], a["optimism"])
    pd.testing.assert_series_equal(other["km"], a["km"])
    assert a["km_corrected"].between(0, 1).all() and (a["n_bootstrap"] == 20).all()
    # the apparent columns are rms::calibrate's index.orig (R fixture, 4 groups of the 36-month table)
    r = next(c for c in ref["calibration"] if c["horizon"] == 36)["groups_recomputed"]
    np.testing.assert_allclose(a["mean_predicted"], r["mean_predicted"], atol=1e-6)
    np.testing.assert_allclose(a["km"], r["km"], atol=1e-6)


def test_smooth_calibration_of_a_two_valued_prediction_is_not_estimable_not_an_error():
    """A final model of one binary term predicts two values: no spline fits, the run goes on."""
    rng = np.random.default_rng(5)
    n = 200
    x = rng.integers(0, 2, n).astype(float)
    t = rng.exponential(30 / np.exp(0.7 * x))
    e = (rng.random(n) < 0.7).astype(float)
    lp = 0.7 * (x - x.mean())
    surv = {str(h): np.exp(-h / 30 * np.exp(lp)) for h in HORIZONS}
    res = evaluate_set(t, e, lp, surv, HORIZONS, B=20, rng=stream(1, "c_index_bootstrap", 0, 0))
    ici = res["performance"].query("measure == 'ici'")
    assert len(ici) == len(HORIZONS) and ici["estimate"].isna().all()
    assert ici["method"].str.startswith("not estimable").all()


def test_sparse_horizons_are_not_estimable_and_counts_are_by_horizon():
    """Cases/controls at every horizon; events by t (not all events) per calibration group;
    a horizon under the configured minimum gives counts but no estimate."""
    ref, rows = _case("crlm_a", "os")
    pr = ref["per_row"]
    t, e = rows[ref["time"]].to_numpy(float), rows[ref["event"]].to_numpy(float)
    surv = {str(h): np.asarray(pr[f"surv_{h}"]) for h in HORIZONS}
    cases = {h: int(((t <= h) & (e == 1)).sum()) for h in HORIZONS}
    at_risk = {h: int((t > h).sum()) for h in HORIZONS}
    # the minimum sits between the 12-month and the 36-month number of events
    min_events = cases[12] + 1
    assert cases[36] >= min_events
    res = evaluate_set(
        t, e, pr["lp"], surv, HORIZONS, B=0, rng=stream(1, "c_index_bootstrap", 0, 0), min_events=min_events
    )
    perf = res["performance"]
    timed = perf[perf["horizon"].notna()]
    for h in HORIZONS:
        at = timed[timed["horizon"] == h]
        assert (at["cases"] == cases[h]).all() and (at["controls"] == at_risk[h]).all()
        assert at["estimable"].all() == (h != 12)
    early = timed[timed["horizon"] == 12]
    assert early["estimate"].isna().all() and early["lower"].isna().all()
    assert early["method"].str.contains("not estimable").all()
    assert perf.loc[perf["horizon"].isna(), "estimable"].all()  # C and slope need no horizon
    cal = res["calibration"]
    for h in HORIZONS:
        at = cal[cal["horizon"] == h]
        assert at["events_by_horizon"].sum() == cases[h]
        assert at["at_risk"].sum() == at_risk[h]
        assert at["events_all_followup"].sum() == int(e.sum())
        assert at["estimable"].all() == (h != 12)
    for name in ("roc", "dca"):
        assert set(res[name].groupby("horizon")["estimable"].first().items()) == {(12, False), (36, True), (60, True)}


def test_development_slope_has_no_ci_and_validation_slope_does():
    ref, rows = _case("crlm_a", "os")
    pr = ref["per_row"]
    surv = {str(h): np.asarray(pr[f"surv_{h}"]) for h in HORIZONS}
    args = (rows[ref["time"]], rows[ref["event"]], pr["lp"], surv, HORIZONS)
    rng = stream(1, "c_index_bootstrap", 0, 0)
    dev = evaluate_set(*args, B=0, rng=rng, development=True)["performance"].set_index("measure")
    val = evaluate_set(*args, B=0, rng=rng, development=False)["performance"].set_index("measure")
    assert dev.loc["calibration_slope", "estimate"] == pytest.approx(1.0, abs=1e-6)
    assert np.isnan(dev.loc["calibration_slope", "lower"]) and np.isnan(dev.loc["calibration_slope", "upper"])
    assert val.loc["calibration_slope", "lower"] < 1 < val.loc["calibration_slope", "upper"]
    oe = dev.loc["observed_expected"]
    assert len(oe) == len(HORIZONS) and (oe["lower"] < oe["estimate"]).all() and (oe["estimate"] < oe["upper"]).all()


def test_a_model_without_predictors_is_validated_with_its_slope_not_estimable():
    """A LASSO that keeps no predictor (or a stepwise run selecting none) has a constant lp:
    C is 0.5 and the calibration slope is reported not estimable, not a failed job."""
    rng = np.random.default_rng(1)
    t = rng.exponential(30, 150)
    e = (rng.random(150) < 0.7).astype(float)
    surv = {"12": np.full(150, 0.7)}
    perf = evaluate_set(t, e, np.zeros(150), surv, [12], B=0, rng=None)["performance"].set_index("measure")
    assert perf.loc["c_index", "estimate"] == pytest.approx(0.5)
    assert np.isnan(perf.loc["calibration_slope", "estimate"])
    assert perf.loc["calibration_slope", "method"].startswith("not estimable: the linear predictor is constant")
