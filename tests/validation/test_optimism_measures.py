"""Optimism correction of AUC(t), ICI/E50/E90 and net benefit in the selection-aware
bootstrap replicates (crlmflow.validation.optimism_measures)."""

from __future__ import annotations

import numpy as np
import pytest
from bootstrap_cases import HORIZONS, engine, load_crlm_train

from crlmflow.validation.calibration import smooth_calibration
from crlmflow.validation.decision_curve import net_benefit
from crlmflow.validation.optimism import summarise_optimism
from crlmflow.validation.optimism_measures import (
    corrected_measure_names,
    evaluation_measures,
    measure_horizon,
    repeated_order,
    replicate_measures,
)
from crlmflow.validation.roc import cumulative_dynamic_auc

THRESHOLDS = (0.2, 0.4)


@pytest.fixture(scope="module")
def case():
    eng = engine(load_crlm_train(), nb_thresholds=THRESHOLDS)
    return eng


def test_replicate_test_measures_equal_the_estimators_on_the_original_rows(case):
    eng = case
    w = eng.weights(3)
    _, selected, rm = eng.select(w)
    assert selected  # this replicate selects a model
    row = replicate_measures(eng, w, selected, rm, THRESHOLDS)
    lp, S = eng.model_predictions(w, selected, rm)
    for j, h in enumerate(HORIZONS):
        k = f"{h:g}"
        auc = cumulative_dynamic_auc(eng.time, eng.event, lp, h).auc
        assert row[f"auc_uno_{k}_test"] == pytest.approx(auc, abs=1e-12)
        sm = smooth_calibration(eng.time, eng.event, S[:, j], h)
        assert row[f"ici_{k}_test"] == pytest.approx(sm.ici, abs=1e-12)
        assert row[f"e90_{k}_test"] == pytest.approx(sm.e90, abs=1e-12)
        nb = net_benefit(eng.time, eng.event, 1 - S[:, j], h, thresholds=THRESHOLDS)
        for pt, v, ok in zip(nb["threshold"], nb["net_benefit_model"], nb["high_risk_followed_to_t"]):
            got = row[f"net_benefit_{k}_pt{pt:g}_test"]
            assert (np.isnan(got) and not ok) or got == pytest.approx(v, abs=1e-12)
        # training: the bootstrap sample, i.e. the original rows repeated by their frequency
        rows = np.repeat(np.arange(eng.n), w.astype(int))
        auc_tr = cumulative_dynamic_auc(eng.time[rows], eng.event[rows], lp[rows], h).auc
        assert row[f"auc_uno_{k}_training"] == pytest.approx(auc_tr, abs=1e-12)


def test_replicate_rows_carry_the_new_columns_and_leave_the_old_ones_unchanged(case):
    eng = case
    base = engine(load_crlm_train())
    r_new, r_old = eng.run(5), base.run(5)
    for k, v in r_old.items():
        assert r_new[k] == v or (isinstance(v, float) and np.isnan(v) and np.isnan(r_new[k]))
    assert {"auc_uno_36_training", "ici_36_test", "net_benefit_36_pt0.2_test"} <= set(r_new)
    assert "auc_uno_36_training" not in r_old


def test_corrected_is_apparent_minus_mean_optimism(case):
    import pandas as pd

    reps = pd.DataFrame([case.run(b) for b in range(4)])
    names = corrected_measure_names(reps)
    assert "ici_12" in names and "net_benefit_60_pt0.4" in names and "brier_12" not in names
    apparent = {m: 0.1 * i for i, m in enumerate(names)}
    out = summarise_optimism(apparent, reps, measures=names)
    for m in names:
        tr, te = reps[f"{m}_training"].to_numpy(float), reps[f"{m}_test"].to_numpy(float)
        ok = np.isfinite(tr) & np.isfinite(te)
        if ok.any():
            assert out.loc[m, "corrected"] == pytest.approx(apparent[m] - np.mean(tr[ok] - te[ok]), abs=1e-14)
        assert out.loc[m, "n_replicates"] == ok.sum()


def test_evaluation_measures_null_model_and_names():
    rng = np.random.default_rng(0)
    n = 80
    t = rng.exponential(30, n)
    e = (rng.random(n) < 0.7).astype(float)
    S = np.full((n, 1), 0.6)
    out = evaluation_measures(t, e, np.zeros(n), S, [24], thresholds=(0.3,))
    assert out["auc_uno_24"] == pytest.approx(0.5)  # constant marker: all ties
    assert np.isnan(out["ici_24"])  # no spread of predictions: calibration spline not estimable
    assert measure_horizon("net_benefit_24_pt0.3") == 24.0 and measure_horizon("ici_36") == 36.0
    assert measure_horizon("brier_36") is None


