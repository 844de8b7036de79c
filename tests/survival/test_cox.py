"""Cox fitter against R coxph / survfit.coxph (survival 3.5-3) and lifelines CoxPHFitter."""

from __future__ import annotations

import time as _time
import warnings

import numpy as np
import pandas as pd
import pytest
from rref import CASES, assert_abs, assert_rel, reference, rows

from crlmflow.survival.cox import (
    CoxData,
    SeparationError,
    baseline_hazard,
    baseline_survival_at,
    coxph,
    cumhaz_at,
    predict_lp,
    score_test,
    wald_test_terms,
)
from crlmflow.survival.design import design_matrix
from crlmflow.survival.selection import fit_terms, prepare


def _problem(case):
    ep = case["ep"]
    return prepare(case["df"], case["spec"]["candidates"], ep["time"], ep["event"])


def _check_summary(pb, fit, ref, what):
    """Compare a CoxResult with the oracle's cox_summary()."""
    c = ref["coefficients"]
    assert fit.names == c["term"], what
    assert_rel(fit.coef, c["coef"], what=f"{what} coef")
    assert_rel(fit.se, c["se"], what=f"{what} se")
    assert_abs(fit.p, c["p_wald"], what=f"{what} p")
    assert_rel(fit.hr, c["hr"], what=f"{what} hr")
    assert_rel(np.exp(fit.coef - 1.959963984540054 * fit.se), c["hr_lower95"], what=f"{what} lo")
    assert_rel(np.exp(fit.coef + 1.959963984540054 * fit.se), c["hr_upper95"], what=f"{what} hi")
    assert fit.n == ref["n"] and fit.events == ref["events"]
    assert abs(fit.loglik_init - ref["loglik_null"]) < 1e-8
    # R stops at a 1e-9 relative loglik change; the true optimum can only be higher
    assert fit.loglik - ref["loglik"] > -1e-9 * abs(ref["loglik"])
    assert abs(fit.loglik - ref["loglik"]) < 1e-6
    assert abs(fit.aic - ref["aic"]) < 1e-6
    assert_rel(fit.lr_test.chisq, ref["lr_test"]["chisq"], rtol=1e-6)
    assert_abs(fit.lr_test.p, ref["lr_test"]["p"])
    assert fit.lr_test.df == ref["lr_test"]["df"]
    assert_rel(fit.score_test.chisq, ref["score_test"]["chisq"], rtol=1e-9)
    assert_abs(fit.score_test.p, ref["score_test"]["p"])
    # summary.coxph rounds the Wald chi-square to 2 decimals but not its p-value
    assert abs(fit.wald_test.chisq - ref["wald_test"]["chisq"]) <= 0.005 + 1e-9
    assert_abs(fit.wald_test.p, ref["wald_test"]["p"])
    pos = 0
    for term in ref["terms"]:
        k = len(pb.design.groups[term])
        tw = wald_test_terms(fit, range(pos, pos + k))
        rt = ref["term_wald"][term]
        assert tw.df == rt["df"]
        assert_rel(tw.chisq, rt["chisq"], what=f"{what} term wald {term}")
        assert_abs(tw.p, rt["p"])
        pos += k
    assert_rel(fit.means, [ref["sample_means"][t] for t in fit.names], rtol=1e-12)


def test_univariable_fits(case):
    pb = _problem(case)
    for var, ref in case["ep"]["univariable"].items():
        fit = fit_terms(pb, [var])
        assert fit.converged
        _check_summary(pb, fit, ref, f"univariable {var}")


def test_multivariable_full_and_final(case):
    pb = _problem(case)
    for key in ("multivariable_full", "final"):
        ref = case["ep"][key]
        fit = fit_terms(pb, ref["terms"])
        _check_summary(pb, fit, ref, key)


