"""Screening, stepAIC, Forward LR / score entry and not-in-model score tests vs the R oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rref import assert_abs, assert_rel, na

from crlmflow.survival.selection import (
    fit_terms,
    forward_lr,
    not_in_model_score_tests,
    prepare,
    screen,
    stepaic_both,
    univariable_cox,
)


def _setup(case):
    ep, spec = case["ep"], case["spec"]
    pb = prepare(case["df"], spec["candidates"], ep["time"], ep["event"])
    return ep, spec, pb


def test_univariable_table(case):
    ep, spec, pb = _setup(case)
    uni = univariable_cox(case["df"], spec["candidates"], ep["time"], ep["event"], problem=pb)
    for var, ref in ep["univariable"].items():
        rows = uni[uni["variable"] == var]
        c = ref["coefficients"]
        assert list(rows["term"]) == c["term"]
        assert_rel(rows["coef"], c["coef"], what=var)
        assert_rel(rows["se"], c["se"], what=var)
        assert_abs(rows["p"], c["p_wald"], what=var)
        assert_rel(rows["hr_lower"], c["hr_lower95"], what=var)
        assert_rel(rows["hr_upper"], c["hr_upper95"], what=var)
        assert_abs(rows["p_term"], [ref["wald_p_term"]] * len(rows), what=var)
        assert_abs(rows["p_lr"], [ref["lr_p"]] * len(rows), what=var)
        assert (rows["n"] == ref["n"]).all() and (rows["events"] == ref["events"]).all()


def test_screening(case):
    ep, spec, pb = _setup(case)
    uni = univariable_cox(case["df"], spec["candidates"], ep["time"], ep["event"], problem=pb)
    sel = screen(uni, threshold=spec["screen_p"], exclude=spec["exclude_from_multivariable"])
    assert sel == ep["screening"]["selected"]


def test_stepaic_path_and_selection(case):
    ep, spec, pb = _setup(case)
    res = stepaic_both(pb, ep["screening"]["selected"], k=2)
    ref = ep["stepaic"]
    assert res.selected == ref["selected"]
    p = ref["path"]
    assert list(res.path["step"]) == p["step"]
    assert_abs(res.path["df"], na(p["df"]))
    np.testing.assert_array_equal(res.path["resid_df"], p["resid_df"])
    assert_abs(res.path["resid_dev"], p["resid_dev"], atol=1e-6)
    assert_abs(res.path["aic"], p["aic"], atol=1e-6)
    assert_abs(res.path["deviance"], na(p["deviance"]), atol=1e-6)


def _check_forward(res, ref):
    assert res.selected == ref["selected"]
    steps = pd.DataFrame(ref["steps"])
    assert list(res.steps["action"]) == list(steps["action"])
    assert list(res.steps["variable"]) == list(steps["variable"])
    assert list(res.steps["df"]) == list(steps["df"])
    assert_rel(res.steps["chisq"], steps["chisq"], rtol=1e-6)
    assert_abs(res.steps["p"], steps["p"])


def test_forward_lr(case):
    ep, spec, pb = _setup(case)
    fw = spec["forward_lr"]
    res = forward_lr(pb, ep["screening"]["selected"], fw["entry_p"], fw["removal_p"], entry_test="lr")
    _check_forward(res, ep["forward_lr"])
    nim = not_in_model_score_tests(pb, res.selected, spec["candidates"])
    ref = pd.DataFrame(ep["forward_lr"]["not_in_model_score_tests"])
    assert list(nim["variable"]) == list(ref["variable"])
    assert list(nim["df"]) == list(ref["df"])
    assert_rel(nim["chisq"], ref["chisq"], rtol=1e-6)
    assert_abs(nim["p"], ref["p"])
    fm = ep["forward_lr"]["final_model"]
    fit = fit_terms(pb, fm["terms"])
    assert_rel(fit.coef, fm["coefficients"]["coef"])
    assert_rel(fit.se, fm["coefficients"]["se"])


def test_forward_score_entry(case):
    ep, spec, pb = _setup(case)
    fw = spec["forward_lr"]
    res = forward_lr(pb, ep["screening"]["selected"], fw["entry_p"], fw["removal_p"], entry_test="score")
    _check_forward(res, ep["forward_score_entry"])


def test_final_not_in_model_score_tests(case):
    ep, spec, pb = _setup(case)
    nim = not_in_model_score_tests(pb, ep["final"]["terms"], spec["candidates"])
    ref = pd.DataFrame(ep["final"]["not_in_model_score_tests"])
    assert list(nim["variable"]) == list(ref["variable"])
    assert list(nim["df"]) == list(ref["df"])
    assert_rel(nim["chisq"], ref["chisq"], rtol=1e-6)
    assert_abs(nim["p"], ref["p"])


def test_forward_removal_branch():
    """A term that enters and later loses significance is removed (synthetic)."""
    rng = np.random.default_rng(11)
    n = 400
    a = rng.normal(size=n)
    b = a + rng.normal(scale=0.05, size=n)  # near-copy of a
    c = rng.normal(size=n)
    t = rng.exponential(np.exp(-(0.8 * a + 0.5 * c)))
    e = np.ones(n)
    df = pd.DataFrame({"a": a, "b": b, "c": c, "t": t, "e": e})
    pb = prepare(df, ["b", "a", "c"], "t", "e")
    res = forward_lr(pb, ["b", "a", "c"], 0.05, 0.10)
    assert set(res.selected) <= {"a", "b", "c"}
    assert "c" in res.selected
    # every reported removal really had LR p > 0.10
    assert (res.steps.loc[res.steps["action"] == "remove", "p"] > 0.10).all()


def _separated_cohort(n=120, seed=3):
    """A numeric prognostic candidate and a binary one with no event at level 1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    b = (rng.random(n) < 0.2).astype(float)
    t = rng.exponential(np.exp(-0.8 * x))
    c = rng.exponential(1.5, size=n)
    event = ((t <= c) & (b == 0)).astype(float)
    return pd.DataFrame({"time": np.minimum(t, c), "event": event, "x": x, "b": b})


def test_univariable_separation_is_reported_not_raised():
    """A binary with no events in one level (monotone likelihood): the row says so, with the
    counts, a warning names candidate and endpoint, and the candidate is never screened."""
    import pytest

    from crlmflow.survival.cox import SeparationWarning

    df = _separated_cohort()
    cands = [{"name": "x", "type": "numeric"}, {"name": "b", "type": "binary"}]
    with pytest.warns(SeparationWarning, match=r"'b' \(event / time\).*b=1: n=\d+, events=0"):
        uni = univariable_cox(df, cands, "time", "event")
    row = uni.set_index("variable").loc["b"]
    assert bool(row["separated"]) and "events=0" in row["separation"]
    assert np.isnan(row["coef"]) and np.isnan(row["p_term"])
    assert row["events"] == int(df["event"].sum())
    estimable = uni.set_index("variable").loc["x"]
    assert not bool(estimable["separated"]) and estimable["p_term"] < 0.05
    assert screen(uni, 0.10) == ["x"]
