"""Models beyond the paper (crlmflow.model.alternatives) on R's reference cohort crlm_a."""

import numpy as np
import pytest
from rref import load_case

from crlmflow.model.alternatives import fit_alternative, fit_full_model, shrink_coefficients
from crlmflow.model.modelling import develop_model, predict
from crlmflow.model.penalised import fold_ids
from crlmflow.survival.cox import CoxData
from crlmflow.survival.design import design_matrix, resolve_knots


@pytest.fixture(scope="module")
def case():
    ref, rows = load_case("crlm_a")
    spec = ref["spec"]
    cands = [c if isinstance(c, dict) else {"name": c, "type": "numeric"} for c in spec["candidates"]]
    ep = ref["endpoints"]["os"]
    return rows, cands, spec, ep


def test_full_model_is_the_cox_fit_of_every_eligible_candidate(case):
    rows, cands, spec, ep = case
    exclude = spec["exclude_from_multivariable"]
    model = fit_full_model(rows, cands, ep["time"], ep["event"], exclude=exclude)
    eligible = [c for c in cands if c["name"] not in exclude]
    des = design_matrix(rows, eligible)
    fit = CoxData(rows[ep["time"]], rows[ep["event"]], des.X).fit()
    np.testing.assert_allclose(model.coef, fit.coef, rtol=1e-10)
    assert model.columns == des.columns
    pred = model.predict(rows, spec["horizons"])
    np.testing.assert_allclose(pred["lp"], des.X @ fit.coef - des.X.mean(0) @ fit.coef)


def test_shrinkage_one_reproduces_the_stepwise_model_and_s_scales_its_lp(case):
    rows, cands, spec, ep = case
    dev = develop_model(
        rows,
        cands,
        "os",
        ep["time"],
        ep["event"],
        screen_p=spec["screen_p"],
        exclude=spec["exclude_from_multivariable"],
    )
    ref = predict(dev, rows, spec["horizons"])
    same = shrink_coefficients(
        rows, cands, ep["time"], ep["event"], terms=dev.fit.names, coef=dev.fit.coef, shrinkage=1.0
    )
    np.testing.assert_allclose(same.predict(rows, spec["horizons"]).to_numpy(), ref.to_numpy(), atol=1e-10)
    shrunk = shrink_coefficients(
        rows, cands, ep["time"], ep["event"], terms=dev.fit.names, coef=dev.fit.coef, shrinkage=0.8
    )
    pred = shrunk.predict(rows, spec["horizons"])
    np.testing.assert_allclose(pred["lp"], 0.8 * ref["lp"], atol=1e-10)
    # the re-estimated baseline keeps the expected number of events at the observed one
    # (exactly with Breslow's estimator; Efron's differs by its tie correction)
    from crlmflow.survival.cox import cumhaz_at

    lp_raw = shrunk.design(rows) @ shrunk.coef
    expected = cumhaz_at(shrunk.baseline, rows[ep["time"]].to_numpy(float)) * np.exp(lp_raw)
    assert expected.sum() == pytest.approx(rows[ep["event"]].sum(), rel=1e-3)
    with pytest.raises(ValueError, match="positive"):
        shrink_coefficients(rows, cands, ep["time"], ep["event"], terms=dev.fit.names, coef=dev.fit.coef, shrinkage=0.0)


def test_lasso_selects_and_ridge_keeps_every_term(case):
    rows, cands, spec, ep = case
    foldid = fold_ids(len(rows), 5, np.random.default_rng(11))
    kw = dict(exclude=spec["exclude_from_multivariable"], foldid=foldid, n_alphas=15)
    lasso = fit_alternative("lasso", rows, cands, ep["time"], ep["event"], **kw)
    ridge = fit_alternative("ridge", rows, cands, ep["time"], ep["event"], **kw)
    full = fit_alternative("full", rows, cands, ep["time"], ep["event"], exclude=kw["exclude"])
    assert 0 < np.count_nonzero(lasso.coef) < len(lasso.coef)
    assert np.count_nonzero(ridge.coef) == len(ridge.coef)
    # penalties shrink: the spread of the linear predictor is below the unpenalised one's
    sd = {m.method: m.predict(rows, [12])["lp"].std() for m in (lasso, ridge, full)}
    assert sd["lasso"] < sd["full"] and sd["ridge"] < sd["full"]
    assert lasso.cv["chosen"].sum() == 1 and lasso.details["folds"] == 5
    with pytest.raises(ValueError, match="foldid"):
        fit_alternative("lasso", rows, cands, ep["time"], ep["event"])
    with pytest.raises(ValueError, match="unknown"):
        fit_alternative("bayes", rows, cands, ep["time"], ep["event"])


def test_splines_get_training_knots_in_the_full_and_shrunk_models(case):
    rows, cands, spec, ep = case
    exclude = spec["exclude_from_multivariable"]
    numeric = [c["name"] for c in cands if c.get("type", "numeric") == "numeric" and c["name"] not in exclude]
    name = max(numeric, key=lambda v: rows[v].nunique())  # the most continuous candidate
    spl = [{**c, "spline_knots": 3} if c["name"] == name else c for c in cands]
    model = fit_full_model(rows, spl, ep["time"], ep["event"], exclude=exclude)
    des = design_matrix(rows, resolve_knots(rows, [c for c in spl if c["name"] not in exclude]))
    assert f"{name}'" in model.columns and model.columns == des.columns
    fit = CoxData(rows[ep["time"]], rows[ep["event"]], des.X).fit()
    np.testing.assert_allclose(model.coef, fit.coef, rtol=1e-8)
    # the shrunk stepwise model puts rows on the stepwise fit's own knots
    dev = develop_model(rows, spl, "os", ep["time"], ep["event"], screen_p=1.0, exclude=exclude)
    ref = predict(dev, rows, spec["horizons"])
    same = shrink_coefficients(
        rows, spl, ep["time"], ep["event"], terms=dev.fit.names, coef=dev.fit.coef, shrinkage=1.0, knots=dev.knots
    )
    np.testing.assert_allclose(same.predict(rows, spec["horizons"]).to_numpy(), ref.to_numpy(), atol=1e-10)
