"""crlmflow.model.cutpoint against survminer 0.4.9 / maxstat 0.7-25 / survdiff in the R fixtures."""

from __future__ import annotations

import time as _time

import numpy as np
import pandas as pd
import pytest
from rref import CASES, TOL
from rref import load_case as _load

from crlmflow.model.cutpoint import (
    lausen_schumacher_p,
    logrank_scores,
    maxstat_cutpoint,
    permutation_p,
)
from crlmflow.survival.km import logrank_test


@pytest.fixture(scope="module", params=CASES, ids=[f"{d}-{e}" for d, e in CASES])
def case(request):
    ds, ep = request.param
    fx, rows = _load(ds)
    e = fx["endpoints"][ep]
    lp = np.asarray(e["per_row"]["lp"])
    t = rows[e["time"]].to_numpy(float)
    d = rows[e["event"]].to_numpy(float)
    c = e["cutpoint"]
    return c, lp, t, d, maxstat_cutpoint(lp, t, d, minprop=c["minprop"])


def test_estimate_and_statistic(case):
    c, _, _, _, res = case
    assert res.estimate == pytest.approx(c["maxstat_estimate"], abs=TOL)
    assert res.estimate == pytest.approx(c["survminer_cutpoint"], abs=TOL)
    assert res.statistic == pytest.approx(c["maxstat_statistic"], abs=TOL)
    assert res.statistic == pytest.approx(c["survminer_statistic"], abs=TOL)


def test_full_curve(case):
    c, _, _, _, res = case
    ref = c["maxstat_curve"]
    assert len(res.curve) == len(ref["cut"])
    np.testing.assert_allclose(res.curve["cut"], ref["cut"], rtol=0, atol=TOL)
    np.testing.assert_allclose(res.curve["stat"], ref["stat"], rtol=0, atol=TOL)


def test_lausen92_p(case):
    c, _, _, _, res = case
    p = lausen_schumacher_p(res.statistic, c["minprop"])
    assert p == pytest.approx(c["maxstat_p_lau92"], abs=TOL)
    # relative agreement too: these p-values are tiny, so abs=1e-6 alone says little
    assert p == pytest.approx(c["maxstat_p_lau92"], rel=1e-9)


def test_groups_and_logrank(case):
    c, lp, t, d, res = case
    assert (res.n_low, res.n_high) == (c["n_low"], c["n_high"])
    high = res.groups(lp)
    assert int(high.sum()) == c["n_high"]
    lr = logrank_test(t, d, pd.Categorical(np.where(high, "high", "low"), categories=["low", "high"]))
    ref = c["logrank"]
    assert lr.df == ref["df"]
    assert lr.chisq == pytest.approx(ref["chisq"], rel=TOL)
    assert lr.p == pytest.approx(ref["p"], abs=TOL)
    assert lr.groups["level"].tolist() == ref["groups"]["level"]
    assert lr.groups["n"].tolist() == ref["groups"]["n"]
    np.testing.assert_allclose(lr.groups["observed"], ref["groups"]["observed"], atol=TOL)
    np.testing.assert_allclose(lr.groups["expected"], ref["groups"]["expected"], atol=TOL)


@pytest.mark.parametrize("ds", ["crlm_a", "colon"])
@pytest.mark.parametrize("ep", ["os", "rfs"])
def test_logrank_km_groups(ds, ep):
    """K-group log-rank (colon: 3 levels of rx) as survdiff in km.logrank."""
    fx, rows = _load(ds)
    e = fx["endpoints"][ep]
    ref = e["km"]["logrank"]
    group = fx["spec"]["group"]
    levels = ref["groups"]["level"]
    g = rows[group].astype(str) if rows[group].dtype == object else rows[group]
    lv = [type(g.iloc[0])(x) if not isinstance(g.iloc[0], str) else x for x in levels]
    lr = logrank_test(rows[e["time"]], rows[e["event"]], pd.Categorical(g, categories=lv))
    assert lr.df == ref["df"]
    assert lr.chisq == pytest.approx(ref["chisq"], rel=TOL)
    assert lr.p == pytest.approx(ref["p"], abs=TOL)
    np.testing.assert_allclose(lr.groups["expected"], ref["groups"]["expected"], atol=TOL)


