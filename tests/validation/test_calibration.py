"""Grouped KM calibration vs rms::calibrate(cmethod = "KM") apparent table (R fixture);
smooth calibration (ICI/E50/E90) and calibration slope on simulated data with known answers
(no R fixture exists for these)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rref import CASES, TOL, endpoint

from crlmflow.validation.calibration import (
    calibration_km_grouped,
    calibration_slope,
    cut2_codes,
    prediction_histogram,
    quantile_type7,
    rcs_basis,
    smooth_calibration,
)


@pytest.mark.parametrize("ds,ep", CASES)
@pytest.mark.parametrize("use_r_groups", [False, True])
def test_grouped_km_matches_rms_calibrate(ds, ep, use_r_groups):
    time, event, e = endpoint(ds, ep)
    assert len(e["calibration"]) == 3
    for c in e["calibration"]:
        h = c["horizon"]
        pred = np.asarray(c["predicted_of_row"])
        # the rms predictions are the per-row survival predictions
        np.testing.assert_allclose(pred, e["per_row"][f"surv_{h}"], atol=1e-12)
        if use_r_groups:  # README: colon has rows exactly on a cut -> R's own grouping
            res = calibration_km_grouped(time, event, pred, h, groups=c["group_of_row"])
        else:
            res = calibration_km_grouped(time, event, pred, h, m=c["m"])
            np.testing.assert_array_equal(res.cuts, c["cuts"])  # R's quantile arithmetic, bit for bit
            np.testing.assert_array_equal(res.group_of_row, c["group_of_row"])
        got = res.table
        grp = pd.DataFrame(c["groups_recomputed"])
        tab = pd.DataFrame(c["table"])
        np.testing.assert_array_equal(got["group"], grp["group"])
        np.testing.assert_array_equal(got["n"], grp["n"])
        np.testing.assert_array_equal(got["events"], grp["events"])
        np.testing.assert_array_equal(got["beyond_last_time"], grp["beyond_last_time"])
        np.testing.assert_allclose(got["mean_predicted"], grp["mean_predicted"], atol=TOL)
        np.testing.assert_allclose(got["km"], grp["km"], atol=TOL)
        np.testing.assert_allclose(got["mean_predicted"], tab["mean.predicted"], atol=TOL)
        np.testing.assert_allclose(got["km"], tab["KM"], atol=TOL)
        np.testing.assert_allclose(got["index_orig"], tab["index.orig"], atol=TOL)
        np.testing.assert_allclose(got["km_std_err"], tab["std.err"], rtol=TOL)


def test_quantile_type7_and_cut2_conventions():
    x = np.array([0.0, 1.0, 0.3, 0.5, 0.5, 0.9])
    # R: quantile(c(0,1,.3,.5,.5,.9), c(0,.25,.5,.75,1)) = 0 .35 .5 .8 1
    np.testing.assert_allclose(quantile_type7(x, [0, 0.25, 0.5, 0.75, 1]), [0, 0.35, 0.5, 0.8, 1])
    # [a, b) intervals, the last one closed
    np.testing.assert_array_equal(cut2_codes([0.0, 0.35, 0.4, 0.5, 0.99, 1.0], [0, 0.35, 0.5, 1]), [1, 2, 2, 3, 3, 3])


def test_rcs_basis_is_linear_beyond_the_outer_knots():
    knots = np.array([0.0, 1.0, 3.0])
    x = np.array([3.0, 4.0, 5.0, 6.0])
    nl = rcs_basis(x, knots)[:, 1]
    np.testing.assert_allclose(np.diff(nl, 2), 0.0, atol=1e-12)  # linear tail
    assert np.all(rcs_basis(np.array([-2.0, 0.0]), knots)[:, 1] == 0.0)


def _simulate(n, seed, lam0=0.02, censor_max=120.0):
    rng = np.random.default_rng(seed)
    lp = rng.normal(0.0, 0.8, n)
    t_ev = rng.exponential(1.0 / (lam0 * np.exp(lp)))
    cens = rng.uniform(0.0, censor_max, n)
    return np.minimum(t_ev, cens), (t_ev <= cens).astype(int), lp, lam0


def test_smooth_calibration_near_zero_when_calibrated_and_large_when_not():
    time, event, lp, lam0 = _simulate(4000, 7)
    true_surv = np.exp(-lam0 * 36 * np.exp(lp))
    good = smooth_calibration(time, event, true_surv, 36)
    assert good.ici < 0.015 and good.e50 < 0.015 and good.e90 < 0.03
    assert good.e50 <= good.e90 <= good.emax
    bad = smooth_calibration(time, event, true_surv**2, 36)  # risk systematically overstated
    assert bad.ici > 0.1
    # observed risk from the spline model tracks the true risk
    assert np.mean(np.abs(good.observed_risk - (1 - true_surv))) < 0.015


def test_calibration_slope_one_when_calibrated_half_when_lp_doubled():
    time, event, lp, _ = _simulate(20000, 8)
    s1 = calibration_slope(time, event, lp)
    assert abs(s1.slope - 1.0) < 4 * s1.se and s1.se < 0.02  # |slope - 1| < 0.08
    assert s1.lower < s1.slope < s1.upper
    s2 = calibration_slope(time, event, 2 * lp)
    assert s2.slope == pytest.approx(s1.slope / 2, rel=1e-6)  # exact scale equivariance
    assert s2.se == pytest.approx(s1.se / 2, rel=1e-5)
    assert abs(s2.slope - 0.5) < 0.04


@pytest.mark.parametrize("ds,ep", CASES)
def test_calibration_cox_fit_reproduces_r(ds, ep):
    """The Cox fitter behind smooth_calibration / calibration_slope (survival.cox), checked
    against R: univariable coxph (Efron) of age, and survfit.coxph survival of the final model's lp."""
    from rref import rows

    from crlmflow.survival.cox import CoxData, baseline_hazard, baseline_survival_at, coxph

    time, event, e = endpoint(ds, ep)
    uni = e["univariable"]["age"]
    fit = coxph(time, event, rows(ds)["age"].to_numpy(float))
    assert fit.coef[0] == pytest.approx(uni["coefficients"]["coef"][0], rel=TOL)
    assert fit.se[0] == pytest.approx(uni["coefficients"]["se"][0], rel=TOL)
    assert fit.loglik == pytest.approx(uni["loglik"], rel=1e-9)
    lp = np.asarray(e["per_row"]["lp"])
    data = CoxData(time, event, lp)
    fit = data.fit()
    assert fit.coef[0] == pytest.approx(1.0, abs=1e-6)  # apparent calibration slope of the lp
    assert calibration_slope(time, event, lp).slope == pytest.approx(1.0, abs=1e-6)
    surv = baseline_survival_at(baseline_hazard(data, fit), [12, 36, 60], lp=lp * fit.coef[0])
    for j, h in enumerate((12, 36, 60)):
        np.testing.assert_allclose(surv[:, j], e["per_row"][f"surv_{h}"], atol=TOL)


