"""time_dependent_roc vs the fixture's survivalROC(method="KM"); cumulative_dynamic_auc and
brier_score vs riskRegression::Score (AUC, Brier, SEs, CIs, IPA, KM null model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rref import CASES, TOL, endpoint, na

from crlmflow.validation._km import km_at
from crlmflow.validation.roc import brier_score, cumulative_dynamic_auc, ipcw_auc, marker_sort, time_dependent_roc


@pytest.mark.parametrize("ds,ep", CASES)
def test_survival_roc_km_matches_fixture(ds, ep):
    time, event, e = endpoint(ds, ep)
    blocks = e["survivalROC_KM"]["by_horizon"]
    assert len(blocks) == 3
    for ref in blocks:
        res = time_dependent_roc(time, event, e["per_row"]["lp"], ref["predict_time"])
        assert res.auc == pytest.approx(ref["auc"], abs=TOL)
        assert res.survival == pytest.approx(ref["survival"], abs=TOL)
        cut = na(ref["cut"])
        assert res.cut[0] == -np.inf and np.isnan(cut[0])
        np.testing.assert_array_equal(res.cut[1:], cut[1:])
        np.testing.assert_allclose(res.FP, ref["FP"], rtol=0, atol=TOL)
        np.testing.assert_allclose(res.TP, ref["TP"], rtol=0, atol=TOL)


def _brute_survival_roc(time, event, marker, t):
    """The fixture's R definition, one KM per cut (O(n^2))."""
    cuts = np.unique(marker)
    s = km_at(time, event, t).surv
    tp, fp = [1.0], [1.0]
    for c in cuts[:-1]:
        sub = marker > c
        s0 = km_at(time[sub], event[sub], t).surv
        tp.append((1 - s0) * sub.mean() / (1 - s))
        fp.append(s0 * sub.mean() / s)
    tp.append(0.0)
    fp.append(0.0)
    return np.array(fp), np.array(tp)


def test_survival_roc_matches_brute_force_with_tied_times_and_markers():
    rng = np.random.default_rng(2)
    n = 400
    time = rng.integers(1, 25, n).astype(float)  # many tied event times
    event = rng.integers(0, 2, n)
    marker = rng.integers(0, 60, n).astype(float)
    res = time_dependent_roc(time, event, marker, 12.0)
    fp, tp = _brute_survival_roc(time, event, marker, 12.0)
    np.testing.assert_allclose(res.FP, fp, atol=1e-12)
    np.testing.assert_allclose(res.TP, tp, atol=1e-12)


def _score_rows(e, key, model):
    df = pd.DataFrame(e["score"][key])
    return df[df["model"] == model].set_index("horizon")


@pytest.mark.parametrize("ds,ep", CASES)
def test_ipcw_auc_matches_score(ds, ep):
    time, event, e = endpoint(ds, ep)
    for model in ("cox", "cox_survfit_matrix"):
        ref = _score_rows(e, "auc", model)
        assert len(ref) == 3
        for h, r in ref.iterrows():
            res = cumulative_dynamic_auc(time, event, 1.0 - np.asarray(e["per_row"][f"surv_{int(h)}"]), h)
            assert res.auc == pytest.approx(r["auc"], abs=TOL)
            assert res.se == pytest.approx(r["se"], rel=TOL)
            assert res.lower == pytest.approx(r["lower"], abs=TOL)
            assert res.upper == pytest.approx(r["upper"], abs=TOL)


