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
    a = calibrate_bias_corrected(*args, B=20, seed=3, endpoint_index=0, set_index=0)
    b = calibrate_bias_corrected(*args, B=20, seed=3, endpoint_index=0, set_index=0)
    pd.testing.assert_frame_equal(a, b)
    # its own named stream, keyed by set: another set index draws other resamples
    other = calibrate_bias_corrected(*args, B=20, seed=3, endpoint_index=0, set_index=1)
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
