"""The batched replicate models equal the unoptimised public procedure on the same weights:
univariable_cox / select_model on the weighted CoxProblem (screening, stepAIC, Forward-LR,
score entry)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bootstrap_cases import CRLM_CANDIDATES, EXCLUDE
from bootstrap_cases import engine as _engine

from crlmflow.model.modelling import select_model
from crlmflow.survival.selection import CoxProblem, forward_lr, univariable_cox
from crlmflow.validation.replicate_models import ReplicateModels


@pytest.mark.parametrize("ep", ["os", "rfs"])
def test_fast_screening_matches_univariable_cox(crlm_train, ep):
    eng = _engine(crlm_train, ep)
    pb = eng.problem
    for b in range(4):
        w = eng.weights(b)
        fast = ReplicateModels(eng, w).univariable_p()
        ref = univariable_cox(
            crlm_train,
            CRLM_CANDIDATES,
            eng.time_col,
            eng.event_col,
            problem=CoxProblem(pb.design, pb.data.with_weights(w)),
        )
        ref = ref.drop_duplicates("variable").set_index("variable")["p_term"]
        for v in eng.cand_names:
            assert fast[v] == pytest.approx(ref[v], abs=1e-9, rel=1e-7), (b, v)


@pytest.mark.parametrize("ep", ["os", "rfs"])
@pytest.mark.parametrize("method", ["stepaic_both", "forward_lr"])
def test_fast_selection_matches_select_model(crlm_train, ep, method):
    eng = _engine(crlm_train, ep, method)
    pb = eng.problem
    for b in range(5):
        w = eng.weights(b)
        pool, selected, rm = eng.select(w)
        p = CoxProblem(pb.design, pb.data.with_weights(w))
        univ = univariable_cox(crlm_train, CRLM_CANDIDATES, eng.time_col, eng.event_col, problem=p)
        ref = select_model(p, univ, screen_p=0.10, exclude=EXCLUDE, method=method)
        assert pool == ref.pool, b
        assert selected == ref.selected, b
        if selected:
            fast = rm.fit_many([tuple(selected)])[0]
            assert fast.loglik == pytest.approx(ref.fit.loglik, rel=1e-12)
            np.testing.assert_allclose(fast.vector(selected), ref.fit.coef, rtol=1e-7, atol=1e-9)


def test_score_entry_on_replicate_models_matches_weighted_problem(crlm_train):
    """The score-entry variant of forward_lr runs on the batched models too: each score test
    of adding a term equals score_test on the weighted CoxData, and the path is the same."""
    eng = _engine(crlm_train, "os", "forward_lr")
    pb = eng.problem
    for b in range(3):
        w = eng.weights(b)
        rm = ReplicateModels(eng, w)
        p = CoxProblem(pb.design, pb.data.with_weights(w))
        pool = [v for v in eng.cand_names if v not in EXCLUDE][:12]
        base = pool[:2]
        for v in pool[2:6]:
            fast, ref = rm.score_add(base, v), p.score_add(base, v)
            assert fast[1] == ref[1]
            assert fast[0] == pytest.approx(ref[0], rel=1e-8, abs=1e-10), (b, v)
        got = forward_lr(rm, pool, entry_test="score")
        want = forward_lr(p, pool, entry_test="score")
        assert got.selected == want.selected
        pd.testing.assert_frame_equal(got.steps.drop(columns=["chisq", "p"]), want.steps.drop(columns=["chisq", "p"]))
        np.testing.assert_allclose(got.steps["chisq"], want.steps["chisq"], rtol=1e-8)


@pytest.mark.parametrize("ep", ["os", "rfs"])
def test_bootstrap_follows_the_configured_score_entry(crlm_train, ep):
    """The engine passes entry_test through: its selection equals select_model's with
    score entry on the same weights."""
    eng = _engine(crlm_train, ep, "forward_lr", entry_test="score")
    pb = eng.problem
    for b in range(3):
        w = eng.weights(b)
        pool, selected, _ = eng.select(w)
        p = CoxProblem(pb.design, pb.data.with_weights(w))
        univ = univariable_cox(crlm_train, CRLM_CANDIDATES, eng.time_col, eng.event_col, problem=p)
        ref = select_model(p, univ, screen_p=0.10, exclude=EXCLUDE, method="forward_lr", entry_test="score")
        assert (pool, selected) == (ref.pool, ref.selected), b
        assert set(ref.path.loc[ref.path["action"] == "enter", "test"]) <= {"score"}


def test_unknown_method_is_refused_once_for_both_paths(crlm_train):
    with pytest.raises(ValueError, match="unknown selection method 'lasso'"):
        _engine(crlm_train, "os", "lasso")
    eng = _engine(crlm_train, "os")
    p = CoxProblem(eng.problem.design, eng.problem.data)
    univ = univariable_cox(crlm_train, CRLM_CANDIDATES, eng.time_col, eng.event_col, problem=p)
    with pytest.raises(ValueError, match="unknown selection method 'lasso'"):
        select_model(p, univ, screen_p=0.10, method="lasso")


def test_separation_inside_replicates_is_counted_not_fatal():
    """A binary candidate with no events at one level: every replicate leaves it unscreened
    (NaN p, as univariable_cox reports it), counts it in n_separated and still selects."""
    from crlmflow.survival.cox import SeparationWarning
    from crlmflow.validation.optimism import ReplicateEngine

    rng = np.random.default_rng(3)
    n = 120
    x, b = rng.normal(size=n), (rng.random(n) < 0.2).astype(float)
    t, c = rng.exponential(np.exp(-0.8 * x)), rng.exponential(1.5, size=n)
    df = pd.DataFrame({"t": np.minimum(t, c), "e": ((t <= c) & (b == 0)).astype(float), "x": x, "b": b})
    cands = [{"name": "x", "type": "numeric"}, {"name": "b", "type": "binary"}]
    eng = ReplicateEngine(df, cands, "t", "e", [1.0], seed=1)
    for rep in range(3):
        row = eng.run(rep)
        assert row["n_separated"] == 1 and row["selected"] == "x" and "b" not in row["pool"].split(";")
    w = eng.weights(0)
    fast = ReplicateModels(eng, w).univariable_p()
    with pytest.warns(SeparationWarning, match="'b'"):
        ref = univariable_cox(
            df, cands, "t", "e", problem=CoxProblem(eng.problem.design, eng.problem.data.with_weights(w))
        )
    assert np.isnan(fast["b"]) and ref.set_index("variable")["p_term"].isna()["b"]
    assert fast["x"] == pytest.approx(ref.set_index("variable").loc["x", "p_term"], rel=1e-7)


def _moderate_cohort(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    """A registry-like cohort of n rows from the CRLM fixture: rows drawn with replacement,
    continuous predictors jittered (no duplicated patients), follow-up at day resolution
    (many tied event times, as in a registry extract)."""
    from bootstrap_cases import load_crlm_train

    base = load_crlm_train()
    rng = np.random.default_rng(seed)
    df = base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
    for c in CRLM_CANDIDATES:
        if c in df and df[c].nunique() > 10:  # continuous (not 0/1 or a score)
            df[c] = df[c] + rng.normal(0.0, 0.05 * df[c].std(), n)
    for t in ("os_months", "rfs_months"):
        days = np.maximum(1.0, np.round(df[t] * 30.4375 + rng.integers(-15, 16, n)))
        df[t] = days / 30.4375
    return df


@pytest.mark.parametrize("method", ["forward_lr", "stepaic_both"])
def test_large_sample_path_equals_exact_path_at_moderate_n(monkeypatch, method):
    """The optimism bootstrap's selection at moderate n, on its large-sample derivatives
    (segment sums, per-time Efron sums, batched score tests, warm starts), against the exact
    path: univariable_cox and select_model on the weighted CoxProblem, every model fitted
    from beta = 0 by CoxData.fit.  A sample of replicates of both endpoints must screen and
    select the same terms, with coefficients equal to 1e-8."""
    import crlmflow.validation.batch_cox as batch_cox

    df = _moderate_cohort()
    monkeypatch.setattr(batch_cox, "_MATMUL_CELLS", 0)
    for ep in ("os", "rfs"):
        eng = _engine(df, ep, method, entry_test="score")
        assert not eng.batch_test.use_matmul
        assert eng.data.risk_sets.n_groups < 0.75 * eng.data.n_events  # many tied event times
        pb = eng.problem
        for b in (0, 3):
            w = eng.weights(b)
            pool, selected, rm = eng.select(w)
            p = CoxProblem(pb.design, pb.data.with_weights(w))
            univ = univariable_cox(df, CRLM_CANDIDATES, eng.time_col, eng.event_col, problem=p)
            ref = select_model(p, univ, screen_p=0.10, exclude=EXCLUDE, method=method, entry_test="score")
            assert pool == ref.pool, (ep, b)
            assert selected == ref.selected, (ep, b)
            assert len(selected) >= 2
            fast = rm.fit(tuple(selected))
            np.testing.assert_allclose(fast.vector(selected), ref.fit.coef, rtol=0, atol=1e-8)
            assert fast.loglik == pytest.approx(ref.fit.loglik, rel=1e-12)


def test_stacked_score_tests_equal_score_test_with_factors_of_several_columns():
    """score_add_many solves the (base, term) systems of equal size as one stack: terms of one
    column and a three-level factor (two columns) each equal score_test on the weighted data."""
    from crlmflow.validation.optimism import ReplicateEngine

    rng = np.random.default_rng(3)
    n = 300
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n)})
    df["g"] = rng.choice(["x", "y", "z"], n)
    lp = 0.5 * df["a"] + 0.4 * (df["g"] == "y") - 0.3 * df["c"]
    t = rng.exponential(20 * np.exp(-lp))
    df["time"], df["event"] = np.minimum(t, 30.0), (t <= 30.0).astype(int)
    cands = [{"name": v, "type": "numeric"} for v in "abc"] + [{"name": "g", "type": "factor"}]
    eng = ReplicateEngine(df, cands, "time", "event", [12], method="forward_lr", entry_test="score")
    assert eng.ncol["g"] == 2
    pb = eng.problem
    for b in range(2):
        w = eng.weights(b)
        rm = ReplicateModels(eng, w)
        p = CoxProblem(pb.design, pb.data.with_weights(w))
        for base, terms in (([], ["a", "g", "b", "c"]), (["a"], ["g", "c", "b"])):
            got = rm.score_add_many(base, terms)
            for t_, (chisq, df_, pv) in zip(terms, got):
                ref = p.score_add(base, t_)
                assert df_ == ref[1]
                assert chisq == pytest.approx(ref[0], rel=1e-8, abs=1e-10), (b, base, t_)
                assert pv == pytest.approx(ref[2], rel=1e-7, abs=1e-12)