@pytest.mark.parametrize("ds,ep", CASES)
def test_brier_and_ipa_match_score(ds, ep):
    time, event, e = endpoint(ds, ep)
    null = _score_rows(e, "brier", "Null model")
    for model in ("cox", "cox_survfit_matrix"):
        ref = _score_rows(e, "brier", model)
        assert len(ref) == 3
        for h, r in ref.iterrows():
            res = brier_score(time, event, np.asarray(e["per_row"][f"surv_{int(h)}"]), h)
            assert res.brier == pytest.approx(r["brier"], abs=TOL)
            assert res.se == pytest.approx(r["se"], rel=TOL)
            assert res.lower == pytest.approx(r["lower"], abs=TOL)
            assert res.upper == pytest.approx(r["upper"], abs=TOL)
            assert res.ipa == pytest.approx(r["ipa"], abs=TOL)
            n = null.loc[h]
            assert res.brier_null == pytest.approx(n["brier"], abs=TOL)
            assert res.se_null == pytest.approx(n["se"], rel=TOL)
            assert res.lower_null == pytest.approx(n["lower"], abs=TOL)
            assert res.upper_null == pytest.approx(n["upper"], abs=TOL)


def test_auc_and_brier_point_estimates_agree_with_scikit_survival():
    """Pinned equivalence on data without censorings tied to events (scikit-survival's
    censoring KM treats such ties differently from prodlim, which Score uses)."""
    from sksurv.metrics import brier_score as sk_brier
    from sksurv.metrics import cumulative_dynamic_auc as sk_auc
    from sksurv.util import Surv

    rng = np.random.default_rng(9)
    n = 600
    lp = rng.normal(size=n)
    t_ev = rng.exponential(10 * np.exp(-lp))
    cens = rng.uniform(0, 30, n)
    time = np.minimum(t_ev, cens)
    event = t_ev <= cens
    y = Surv.from_arrays(event, time)
    h = 8.0
    risk = 1 - np.exp(-h / (10 * np.exp(-lp)))
    auc_sk, _ = sk_auc(y, y, risk, [h])
    assert cumulative_dynamic_auc(time, event, risk, h).auc == pytest.approx(auc_sk[0], abs=1e-10)
    _, b_sk = sk_brier(y, y, (1 - risk)[:, None], [h])
    assert brier_score(time, event, 1 - risk, h).brier == pytest.approx(b_sk[0], abs=1e-10)


def test_ipa_is_nan_not_an_error_when_no_event_precedes_the_horizon():
    """A small training set can have no death before 12 months: the KM null model then has
    Brier 0 and the IPA is undefined (found by the simulation study)."""
    time = np.array([13.0, 15.0, 20.0, 24.0, 30.0, 8.0])
    event = np.array([1, 0, 1, 1, 0, 0])
    res = brier_score(time, event, np.full(6, 0.9), 12.0)
    assert res.brier_null == 0.0
    assert res.brier == pytest.approx(0.01, abs=1e-12)
    assert np.isnan(res.ipa)


def test_ipcw_auc_is_the_estimate_of_cumulative_dynamic_auc_to_the_last_bit():
    """Issue 20: the optimism bootstrap's AUC without its influence function, and with one
    sort of the marker shared by every horizon, is the same number as the full estimator
    (tied markers and tied times included)."""
    from crlmflow.validation._ipcw import censoring_weights_at

    rng = np.random.default_rng(4)
    n = 600
    time = np.round(rng.exponential(30, n))  # many tied times
    event = (rng.random(n) < 0.6).astype(float)
    marker = np.round(rng.normal(size=n), 1)  # many tied markers
    ranks = marker_sort(marker)
    for i in (0, 7, 123):  # the tie block of each row: searchsorted of its own value
        srt = marker[ranks.order]
        assert ranks.lo[i] == np.searchsorted(srt, marker[i], "left")
        assert ranks.hi[i] == np.searchsorted(srt, marker[i], "right")
    cens = censoring_weights_at(time, event, [12, 24, 36])
    for h in (12, 24, 36):
        full = cumulative_dynamic_auc(time, event, marker, h).auc
        assert ipcw_auc(time, event, marker, h) == full
        assert ipcw_auc(time, event, marker, h, censoring=cens[float(h)], ranks=ranks) == full
    with pytest.raises(ValueError, match="at least one case"):
        ipcw_auc(time, event, marker, -1.0)
