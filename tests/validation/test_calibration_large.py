"""O/E and Crowson's calibration intercept/slope against R (glm on survival's
predict(type = "expected")); fixture tests/fixtures/r_reference/honest/calibration_large.json
from calibration_large.R beside it."""

import json
from pathlib import Path

import numpy as np
import pytest
from rref import load_case

from crlmflow.survival.cox import CoxData, baseline_hazard, baseline_survival_at, cumhaz_at
from crlmflow.validation.calibration_large import observed_expected, poisson_calibration

FIXTURE = Path(__file__).parents[1] / "fixtures" / "r_reference" / "honest" / "calibration_large.json"


@pytest.fixture(scope="module")
def r_ref():
    return json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("ep", ["os", "rfs"])
def test_calibration_in_the_large_matches_r(r_ref, ep):
    ref, rows = load_case("crlm_a")
    spec = ref["endpoints"][ep]
    rr = r_ref["endpoints"][ep]
    t, e = rows[spec["time"]].to_numpy(float), rows[spec["event"]].to_numpy(float)
    X = rows[rr["terms"]].to_numpy(float)
    data = CoxData(t, e, X)
    fit = data.fit()
    bh = baseline_hazard(data, fit)
    raw = X @ fit.coef
    lp = raw - fit.means @ fit.coef
    # survival >= 3 leaves 0/1 columns uncentred in predict(type = "lp"): equal up to a shift
    np.testing.assert_allclose(lp - lp.mean(), np.subtract(rr["lp"], np.mean(rr["lp"])), atol=1e-6)
    for key, want in rr["by_horizon"].items():
        h = float(key)
        expected = cumhaz_at(bh, np.minimum(t, h)) * np.exp(raw)
        np.testing.assert_allclose(expected, want["expected_rows"], rtol=1e-6, atol=1e-10)
        pc = poisson_calibration(t, e, expected, lp, h)
        assert pc.intercept == pytest.approx(want["intercept"], abs=1e-6)
        assert pc.intercept_se == pytest.approx(want["intercept_se"], rel=1e-6)
        assert pc.slope == pytest.approx(want["slope"], abs=1e-6)
        assert pc.slope_se == pytest.approx(want["slope_se"], rel=1e-6)
        s = baseline_survival_at(bh, [h], lp=raw)[:, 0]
        oe = observed_expected(t, e, s, h)
        assert oe.observed == pytest.approx(want["observed"], abs=1e-6)
        assert oe.expected == pytest.approx(want["expected"], abs=1e-6)
        assert oe.ratio == pytest.approx(want["oe"], rel=1e-6)
        assert oe.lower < oe.ratio < oe.upper


def test_intercept_is_log_observed_over_expected_events():
    """exp(intercept) is the ratio of observed to expected events by t (Crowson 2016, sec. 3)."""
    rng = np.random.default_rng(3)
    t = rng.exponential(10, 200)
    e = (rng.random(200) < 0.7).astype(float)
    expected = np.minimum(t, 5.0) * 0.08 * np.exp(rng.normal(0, 0.3, 200))
    lp = rng.normal(size=200)
    pc = poisson_calibration(t, e, expected, lp, 5.0)
    d = ((t <= 5) & (e == 1)).sum()
    assert pc.intercept == pytest.approx(np.log(d / expected.sum()), abs=1e-10)
    assert pc.intercept_se == pytest.approx(1 / np.sqrt(d), rel=1e-8)


def test_no_events_by_horizon_is_a_clear_error():
    with pytest.raises(ValueError, match="no events by t"):
        poisson_calibration([10.0, 20.0], [1, 1], [0.1, 0.2], [0.0, 1.0], 5.0)


def test_single_event_at_the_extreme_risk_is_not_estimable_not_a_crash():
    """One event by t, in the patient with the highest score: the slope's MLE is infinite."""
    from crlmflow.validation.calibration import NotEstimableError

    rng = np.random.default_rng(1)
    n = 50
    time, event, lp = rng.uniform(13, 60, n), np.zeros(n, int), rng.normal(size=n)
    top = np.argmax(lp)
    event[top], time[top] = 1, 5.0
    expected = 0.02 * np.exp(lp) * np.minimum(time, 12) / 12
    with pytest.raises(NotEstimableError, match="1 event.*infinite slope"):
        poisson_calibration(time, event, expected, lp, 12.0)
    # the same event in a mid-risk patient: finite and estimable
    event[top], time[top] = 0, 40.0
    mid = np.argsort(lp)[n // 2]
    event[mid], time[mid] = 1, 5.0
    res = poisson_calibration(time, event, expected, lp, 12.0)
    assert np.isfinite(res.slope) and np.isfinite(res.intercept)