def test_baseline_and_per_row(case):
    ep = case["ep"]
    pb = _problem(case)
    terms = ep["final"]["terms"]
    fit = fit_terms(pb, terms)
    base = ep["baseline"]
    hz = base["at_horizons"]
    bh = baseline_hazard(pb.data, fit)  # Efron type, ctype = 2
    bhb = baseline_hazard(pb.data, fit, ctype=1)  # Breslow
    assert bh.ctype == 2 and bhb.ctype == 1
    # survfit's curve lists every distinct time; H0 is a step function over event times
    curve = base["curve"]
    assert_rel(cumhaz_at(bh, curve["time"]), curve["cumhaz_at_zero"], what="H0 efron curve")
    assert_rel(cumhaz_at(bhb, curve["time"]), curve["cumhaz_at_zero_breslow"], what="H0 breslow curve")
    assert_rel(cumhaz_at(bh, hz["horizon"]), hz["cumhaz_at_zero"], what="H0(h)")
    assert_rel(cumhaz_at(bhb, hz["horizon"]), hz["cumhaz_at_zero_breslow"], what="H0 breslow(h)")
    assert_abs(baseline_survival_at(bh, hz["horizon"]), hz["surv_at_zero"])

    centre = float(fit.means @ fit.coef)
    assert_rel(centre, base["centre_sample_means"])
    assert_abs(baseline_survival_at(bh, hz["horizon"], lp=centre), hz["surv_at_sample_means"])
    assert_abs(baseline_survival_at(bhb, hz["horizon"], lp=centre), hz["surv_at_sample_means_breslow"])

    X = pb.design.subset(terms).X
    pr = ep["per_row"]
    lp = predict_lp(fit, X)
    assert_abs(lp, pr["lp"], what="lp centred")
    lp_raw = predict_lp(fit, X, centered=False)
    assert_abs(lp_raw, pr["lp_uncentered"], what="lp")
    # survival >= 3 centres only non-0/1 columns (fit$means): reproduce via center=
    coxph_means = np.array([base["coxph_means"][t] for t in fit.names])
    assert_abs(predict_lp(fit, X, center=coxph_means), pr["lp_predict_coxph"])
    S = baseline_survival_at(bh, [12, 36, 60], lp=lp_raw)
    for j, h in enumerate((12, 36, 60)):
        assert_abs(S[:, j], pr[f"surv_{h}"], what=f"surv_{h}")


def test_not_in_model_score_tests_direct(case):
    ep = case["ep"]
    pb = _problem(case)
    final = fit_terms(pb, ep["final"]["terms"])
    for row in ep["final"]["not_in_model_score_tests"]:
        t = score_test(pb.data, final, pb.columns([row["variable"]]))
        assert t.df == row["df"]
        assert_rel(t.chisq, row["chisq"], rtol=1e-6, what=row["variable"])
        assert_abs(t.p, row["p"])


def test_score_test_equals_iter0_fit(case):
    """score_test() == a fit at (beta_hat, 0) with max_iter = 0, as R's init/iter.max trick."""
    ep = case["ep"]
    pb = _problem(case)
    terms = ep["final"]["terms"]
    final = fit_terms(pb, terms)
    extra = [v for v in pb.terms if v not in terms][0]
    cols = pb.columns(terms) + pb.columns([extra])
    k = len(pb.columns([extra]))
    f0 = pb.data.fit(cols=cols, init=np.concatenate([final.coef, np.zeros(k)]), max_iter=0)
    t = score_test(pb.data, final, pb.columns([extra]))
    assert f0.iterations == 0
    np.testing.assert_allclose(f0.score_test.chisq, t.chisq, rtol=1e-12)


# ---------------------------------------------------------------- lifelines pin


