"""Bootstrap optimism correction with selection repeated in every replicate.

The fast paths (batched Newton fits, pair-matrix C, weighted IPCW Brier) are pinned to the
unoptimised public functions: select_model on explicitly duplicated rows, concordance_index
and roc.brier_score on duplicated rows.  The apparent Dxy / R2 are pinned to
rms::validate's index.orig (R fixtures; see README there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bootstrap_cases import CRLM_CANDIDATES, EXCLUDE, HORIZONS
from bootstrap_cases import engine as _engine
from rref import reference, rows

import crlmflow.validation.batch_cox as batch_cox
from crlmflow.model.modelling import select_model
from crlmflow.pipeline.streams import stream
from crlmflow.survival.cox import CoxData, baseline_hazard, baseline_survival_at
from crlmflow.survival.selection import prepare, univariable_cox
from crlmflow.validation.concordance import concordance_index
from crlmflow.validation.optimism import (
    apparent_performance,
    bootstrap_indices,
    run_replicates,
    run_replicates_parallel,
    selection_frequency,
    summarise_optimism,
)
from crlmflow.validation.roc import brier_score

# -- random streams -----------------------------------------------------------------------


def test_bootstrap_indices_are_the_named_optimism_stream():
    """Replicate b of endpoint k draws from stream(seed, "optimism_bootstrap", k, b) and
    nothing else; other keys, seeds or purposes give other draws."""
    a = bootstrap_indices(50, 1, 0, 7)
    assert a.shape == (50,) and a.min() >= 0 and a.max() < 50
    assert np.array_equal(a, stream(1, "optimism_bootstrap", 0, 7).integers(0, 50, size=50))
    assert np.array_equal(a, bootstrap_indices(50, 1, 0, 7))
    for other in (
        bootstrap_indices(50, 1, 1, 7),
        bootstrap_indices(50, 1, 0, 8),
        bootstrap_indices(50, 2, 0, 7),
        stream(1, "calibration_bootstrap", 0, 7).integers(0, 50, size=50),
    ):
        assert not np.array_equal(a, other)


# -- the fast procedure equals the unoptimised one ------------------------------------------


def test_selection_on_weights_equals_duplicated_rows(crlm_train):
    """A replicate as frequency weights == the same replicate as a copied data frame."""
    eng = _engine(crlm_train, "os")
    for b in (0, 1):
        idx = bootstrap_indices(eng.n, eng.seed, eng.endpoint_index, b)
        boot = crlm_train.iloc[idx].reset_index(drop=True)
        pbb = prepare(boot, CRLM_CANDIDATES, "os_months", "os_event")
        univ = univariable_cox(boot, CRLM_CANDIDATES, "os_months", "os_event", problem=pbb)
        ref = select_model(pbb, univ, screen_p=0.10, exclude=EXCLUDE)
        pool, selected, _ = eng.select(eng.weights(b))
        assert (pool, selected) == (ref.pool, ref.selected)


def test_replicate_measures_match_public_functions(crlm_train):
    """Training = duplicated rows; test = original rows; by concordance_index and brier_score."""
    eng = _engine(crlm_train, "os")
    t, e = eng.time, eng.event
    for b in (0, 3):
        row = eng.run(b)
        sel = row["selected"].split(";")
        w = eng.weights(b)
        idx = bootstrap_indices(eng.n, eng.seed, eng.endpoint_index, b)
        d = eng.problem.data.with_weights(w)
        fit = d.fit(cols=eng.problem.columns(sel))
        lp = d.X_raw[:, list(fit.cols)] @ fit.coef
        S = baseline_survival_at(baseline_hazard(d, fit), HORIZONS, lp=lp)
        assert row["c_index_test"] == pytest.approx(concordance_index(t, e, lp).c_index, abs=1e-12)
        assert row["c_index_training"] == pytest.approx(concordance_index(t[idx], e[idx], lp[idx]).c_index, abs=1e-12)
        assert row["dxy_test"] == pytest.approx(2 * row["c_index_test"] - 1, abs=1e-15)
        for j, h in enumerate(HORIZONS):
            assert row[f"brier_{h}_test"] == pytest.approx(brier_score(t, e, S[:, j], h).brier, abs=1e-8)
            assert row[f"brier_{h}_training"] == pytest.approx(
                brier_score(t[idx], e[idx], S[idx, j], h).brier, abs=1e-8
            )
        # calibration slope: Cox regression of the outcome on the refit's lp
        slope_test = CoxData(t, e, lp[:, None]).fit().coef[0]
        assert row["slope_test"] == pytest.approx(slope_test, rel=1e-7)
        assert row["slope_training"] == 1.0
        assert CoxData(t, e, lp[:, None], weights=w).fit().coef[0] == pytest.approx(1.0, abs=1e-7)
        assert row["r2_training"] > 0 and row["r2_test"] > 0


def test_null_model_replicates_do_not_fail(crlm_train):
    """screen_p = 1e-300: nothing passes screening -> C 0.5, slope NaN, KM Brier."""
    out = run_replicates(
        crlm_train,
        CRLM_CANDIDATES,
        "os_months",
        "os_event",
        HORIZONS,
        range(3),
        seed=5,
        screen_p=1e-300,
        exclude=EXCLUDE,
    )
    assert (out["n_selected"] == 0).all() and (out["selected"] == "").all()
    assert (out["c_index_training"] == 0.5).all() and (out["c_index_test"] == 0.5).all()
    assert (out["dxy_test"] == 0).all()
    assert out["slope_test"].isna().all() and out["slope_training"].isna().all()
    eng = _engine(crlm_train, "os", seed=5)
    t, e = eng.time, eng.event
    idx = bootstrap_indices(eng.n, 5, 0, 0)
    from crlmflow.validation._km import km_at

    for h in HORIZONS:
        km = km_at(t[idx], e[idx], h).surv
        assert out.loc[0, f"brier_{h}_test"] == pytest.approx(
            brier_score(t, e, np.full(t.size, km), h).brier, abs=1e-12
        )
        assert out.loc[0, f"brier_{h}_training"] == pytest.approx(
            brier_score(t[idx], e[idx], np.full(t.size, km), h).brier, abs=1e-12
        )
    summ = summarise_optimism(
        apparent_performance(
            crlm_train, CRLM_CANDIDATES, "os_months", "os_event", HORIZONS, screen_p=1e-300, exclude=EXCLUDE
        ),
        out,
    )
    assert summ.loc["slope", "n_replicates"] == 0
    assert summ.loc["c_index", "apparent"] == 0.5 and summ.loc["c_index", "optimism"] == 0.0


# -- determinism ----------------------------------------------------------------------------


def test_same_seed_same_frame_and_chunking_invariant(crlm_train):
    kw = dict(seed=42, endpoint_index=1, exclude=EXCLUDE)
    args = (crlm_train, CRLM_CANDIDATES, "rfs_months", "rfs_event", HORIZONS)
    full = run_replicates(*args, range(10), **kw)
    again = run_replicates(*args, range(10), **kw)
    pd.testing.assert_frame_equal(full, again, check_exact=True)
    parts = pd.concat(
        [run_replicates(*args, range(0, 5), **kw), run_replicates(*args, [5, 6, 7, 8, 9], **kw)], ignore_index=True
    )
    pd.testing.assert_frame_equal(full, parts, check_exact=True)
    rev = run_replicates(*args, [9, 3], **kw).set_index("b")
    pd.testing.assert_frame_equal(rev.loc[[3, 9]], full.set_index("b").loc[[3, 9]], check_exact=True)
    other = run_replicates(*args, range(10), seed=43, endpoint_index=1, exclude=EXCLUDE)
    assert not other["c_index_test"].equals(full["c_index_test"])


def test_without_horizons_only_the_brier_columns_go(crlm_train):
    """No horizons (the simulation study's bootstrap): no predicted survival or Brier score is
    computed, and every other column is exactly what a run with horizons gives."""
    kw = dict(seed=7, endpoint_index=0, exclude=EXCLUDE)
    args = (crlm_train, CRLM_CANDIDATES, "os_months", "os_event")
    with_h = run_replicates(*args, HORIZONS, range(6), **kw)
    without = run_replicates(*args, [], range(6), **kw)
    assert not [c for c in without.columns if c.startswith(("brier_", "ipa_"))]
    assert [c for c in with_h.columns if c.startswith(("brier_", "ipa_"))]
    pd.testing.assert_frame_equal(without, with_h[without.columns], check_exact=True)


def test_parallel_equals_serial(crlm_train):
    jobs = [
        dict(
            train_df=crlm_train,
            candidates=CRLM_CANDIDATES,
            time_col=f"{ep}_months",
            event_col=f"{ep}_event",
            horizons=HORIZONS,
            seed=9,
            endpoint_index=k,
            exclude=EXCLUDE,
        )
        for k, ep in enumerate(["os", "rfs"])
    ]
    par = run_replicates_parallel(jobs, B=6, cores=2, chunk_size=2)
    ser = run_replicates_parallel(jobs, B=6, cores=1, chunk_size=6)
    for a, b in zip(par, ser):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert list(par[0]["b"]) == list(range(6))


# -- sanity of the optimism -----------------------------------------------------------------


def _noise_data(n=150, p=15, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    t = rng.exponential(20 * np.exp(-0.3 * X[:, 0]))
    c = rng.uniform(5, 60, n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["time"] = np.minimum(t, c)
    df["event"] = (t <= c).astype(int)
    return df, [f"x{j}" for j in range(p)]


def test_optimism_positive_with_selection_on_noise():
    df, cands = _noise_data()
    app = apparent_performance(df, cands, "time", "event", HORIZONS, screen_p=0.20)
    reps = run_replicates(df, cands, "time", "event", HORIZONS, range(40), seed=3, screen_p=0.20)
    summ = summarise_optimism(app, reps)
    assert summ.loc["c_index", "optimism"] > 0
    assert summ.loc["c_index", "corrected"] < summ.loc["c_index", "apparent"]
    assert summ.loc["dxy", "optimism"] == pytest.approx(2 * summ.loc["c_index", "optimism"], abs=1e-12)
    assert summ.loc["slope", "test_mean"] < 1.0
    assert set(summ.index) == {"c_index", "dxy", "slope", "r2", "brier_12", "brier_36", "brier_60"} | {
        "ipa_12",
        "ipa_36",
        "ipa_60",
    }
    # IPA of the test data: 1 - Brier / Brier of the original data's own KM (the apparent
    # IPA's reference), so it is a fixed transformation of the replicate's test Brier
    null_36 = app["brier_36"] / (1.0 - app["ipa_36"])
    np.testing.assert_allclose(reps["ipa_36_test"], 1.0 - reps["brier_36_test"] / null_36, rtol=1e-10)
    assert summ.loc["ipa_36", "optimism"] > 0  # selection on noise overstates IPA too
    assert (summ["n_replicates_nothing_selected"] == (reps["n_selected"] == 0).sum()).all()
    # columns and arithmetic
    m = summ.loc["brier_36"]
    ok = reps[["brier_36_training", "brier_36_test"]].dropna()
    assert m["optimism"] == pytest.approx((ok["brier_36_training"] - ok["brier_36_test"]).mean(), abs=1e-15)
    assert m["corrected"] == pytest.approx(m["apparent"] - m["optimism"], abs=1e-15)
    assert m["n_replicates"] == 40
    freq = selection_frequency(reps, cands)
    assert list(freq.columns) == ["variable", "times_selected", "proportion"]
    assert freq["proportion"].between(0, 1).all()
    assert (freq.set_index("variable")["times_selected"] == reps[[f"sel_{v}" for v in cands]].sum().values).all()
    # the one real predictor is selected more often than the typical noise variable
    prop = freq.set_index("variable")["proportion"]
    assert prop["x0"] > prop.drop("x0").median()


# -- R: rms::validate index.orig ------------------------------------------------------------


@pytest.mark.parametrize("ds", ["crlm_a", "colon"])
@pytest.mark.parametrize("ep", ["os", "rfs"])
def test_apparent_matches_rms_validate_index_orig(ds, ep):
    """rms validate's index.orig refits the final model with coxphFit(eps = 1e-4, iter.max =
    10); with the same loose refit Dxy and R2 agree exactly, with the fully converged model
    Dxy agrees to ~1e-4 (one or two lp pairs reorder).  Dxy = 2C - 1 (risk convention)."""
    spec = reference(ds)["spec"]
    ref = reference(ds)["endpoints"][ep]
    tab = dict(zip(ref["validate"]["table"]["index"], ref["validate"]["table"]["index.orig"]))
    df = rows(ds)
    terms = ref["final"]["terms"]
    loose = apparent_performance(
        df,
        spec["candidates"],
        f"{ep}_months",
        f"{ep}_event",
        spec["horizons"],
        terms=terms,
        fit_tol=1e-4,
        fit_max_iter=10,
    )
    assert loose["dxy"] == pytest.approx(tab["Dxy"], abs=1e-12)
    assert loose["r2"] == pytest.approx(tab["R2"], abs=1e-6)
    assert loose["slope"] == tab["Slope"] == 1
    assert 0.5 + loose["dxy"] / 2 == pytest.approx(ref["validate"]["c_index_orig"], abs=1e-12)
    full = apparent_performance(df, spec["candidates"], f"{ep}_months", f"{ep}_event", spec["horizons"], terms=terms)
    assert full["dxy"] == pytest.approx(tab["Dxy"], abs=2e-4)
    assert full["c_index"] == pytest.approx(ref["concordance"]["c_index"], abs=1e-6)
    assert full["r2"] == pytest.approx(tab["R2"], abs=1e-6)


def test_apparent_selection_reproduces_r_final_model():
    spec = reference("crlm_a")["spec"]
    ref = reference("crlm_a")["endpoints"]["os"]
    app = apparent_performance(
        rows("crlm_a"),
        spec["candidates"],
        "os_months",
        "os_event",
        spec["horizons"],
        screen_p=spec["screen_p"],
        exclude=spec["exclude_from_multivariable"],
    )
    assert app["selected"] == ref["final"]["terms"]


# -- fixed-model bootstrap CI -----------------------------------------------------------------


def test_replicate_engine_concordance_is_the_weighted_pair_sums(crlm_train):
    """The engine's training and test C (the compiled sweep of WeightedConcordance) are the
    comparable-pair sums of the bootstrap weights and of unit weights, to the last bit
    (integer weights: exact sums)."""
    from crlmflow.validation.weighted import concordance_kernel, pair_matrix

    eng = _engine(crlm_train)
    P = pair_matrix(eng.time, eng.event)
    for b in (0, 1):
        w = eng.weights(b)
        _, selected, rm = eng.select(w)
        lp, _ = eng.model_predictions(w, selected, rm)
        K = P * concordance_kernel(lp)
        row = eng.run(b)
        assert row["c_index_training"] == float(w @ K @ w / (w @ P @ w))
        assert row["c_index_test"] == float(K.sum() / P.sum())


@pytest.mark.parametrize("method", ["stepaic_both", "forward_lr"])
def test_large_sample_path_equals_small_sample_path(crlm_train, monkeypatch, method):
    """Above _MATMUL_CELLS the engine uses segment sums and per-time Efron sums (the
    large-sample derivatives) in every fit; every replicate must select
    the same model and give the same measures as the exact small-sample path."""
    exact = _engine(crlm_train, method=method)
    monkeypatch.setattr(batch_cox, "_MATMUL_CELLS", 0)
    large = _engine(crlm_train, method=method)
    assert exact.batch_test.use_matmul and not large.batch_test.use_matmul
    for b in range(4):
        r0, r1 = exact.run(b), large.run(b)
        assert r1["selected"] == r0["selected"] and r1["pool"] == r0["pool"]
        for k, v in r0.items():
            if isinstance(v, float) and np.isfinite(v):
                assert r1[k] == pytest.approx(v, rel=1e-8, abs=1e-10), k