def test_smooth_calibration_of_predictions_at_0_or_1_is_not_estimable():
    """An overfitted model can drive predicted survival to exactly 0: the measure is then
    reported not estimable (a ValueError subclass), not a failed validation job."""
    from crlmflow.validation.calibration import NotEstimableError, smooth_calibration

    rng = np.random.default_rng(2)
    t = rng.exponential(10, 60)
    e = (rng.random(60) < 0.7).astype(float)
    s = rng.uniform(0.2, 0.9, 60)
    s[3] = 0.0
    with pytest.raises(NotEstimableError, match="exactly 0 or 1"):
        smooth_calibration(t, e, s, 5.0)


def test_prediction_histogram_counts_every_prediction_in_fixed_bins():
    x = np.array([0.0, 0.004, 0.0051, 0.5, 0.5, 0.999, 1.0, np.nan])
    h = prediction_histogram(x, width=0.005)
    # the bins are a fixed grid: [0, .005) holds 0 and .004; the last bin is closed at 1
    assert h["n"].sum() == 7
    assert h["n"].tolist() == [2, 1, 2, 2]
    np.testing.assert_allclose(h["bin_lower"], [0.0, 0.005, 0.5, 0.995])
    np.testing.assert_allclose(h["bin_upper"] - h["bin_lower"], 0.005)
    # the same counts as numpy's histogram on the same grid
    counts, _ = np.histogram(x[np.isfinite(x)], bins=200, range=(0, 1))
    assert counts[counts > 0].tolist() == h["n"].tolist()


def test_prediction_histogram_rejects_values_outside_unit_interval():
    with pytest.raises(ValueError, match="must lie in"):
        prediction_histogram([0.2, 1.3])
    with pytest.raises(ValueError, match="whole bins"):
        prediction_histogram([0.2], width=0.3)


def test_smooth_calibration_on_shared_risk_sets_and_slope_start_change_nothing():
    """Issue 20: a CoxData of (time, event) shared by the calibration models of several
    predictions gives the very same result as a fresh sort; the calibration slope started at 1
    reaches the same maximum as from 0."""
    from crlmflow.survival.cox import CoxData

    time, event, lp, lam0 = _simulate(3000, 9)
    shared = CoxData(time, event, np.zeros((time.size, 0)))
    for h, power in ((24, 1.0), (36, 1.5)):
        surv = np.exp(-lam0 * h * np.exp(lp)) ** power
        a = smooth_calibration(time, event, surv, h)
        b = smooth_calibration(time, event, surv, h, risk_data=shared)
        assert (a.ici, a.e50, a.e90, a.emax) == (b.ici, b.e50, b.e90, b.emax)
        np.testing.assert_array_equal(a.observed_risk, b.observed_risk)
    s0, s1 = calibration_slope(time, event, 1.3 * lp), calibration_slope(time, event, 1.3 * lp, start=1.0)
    assert s1.slope == pytest.approx(s0.slope, abs=1e-9) and s1.se == pytest.approx(s0.se, rel=1e-7)