def test_permutation_p_seeded_and_sensible(case):
    _, lp, t, d, res = case
    a = permutation_p(lp, t, d, n_perm=199, seed=7)
    b = permutation_p(lp, t, d, n_perm=199, seed=7, max_cells=len(lp) * 13)  # other batching
    assert a.p_value == b.p_value
    np.testing.assert_array_equal(a.null_max, b.null_max)
    assert a.statistic == res.statistic
    assert 1 / 200 <= a.p_value <= 1
    # a strong prognostic score (Lau92 p < 1e-4): at most a rare null maximum exceeds it
    assert a.p_value <= 0.02


def test_permutation_p_draws_from_the_named_stream(case):
    from crlmflow.pipeline.streams import stream

    _, lp, t, d, _ = case
    by_seed = permutation_p(lp, t, d, n_perm=50, seed=7, endpoint_index=1)
    by_rng = permutation_p(lp, t, d, n_perm=50, seed=stream(7, "cutpoint_permutation", 1))
    np.testing.assert_array_equal(by_seed.null_max, by_rng.null_max)
    assert by_seed.seed == 7 and by_rng.seed is None
    other = permutation_p(lp, t, d, n_perm=50, seed=7, endpoint_index=0)
    assert not np.array_equal(other.null_max, by_seed.null_max)  # endpoints draw independently


def test_permutation_null_under_no_association():
    rng = np.random.default_rng(3)
    n = 300
    t = rng.exponential(size=n)
    d = (rng.random(n) < 0.7).astype(float)
    x = rng.normal(size=n)  # unrelated marker
    r = permutation_p(x, t, d, n_perm=400, seed=11)
    assert 0.05 < r.p_value < 1.0
    # the null maxima are maxima of |Z| over many cuts: well above 1 on average
    assert 1.0 < np.median(r.null_max) < 4.0
    # Lausen-Schumacher is a conservative approximation of the permutation tail
    assert np.mean(r.null_max >= 3.0) <= lausen_schumacher_p(3.0) + 0.03


def test_logrank_scores_sum_to_zero_without_ties():
    rng = np.random.default_rng(1)
    t = rng.exponential(size=200)
    d = (rng.random(200) < 0.6).astype(float)
    assert abs(logrank_scores(t, d).sum()) < 1e-10


def test_large_cohort_is_fast():
    """O(n log n): 100,000 rows with ties in the marker well under a few seconds."""
    rng = np.random.default_rng(0)
    n = 100_000
    x = np.round(rng.normal(size=n), 2)
    t = rng.exponential(size=n) * np.exp(-0.4 * x)
    d = (rng.random(n) < 0.7).astype(float)
    t0 = _time.perf_counter()
    r = maxstat_cutpoint(x, t, d)
    assert _time.perf_counter() - t0 < 5
    assert r.n_low >= 0.1 * n and r.n_high >= 0.1 * n - 1
    assert r.curve["cut"].is_unique and r.curve["cut"].is_monotonic_increasing


def test_input_validation():
    with pytest.raises(ValueError):
        maxstat_cutpoint([1.0, np.nan, 2.0], [1, 2, 3], [1, 0, 1])
    with pytest.raises(ValueError):
        maxstat_cutpoint([1.0, 2.0, 3.0], [1, 2, 3], [1, 2, 1])
    assert lausen_schumacher_p(0.5) == 1.0


def test_decision_threshold_keeps_training_groups_and_no_patient_on_the_boundary():
    from crlmflow.model.cutpoint import decision_threshold

    rng = np.random.default_rng(3)
    x = np.round(rng.normal(60, 15, 300), 2)
    t = rng.exponential(30, 300)
    e = (rng.random(300) < 0.6).astype(float)
    cp = maxstat_cutpoint(x, t, e, minprop=0.1)
    thr = decision_threshold(x, cp.estimate)
    assert cp.estimate < thr < x[x > cp.estimate].min()
    np.testing.assert_array_equal(x > thr, cp.groups(x))
    # the patient defining the cut, and its score perturbed by a few ulps either way, stay low
    at_cut = np.nextafter(np.nextafter(cp.estimate, np.inf), np.inf)
    assert not at_cut > thr and not np.nextafter(cp.estimate, -np.inf) > thr
    # scores equal to the cut within rounding noise count as ties, not as the next value
    assert decision_threshold(np.r_[x, cp.estimate * (1 + 1e-12)], cp.estimate) == thr
    # nothing above the cut: the cut itself
    assert decision_threshold(np.array([1.0, 2.0]), 2.0) == 2.0