def test_prepared_evaluation_sample_gives_the_same_measures_to_the_last_bit(case):
    """Issue 20: the prediction-free structures built once (evaluation_sample) change nothing."""
    from crlmflow.validation.optimism_measures import evaluation_sample

    eng = case
    w = eng.weights(3)
    _, selected, rm = eng.select(w)
    lp, S = eng.model_predictions(w, selected, rm)
    fresh = evaluation_measures(eng.time, eng.event, lp, S, HORIZONS, THRESHOLDS)
    pre = evaluation_sample(eng.time, eng.event, HORIZONS)
    for prepared in (pre, eng.test_sample):
        again = evaluation_measures(eng.time, eng.event, lp, S, HORIZONS, THRESHOLDS, prepared)
        assert again.keys() == fresh.keys()
        for k, v in fresh.items():
            assert again[k] == v or (np.isnan(v) and np.isnan(again[k])), k


def test_repeated_order_is_the_stable_sort_of_the_repeated_rows():
    """Issue 20: the bootstrap sample's marker order is read off the original rows' order
    (ties and zero counts included), so its AUCs add the same weights in the same order."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        x = rng.integers(0, 4, n).astype(float)
        counts = rng.integers(0, 4, n)
        rows = np.repeat(np.arange(n), counts)
        got = repeated_order(np.argsort(x, kind="stable"), counts)
        np.testing.assert_array_equal(got, np.argsort(x[rows], kind="stable"))


def test_training_auc_equals_the_estimator_on_the_repeated_rows_to_the_last_bit(case):
    eng = case
    w = eng.weights(3)
    _, selected, rm = eng.select(w)
    row = replicate_measures(eng, w, selected, rm, THRESHOLDS)
    lp, _ = eng.model_predictions(w, selected, rm)
    rows = np.repeat(np.arange(eng.n), w.astype(int))
    for h in HORIZONS:
        assert (
            row[f"auc_uno_{h:g}_training"] == cumulative_dynamic_auc(eng.time[rows], eng.event[rows], lp[rows], h).auc
        )


def test_repeated_sample_equals_the_sample_of_the_repeated_rows(case):
    """Issue 20: a bootstrap sample's sorted structures read off the original rows' sorts are
    those of sorting the repeated rows afresh (so are the measures computed from them)."""
    from crlmflow.validation.optimism_measures import evaluation_sample, repeated_sample

    eng = case
    counts = eng.weights(4).astype(np.int64)
    rows = np.repeat(np.arange(eng.n), counts)
    t, e = eng.time[rows], eng.event[rows]
    fresh = evaluation_sample(t, e, HORIZONS)
    got = repeated_sample(eng.test_sample, t, e, HORIZONS, counts)
    for name in ("order", "time", "event", "uniq", "gidx"):
        np.testing.assert_array_equal(getattr(got.sample, name), getattr(fresh.sample, name), err_msg=name)
    for name in ("order", "risk_end", "death_pos", "term_frac"):
        np.testing.assert_array_equal(
            getattr(got.risk_data.risk_sets, name), getattr(fresh.risk_data.risk_sets, name), err_msg=name
        )
    for h in HORIZONS:
        np.testing.assert_array_equal(got.censoring[float(h)].G_Ti_minus, fresh.censoring[float(h)].G_Ti_minus)
    w = eng.weights(4)
    _, selected, rm = eng.select(w)
    lp, S = eng.model_predictions(w, selected, rm)
    a = evaluation_measures(t, e, lp[rows], S[rows], HORIZONS, THRESHOLDS, fresh)
    b = evaluation_measures(t, e, lp[rows], S[rows], HORIZONS, THRESHOLDS, got)
    assert a.keys() == b.keys() and all(a[k] == b[k] or (np.isnan(a[k]) and np.isnan(b[k])) for k in a)


def test_a_time_order_that_does_not_sort_is_refused():
    from crlmflow.validation._km import TimeSortedSample

    with pytest.raises(ValueError, match="ascending"):
        TimeSortedSample([3.0, 1.0, 2.0], [1, 0, 1], order=np.array([0, 1, 2]))
    assert TimeSortedSample([3.0, 1.0, 2.0], [1, 0, 1], order=np.array([1, 2, 0])).uniq.tolist() == [1.0, 2.0, 3.0]