def test_smooth_calibration_started_at_the_identity_reaches_the_maximum_from_zero():
    """Issue 20: the calibration model's Newton–Raphson starts at coefficient 1 on cloglog
    predicted risk; the concave partial likelihood has one maximum, the one a start at 0
    reaches (checked on a calibrated and a miscalibrated prediction)."""
    from crlmflow.survival.cox import CoxData
    from crlmflow.validation.calibration import _RCS_QUANTILES, quantile_type7, rcs_basis

    time, event, lp, lam0 = _simulate(3000, 11)
    for h, power in ((24, 1.0), (36, 1.8)):
        surv = np.exp(-lam0 * h * np.exp(lp)) ** power
        cll = np.log(-np.log(surv))
        basis = rcs_basis(cll, quantile_type7(cll, _RCS_QUANTILES[3]))
        from_zero = CoxData(time, event, basis).fit(on_separation="ignore")
        data = CoxData(time, event, basis)
        from_one = data.fit(init=[1.0, 0.0], on_separation="ignore")
        np.testing.assert_allclose(from_one.coef, from_zero.coef, rtol=1e-9, atol=1e-10)
        assert from_one.loglik == pytest.approx(from_zero.loglik, rel=1e-13)
        assert from_one.iterations < from_zero.iterations


def test_horizons_of_one_proportional_hazards_model_share_one_calibration_model():
    """Issue 20: S(t) = S0(t)^exp(lp) at every horizon gives cloglogs that differ by a
    constant, so the calibration model fitted at one horizon is the model at every other
    (only its baseline hazard is read at each t): the same results as fitting each anew.
    Predictions that are not of that form are fitted anew."""
    from crlmflow.validation.calibration import smooth_calibration_curve

    time, event, lp, lam0 = _simulate(3000, 13)
    first = smooth_calibration(time, event, np.exp(-lam0 * 12 * np.exp(1.2 * lp)), 12)
    for h in (36, 60):
        surv = np.exp(-lam0 * h * np.exp(1.2 * lp))
        fresh = smooth_calibration(time, event, surv, h)
        shared = smooth_calibration(time, event, surv, h, same_model_as=first)
        assert shared.model.fit is first.model.fit  # not refitted
        np.testing.assert_allclose(shared.observed_risk, fresh.observed_risk, rtol=1e-9, atol=1e-12)
        for name in ("ici", "e50", "e90", "emax"):
            assert getattr(shared, name) == pytest.approx(getattr(fresh, name), rel=1e-9, abs=1e-12)
        grid = np.linspace(0.1, 0.8, 7)
        curve, model = smooth_calibration_curve(time, event, surv, h, grid, same_model_as=first.model)
        assert model.fit is first.model.fit
        np.testing.assert_allclose(curve, smooth_calibration_curve(time, event, surv, h, grid)[0], rtol=1e-9)
    # not proportional hazards (a different spread at 60 months): refitted, as without a prior
    other = np.exp(-lam0 * 60 * np.exp(0.5 * lp))
    again = smooth_calibration(time, event, other, 60, same_model_as=first)
    assert again.model.fit is not first.model.fit
    assert again.ici == smooth_calibration(time, event, other, 60).ici


def test_grouped_index_on_a_sorted_sample_is_the_tables_index():
    """Issue 20: the bootstraps' KM − mean predicted per original group, read off one sort
    of the sample, is the ``index_orig`` of ``calibration_km_grouped`` on those rows (tiny
    predictions zeroed, a group absent from the sample NaN)."""
    from crlmflow.validation._km import TimeSortedSample
    from crlmflow.validation.calibration import calibration_km_grouped, cut2_codes, grouped_index

    time, event, lp, lam0 = _simulate(2000, 17)
    time = np.round(time)  # tied times
    surv = np.exp(-lam0 * 36 * np.exp(lp))
    cal = calibration_km_grouped(time, event, surv, 36, g=5)
    groups = cal.table["group"].to_numpy()
    rng = np.random.default_rng(1)
    idx = np.sort(rng.integers(0, time.size, time.size))
    for t, e, s in ((time, event, surv), (time[idx], event[idx], surv[idx] ** 1.3)):
        got = grouped_index(t, e, s, 36, cal.cuts, groups, TimeSortedSample(t, e))
        ref = calibration_km_grouped(t, e, s, 36, groups=cut2_codes(s, cal.cuts)).table.set_index("group")
        np.testing.assert_allclose(got, ref.loc[groups, "index_orig"].to_numpy(float), rtol=0, atol=1e-14)
        np.testing.assert_array_equal(got, grouped_index(t, e, s, 36, cal.cuts, groups))
    low = surv > np.quantile(surv, 0.5)  # the sample holds only the upper half: low groups absent
    got = grouped_index(time[low], event[low], surv[low], 36, cal.cuts, groups)
    assert np.isnan(got[0]) and np.isfinite(got[-1])