@pytest.mark.parametrize("name,endpoint", CASES)
def test_matches_lifelines(name, endpoint):
    from lifelines import CoxPHFitter

    ref = reference(name)
    ep = ref["endpoints"][endpoint]
    df = rows(name)
    terms = ep["multivariable_full"]["terms"]
    des = design_matrix(df, [c for c in ref["spec"]["candidates"] if (c if isinstance(c, str) else c["name"]) in terms])
    fit = coxph(df[ep["time"]], df[ep["event"]], des.X, names=des.columns)
    ld = pd.DataFrame(des.X, columns=des.columns)
    ld["T"], ld["E"] = df[ep["time"]].to_numpy(), df[ep["event"]].to_numpy()
    cph = CoxPHFitter().fit(ld, "T", "E", fit_options=dict(precision=1e-12))
    assert_rel(fit.coef, cph.params_[des.columns].to_numpy(), rtol=1e-6)
    assert_rel(fit.se, cph.standard_errors_[des.columns].to_numpy(), rtol=1e-6)
    assert abs(fit.loglik - cph.log_likelihood_) < 1e-6
    # lifelines' baseline is Breslow-type at the sample means
    bhb = baseline_hazard(CoxData(df[ep["time"]], df[ep["event"]], des.X, names=des.columns), fit, ctype=1)
    centre = fit.means @ fit.coef
    lh = cph.baseline_cumulative_hazard_
    lt = lh.index.to_numpy()
    assert_rel(cumhaz_at(bhb, lt) * np.exp(centre), lh.iloc[:, 0].to_numpy(), rtol=1e-6)
    # partial hazards = exp(centred lp)
    assert_rel(np.exp(predict_lp(fit, des.X)), cph.predict_partial_hazard(ld).to_numpy(), rtol=1e-6)


# ---------------------------------------------------------------- weights, ties, edges


def test_frequency_weights_equal_duplicated_rows():
    df = rows("crlm_a")
    des = design_matrix(df, ["crs_score", "r0_resection", "age"])
    rng = np.random.default_rng(7)
    idx = rng.integers(0, len(df), len(df))
    data = CoxData(df["rfs_months"], df["rfs_event"], des.X, names=des.columns)
    wfit = data.with_weights(data.bootstrap_weights(idx)).fit()
    dup = coxph(df["rfs_months"].to_numpy()[idx], df["rfs_event"].to_numpy()[idx], des.X[idx])
    np.testing.assert_allclose(wfit.coef, dup.coef, rtol=1e-10)
    np.testing.assert_allclose(wfit.se, dup.se, rtol=1e-10)
    np.testing.assert_allclose(wfit.loglik, dup.loglik, rtol=1e-12)
    d2 = CoxData(df["rfs_months"].to_numpy()[idx], df["rfs_event"].to_numpy()[idx], des.X[idx])
    b1 = baseline_hazard(data.with_weights(data.bootstrap_weights(idx)), wfit)
    b2 = baseline_hazard(d2, dup)
    np.testing.assert_allclose(b1.cumhaz, b2.cumhaz, rtol=1e-9)


def test_breslow_ties_against_lifelines_free_formula():
    # two tied deaths at t=1 with x = (0, 1), one survivor x = 0 to t=2 and a death at t=2
    t = np.array([1.0, 1.0, 2.0, 2.0])
    e = np.array([1.0, 1.0, 1.0, 0.0])
    x = np.array([0.0, 1.0, 0.0, 1.0])
    b = 0.3
    r = np.exp(b * x)
    ll_breslow = b * 1 - 2 * np.log(r.sum()) + 0 - np.log(r[2:].sum())
    ll_efron = b * 1 - np.log(r.sum()) - np.log(r.sum() - 0.5 * (r[0] + r[1])) - np.log(r[2:].sum())
    assert CoxData(t, e, x, ties="breslow").loglik([b]) == pytest.approx(ll_breslow, rel=1e-14)
    assert CoxData(t, e, x, ties="efron").loglik([b]) == pytest.approx(ll_efron, rel=1e-14)


