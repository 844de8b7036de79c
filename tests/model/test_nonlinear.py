"""Splines in the Cox model, rms anova and Predict against R (tests/fixtures/r_reference/splines).

R's cph ran with eps = 1e-9 (at the optimum), so coefficients match to 1e-6 relative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rref import read_json, rows

from crlmflow.model.nonlinear import (
    adjust_to,
    default_grid,
    interquartile_effects,
    model_anova,
    model_candidates,
    partial_effect,
    with_spline_effects,
)
from crlmflow.survival.design import spline_knots_of
from crlmflow.survival.selection import prepare

REF = read_json("splines/splines.json")
CANDIDATES = [
    {"name": "age", "type": "numeric", "spline_knots": 5},
    {"name": "bmi", "type": "numeric", "spline_knots": 4},
    {"name": "r0_resection", "type": "binary"},
    {"name": "asa", "type": "factor", "levels": [2, 1, 3], "ref": 2},
    {"name": "ca19_9", "type": "numeric"},
    {"name": "crs_score", "type": "numeric"},
]
TERMS = [c["name"] for c in CANDIDATES]


def r_name(term: str) -> str:
    return {"asa1": "asa=1", "asa3": "asa=3"}.get(term, term)


@pytest.fixture(scope="module")
def fitted():
    data = rows("crlm_a")
    problem = prepare(data, CANDIDATES, "os_months", "os_event")
    fit = problem.fit(TERMS)
    summary = {
        "selected": TERMS,
        "terms": list(fit.names),
        "coef": fit.coef.tolist(),
        "var": fit.var.tolist(),
        "means": fit.means.tolist(),
        "knots": spline_knots_of(problem.design.candidates),
    }
    return data, fit, summary


def test_spline_cox_fit_matches_cph(fitted):
    _, fit, summary = fitted
    m = REF["model"]
    assert [r_name(t) for t in fit.names] == m["coef_names"]
    assert summary["knots"] == {k: pytest.approx(v, rel=1e-12) for k, v in m["knots"].items()}
    np.testing.assert_allclose(fit.coef, m["coef"], rtol=1e-6)
    np.testing.assert_allclose(fit.var, np.asarray(m["var"]), rtol=1e-6)
    assert fit.loglik == pytest.approx(m["loglik"][1], rel=1e-9)
    assert float(fit.means @ fit.coef) == pytest.approx(m["center"], rel=1e-6)


def test_anova_matches_rms(fitted):
    _, _, summary = fitted
    got = model_anova(summary, CANDIDATES)
    ref = REF["anova"]
    assert got["row"].tolist() == ref["rows"]
    assert got["df"].tolist() == ref["df"]
    np.testing.assert_allclose(got["chisq"], ref["chisq"], rtol=1e-6)
    np.testing.assert_allclose(got["p"], ref["p"], atol=1e-6)
    assert got.loc[got["row"] == " Nonlinear", "predictor"].tolist() == ["age", "bmi"]


def test_anova_of_a_linear_model_has_no_nonlinear_rows(fitted):
    data, _, _ = fitted
    lin = [c for c in CANDIDATES if "spline_knots" not in c]
    fit = prepare(data, lin, "os_months", "os_event").fit([c["name"] for c in lin])
    summary = {"selected": [c["name"] for c in lin], "terms": fit.names, "coef": fit.coef, "var": fit.var}
    got = model_anova(summary, lin)
    assert got["row"].tolist() == ["r0_resection", "asa", "ca19_9", "crs_score", "TOTAL"]
    # a single coefficient's Wald chi-square is z squared
    z = fit.coef[0] / fit.se[0]
    assert got["chisq"].iloc[0] == pytest.approx(z**2, rel=1e-12)


def test_adjust_to_values_are_datadists(fitted):
    data, _, summary = fitted
    adj = adjust_to(data, model_candidates(summary, CANDIDATES))
    ref = REF["adjust_to"]
    assert adj["asa"] == int(ref.pop("asa"))
    for k, v in ref.items():
        assert adj[k] == pytest.approx(v, rel=1e-12), k


@pytest.mark.parametrize("var", ["age", "bmi"])
def test_partial_effect_matches_predict(fitted, var):
    data, _, summary = fitted
    ref = REF["predict"][var]
    got = partial_effect(summary, CANDIDATES, data, var, grid=ref["x"])
    np.testing.assert_allclose(got["yhat"], ref["yhat"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got["lower"], ref["lower"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got["upper"], ref["upper"], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("var", ["age", "bmi"])
def test_default_grid_and_predict_match_rms(fitted, var):
    data, _, summary = fitted
    ref = REF["predict_default"][var]
    np.testing.assert_allclose(default_grid(data[var]), ref["x"], rtol=1e-12)
    got = partial_effect(summary, CANDIDATES, data, var)
    np.testing.assert_allclose(got["yhat"], ref["yhat"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got["upper"], ref["upper"], rtol=1e-6, atol=1e-8)


def test_partial_effect_of_a_factor_is_refused(fitted):
    data, _, summary = fitted
    with pytest.raises(ValueError, match="numeric predictor"):
        partial_effect(summary, CANDIDATES, data, "asa")


def test_interquartile_effects_match_rms_summary(fitted):
    data, _, summary = fitted
    got = interquartile_effects(summary, CANDIDATES, data).set_index("variable")
    assert list(got.index) == ["age", "bmi"]
    for var, ref in REF["summary"].items():
        row = got.loc[var]
        assert (row["low"], row["high"]) == pytest.approx((ref["low"], ref["high"]), rel=1e-12)
        assert np.log(row["hr"]) == pytest.approx(ref["effect"], rel=1e-6)
        assert np.log(row["hr_lower"]) == pytest.approx(ref["lower"], rel=1e-6)
        assert np.log(row["hr_upper"]) == pytest.approx(ref["upper"], rel=1e-6)


def test_forest_rows_of_a_spline_become_its_interquartile_effect(fitted):
    data, _, summary = fitted
    forest = pd.DataFrame(
        {"term": summary["terms"], "label": summary["terms"], "hr": 1.0, "hr_lower": 0.5, "hr_upper": 2.0, "p": 0.5}
    )
    out = with_spline_effects(forest, summary, CANDIDATES, data)
    assert out["term"].tolist() == ["age", "bmi", "r0_resection", "asa1", "asa3", "ca19_9", "crs_score"]
    age = out.iloc[0]
    assert "Q3 vs Q1" in age["label"] and age["p"] == pytest.approx(REF["anova"]["p"][0], abs=1e-6)
    no_splines = {k: v for k, v in summary.items() if k != "knots"}
    assert with_spline_effects(forest, no_splines, CANDIDATES, data) is forest
