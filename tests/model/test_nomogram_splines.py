"""The nomogram, model file and scoring of a model with spline terms, against rms 6.5-0
(``nomogram(cph with rcs(age, 5) + rcs(bmi, 4) + ...)``, tests/fixtures/r_reference/splines)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rref import read_json, rows

from crlmflow.model.modelfile import build_model_file, nomogram_json, score_patients
from crlmflow.model.nomogram import PredictorAxis, nomogram_points, survival_axes
from crlmflow.report.formats import horizon_key
from crlmflow.survival.design import design_matrix
from crlmflow.survival.splines import rcs_knots

REF = read_json("splines/splines.json")
KNOTS = REF["model"]["knots"]
SPECS = [
    {"name": "age", "type": "numeric", "spline_knots": 5, "knots": KNOTS["age"]},
    {"name": "bmi", "type": "numeric", "spline_knots": 4, "knots": KNOTS["bmi"]},
    {"name": "r0_resection", "type": "binary"},
    {"name": "asa", "type": "factor", "levels": [2, 1, 3], "ref": 2},
    {"name": "ca19_9", "type": "numeric"},
    {"name": "crs_score", "type": "numeric"},
]
COEFS = {n.replace("=", ""): b for n, b in zip(REF["model"]["coef_names"], REF["model"]["coef"])}


@pytest.fixture(scope="module")
def nomo():
    return nomogram_points(COEFS, SPECS, rows("crlm_a"))


def test_points_scale_matches_rms(nomo):
    ref = REF["nomogram"]
    assert nomo.points_per_unit_lp == pytest.approx(ref["points_per_unit_lp"], rel=1e-6)
    assert nomo.lp_at_zero_points == pytest.approx(ref["lp_at_zero_points"], rel=1e-6)
    np.testing.assert_allclose(nomo.total_points_axis, ref["total_points_axis"], rtol=1e-9)
    np.testing.assert_allclose(nomo.lp_axis_lp, ref["lp_axis"], rtol=1e-9, atol=1e-12)
    for name, r in ref["predictors"].items():
        ax = nomo.predictors[name]
        assert [float(v) for v in ax.values] == pytest.approx([float(v) for v in r["values"]]), name
        np.testing.assert_allclose(ax.points, r["points"], rtol=1e-6, atol=1e-6, err_msg=name)


def test_spline_axis_is_non_monotone_and_split_as_rms_draws_it(nomo):
    age = nomo.predictors["age"]
    pts = np.asarray(age.points)
    assert np.any(np.diff(pts) > 0) and np.any(np.diff(pts) < 0)
    sides = age.label_sides()
    # rms plot.nomogram: a new run on the other side starts after each turning point
    assert sides.tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1]
    assert nomo.predictors["ca19_9"].label_sides().tolist() == [0] * len(nomo.predictors["ca19_9"].values)
    flat = PredictorAxis("x", "x", "numeric", None, [1, 2, 3], np.zeros(3), np.array([0.0, 5.0, 5.0]))
    assert flat.label_sides().tolist() == [0, 0, 1]  # rms counts a flat step as decreasing


def test_survival_axes_match_rms(nomo):
    ref = REF["nomogram"]
    s0 = dict(zip(map(float, ref["horizons"]), ref["surv_at_lp0"]))
    axes = survival_axes(nomo, s0)
    for h, r in zip(ref["horizons"], ref["survival_axes"]):
        got = axes[float(h)]
        np.testing.assert_allclose(got.surv, r["fat"])
        np.testing.assert_allclose(got.total_points, r["x"], rtol=1e-6, atol=1e-6)


def test_model_file_and_score_carry_the_spline(nomo):
    data = rows("crlm_a")
    terms = list(COEFS)
    des = design_matrix(data, SPECS)
    means = des.X.mean(axis=0)
    beta = np.array([COEFS[t] for t in des.columns])
    horizons = REF["nomogram"]["horizons"]
    fit = {
        "selected": [s["name"] for s in SPECS],
        "terms": terms,
        "coef": [COEFS[t] for t in terms],
        "means": means.tolist(),
        "center_lp": float(means @ beta),
        "knots": KNOTS,
        "n": len(data),
        "events": int(data["os_event"].sum()),
        "baseline_survival_at_means": dict(zip(map(horizon_key, horizons), REF["nomogram"]["surv_at_lp0"])),
        "baseline_cumhaz": {"time": [], "cumhaz": [], "type": "efron"},
    }
    s0 = dict(zip(map(float, horizons), REF["nomogram"]["surv_at_lp0"]))
    config_cands = [{k: v for k, v in s.items() if k != "knots"} for s in SPECS]  # knots come from the fit
    model = build_model_file(
        endpoint="os",
        endpoint_label="OS",
        fit=fit,
        nomogram=nomogram_json(nomo, survival_axes(nomo, s0)),
        cutpoint=None,
        candidates=config_cands,
        train=data,
        horizons=horizons,
        data_sha256="x",
        config_sha256="y",
        synthetic=True,
    )
    age = next(v for v in model["variables"] if v["name"] == "age")
    assert age["knots"] == KNOTS["age"]
    new = data.head(20).copy()
    new["asa"] = new["asa"].astype(str)
    scored = score_patients(model, new)
    lp = design_matrix(data.head(20), SPECS).X @ beta - fit["center_lp"]
    np.testing.assert_allclose(scored["lp"], lp, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scored["total_points"], nomo.points_from_lp(lp), rtol=1e-9, atol=1e-9)


def test_extras_spline_nomogram_and_predict_from_rs_coefficients():
    """The shared reference's spline model (rcs(bmi, 4), cph at its loosened default eps):
    knots, the nomogram points and Predict's ŷ from R's own coefficients."""
    ext = read_json("crlm_a_extras.json")["spline"]
    data = rows("crlm_a")
    np.testing.assert_allclose(rcs_knots(data["bmi"], 4), ext["knots"], rtol=1e-12)
    coefs = dict(zip(ext["coef_names"], ext["coef"]))
    others = [t for t in ext["nomogram"]["predictors"] if t != "bmi"]
    specs = [{"name": "bmi", "type": "numeric", "knots": ext["knots"]}]
    specs += [{"name": t, "type": "binary" if set(data[t].unique()) <= {0, 1} else "numeric"} for t in others]
    nomo = nomogram_points(coefs, specs, data)
    ref = ext["nomogram"]
    assert nomo.points_per_unit_lp == pytest.approx(ref["points_per_unit_lp"], rel=1e-9)
    assert nomo.lp_at_zero_points == pytest.approx(ref["lp_at_zero_points"], rel=1e-9)
    for name, r in ref["predictors"].items():
        np.testing.assert_allclose(nomo.predictors[name].points, r["points"], rtol=1e-9, atol=1e-9, err_msg=name)
    # Predict's yhat = (x - adjust) design centred at the means, with R's coefficients
    grid = pd.DataFrame({t: ext["adjust_to"].get(t, 0.0) for t in others}, index=range(len(ext["predict"]["x"])))
    grid["bmi"] = ext["predict"]["x"]
    X = design_matrix(grid, specs).X
    means = design_matrix(data, specs).X.mean(axis=0)
    beta = np.array([coefs[t] for t in design_matrix(grid, specs).columns])
    np.testing.assert_allclose((X - means) @ beta, ext["predict"]["yhat"], rtol=1e-9, atol=1e-12)