def test_separation_is_detected_and_named():
    rng = np.random.default_rng(3)
    n = 60
    t = rng.exponential(5, n)
    e = (rng.random(n) < 0.7).astype(float)
    x = rng.normal(size=n)
    rare = np.zeros(n)
    rare[np.flatnonzero(e == 0)[:4]] = 1.0  # level with no events
    with pytest.raises(SeparationError, match="rare"):
        coxph(t, e, np.column_stack([x, rare]), names=["x", "rare"])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = coxph(t, e, np.column_stack([x, rare]), names=["x", "rare"], on_separation="warn")
    assert any("rare" in str(m.message) for m in w)
    assert "rare" in res.separated
    # continuous separation: risk perfectly ordered by z
    order_t = np.argsort(t)
    z = np.empty(n)
    z[order_t] = np.linspace(3, -3, n)
    with pytest.raises(SeparationError, match="z"):
        coxph(t, np.ones(n), z[:, None], names=["z"])


def test_fit_speed_vs_lifelines():
    """Per-fit time on crlm_a (389 rows, final OS model) — reported, loosely asserted."""
    from lifelines import CoxPHFitter

    ref = reference("crlm_a")
    ep = ref["endpoints"]["os"]
    df = rows("crlm_a")
    pb = prepare(df, ref["spec"]["candidates"], ep["time"], ep["event"])
    cols = pb.columns(ep["final"]["terms"])
    pb.data.fit(cols=cols)
    reps = 200
    t0 = _time.perf_counter()
    for _ in range(reps):
        pb.data.fit(cols=cols)
    ours = (_time.perf_counter() - t0) / reps
    ld = pd.DataFrame(pb.design.X[:, [pb.design.columns.index(c) for c in cols]], columns=cols)
    ld["T"], ld["E"] = df[ep["time"]].to_numpy(), df[ep["event"]].to_numpy()
    t0 = _time.perf_counter()
    for _ in range(5):
        CoxPHFitter().fit(ld, "T", "E", fit_options=dict(precision=1e-12))
    theirs = (_time.perf_counter() - t0) / 5
    print(f"\nper fit: crlmflow {ours * 1e3:.3f} ms, lifelines {theirs * 1e3:.1f} ms")
    assert ours < theirs


def test_subset_memo_is_bounded_and_does_not_change_fits(monkeypatch):
    """CoxData keeps at most _SUBSET_CACHE_BYTES of centred column subsets (stepwise selection
    on a registry-sized cohort visits hundreds); evicted subsets are rebuilt identically."""
    import crlmflow.survival.cox as cox

    rng = np.random.default_rng(4)
    n, p = 300, 6
    X = rng.normal(size=(n, p))
    time = rng.exponential(10 * np.exp(-X[:, 0] * 0.3), n).round(1)
    event = rng.integers(0, 2, n).astype(float)
    subsets = [(0, 1), (0, 2, 3), (1, 4, 5), (0, 1), (2, 3, 4, 5), (0, 2, 3)]
    ref = [cox.CoxData(time, event, X).fit(cols=c) for c in subsets]
    one = 3 * n * 8 * 5  # room for about one subset
    monkeypatch.setattr(cox, "_SUBSET_CACHE_BYTES", one)
    d = cox.CoxData(time, event, X)
    for c, r in zip(subsets, ref):
        f = d.fit(cols=c)
        assert np.array_equal(f.coef, r.coef) and f.loglik == r.loglik
        assert len(d._subsets) <= 2


def test_with_columns_shares_the_sort_and_fits_as_a_fresh_coxdata():
    """Issue 20: other columns on the same sorted rows fit exactly as CoxData built anew."""
    rng = np.random.default_rng(4)
    n = 400
    t = np.round(rng.exponential(20, n))  # tied times
    e = (rng.random(n) < 0.7).astype(float)
    X1, X2 = rng.normal(size=(n, 2)), rng.normal(size=(n, 3))
    base = CoxData(t, e, X1)
    view = base.with_columns(X2)
    fresh = CoxData(t, e, X2)
    a, b = view.fit(), fresh.fit()
    np.testing.assert_array_equal(a.coef, b.coef)
    assert a.loglik == b.loglik
    np.testing.assert_array_equal(base.fit().coef, CoxData(t, e, X1).fit().coef)  # the original is untouched
    with pytest.raises(ValueError, match="one row per subject"):
        base.with_columns(X2[:-1])
