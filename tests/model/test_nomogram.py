"""crlmflow.model.nomogram against rms 6.5-0 ``nomogram()`` output stored in the R fixtures."""

from __future__ import annotations

import numpy as np
import pytest
from rref import CASES, TOL
from rref import load_case as _load

from crlmflow.model.nomogram import (
    DEFAULT_FUN_AT,
    nomogram_points,
    r_pretty,
    survival_axes,
    total_points,
)


def _case(ds: str, ep: str):
    """Coefficients (final coxph), predictor specs and rows for one endpoint."""
    fx, rows = _load(ds)
    e = fx["endpoints"][ep]
    cf = e["final"]["coefficients"]
    coefs = dict(zip(cf["term"], cf["coef"]))
    factor_levels = fx["data"]["factor_levels"]
    specs = []
    for name in e["rms"]["nomogram"]["predictors"]:
        if name in factor_levels:
            lev = factor_levels[name]
            specs.append({"name": name, "type": "factor", "levels": lev, "ref": lev[0], "label": name})
        else:
            kind = "binary" if set(rows[name].unique()) <= {0, 1} else "numeric"
            specs.append({"name": name, "type": kind, "label": name})
    return e, coefs, specs, rows


@pytest.fixture(scope="module", params=CASES, ids=[f"{d}-{e}" for d, e in CASES])
def case(request):
    e, coefs, specs, rows = _case(*request.param)
    return e, coefs, specs, rows, nomogram_points(coefs, specs, rows)


def test_points_tables(case):
    e, _, _, _, nomo = case
    ref = e["rms"]["nomogram"]["predictors"]
    assert list(nomo.predictors) == list(ref)
    for name, ax in nomo.predictors.items():
        assert list(ax.values) == ref[name]["values"], name
        np.testing.assert_allclose(ax.xbeta, ref[name]["xbeta"], rtol=0, atol=TOL)
        np.testing.assert_allclose(ax.points, ref[name]["points"], rtol=0, atol=TOL)
    # the widest predictor spans exactly 0..maxscale
    assert max(ax.points.max() - ax.points.min() for ax in nomo.predictors.values()) == pytest.approx(100)


def test_scale_constants(case):
    e, _, _, _, nomo = case
    ref = e["rms"]["nomogram"]
    assert nomo.points_per_unit_lp == pytest.approx(ref["points_per_unit_lp"], rel=TOL)
    assert nomo.lp_at_zero_points == pytest.approx(ref["lp_at_zero_points"], abs=TOL)
    assert nomo.center == pytest.approx(e["rms"]["cph_center"], abs=TOL)


def test_total_points_and_lp_axes(case):
    e, _, _, _, nomo = case
    ref = e["rms"]["nomogram"]
    np.testing.assert_allclose(nomo.total_points_axis, ref["total_points_axis"], rtol=0, atol=TOL)
    np.testing.assert_allclose(nomo.lp_axis_lp, ref["lp_axis"]["lp"], rtol=0, atol=TOL)
    np.testing.assert_allclose(nomo.lp_axis_points, ref["lp_axis"]["total_points"], rtol=0, atol=TOL)


def test_survival_axes_rms_grid(case):
    e, _, _, _, nomo = case
    ref = e["rms"]["nomogram"]["survival_axes"]
    b = e["baseline"]["at_horizons"]
    axes = survival_axes(nomo, dict(zip(b["horizon"], b["surv_at_sample_means"])))
    assert [f"surv_{h}" for h in axes] == list(ref)
    for h, ax in axes.items():
        r = ref[f"surv_{h}"]
        np.testing.assert_allclose(ax.surv, r["surv"], rtol=0, atol=TOL)
        np.testing.assert_allclose(ax.total_points, r["total_points"], rtol=0, atol=TOL)


def test_survival_axes_exact_inverse_close_to_rms(case):
    """The closed-form inverse is within rms's grid-interpolation error (lp units)."""
    e, _, _, _, nomo = case
    b = e["baseline"]["at_horizons"]
    s0 = dict(zip(b["horizon"], b["surv_at_sample_means"]))
    grid = survival_axes(nomo, s0, method="rms")
    exact = survival_axes(nomo, s0, method="exact")
    for h in s0:
        np.testing.assert_array_equal(grid[h].surv, exact[h].surv)
        np.testing.assert_allclose(exact[h].lp, grid[h].lp, rtol=0, atol=2e-5)
        # and the exact positions really give S = fun.at
        np.testing.assert_allclose(s0[h] ** np.exp(exact[h].lp), exact[h].surv, rtol=0, atol=1e-12)


def test_per_row_total_points(case):
    e, coefs, specs, rows, nomo = case
    tp = total_points(coefs, specs, rows)
    np.testing.assert_allclose(tp, e["per_row"]["nomogram_total_points"], rtol=0, atol=TOL)
    # the sum of per-predictor points read off the axes gives the same total
    np.testing.assert_allclose(nomo.lp_from_points(tp), e["per_row"]["lp"], rtol=0, atol=TOL)


def test_total_points_on_new_rows_use_given_scale(case):
    """Scoring a subset (e.g. a validation cohort) on the development nomogram."""
    e, coefs, specs, rows, nomo = case
    sub = rows.iloc[::7]
    tp = total_points(coefs, specs, sub, nomogram=nomo)
    np.testing.assert_allclose(tp, np.asarray(e["per_row"]["nomogram_total_points"])[::7], atol=TOL)


def test_points_table_frame(case):
    _, _, _, _, nomo = case
    tab = nomo.points_table()
    assert list(tab.columns) == ["predictor", "label", "value", "xbeta", "points"]
    assert len(tab) == sum(len(ax.values) for ax in nomo.predictors.values())


def test_default_fun_at_is_rms_request():
    fx, _ = _load("crlm_a")
    np.testing.assert_array_equal(DEFAULT_FUN_AT, fx["endpoints"]["os"]["rms"]["nomogram"]["fun_at_requested"])


@pytest.mark.parametrize(
    "x,n,expected",
    [
        ([0, 1], 5, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        ([1, 10], 5, [0, 2, 4, 6, 8, 10]),
        ([-0.07, 0.93], 10, [-0.1, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
        ([0, 100], 5, [0, 20, 40, 60, 80, 100]),
    ],
)
def test_r_pretty_known_values(x, n, expected):
    # values as printed by R 4.2 pretty()
    np.testing.assert_allclose(r_pretty(x, n), expected, atol=1e-12)


def test_invalid_inputs():
    _, coefs, specs, rows = _case("crlm_a", "os")
    with pytest.raises(KeyError):
        nomogram_points({k: v for k, v in list(coefs.items())[1:]}, specs, rows)
    with pytest.raises(ValueError):
        nomogram_points(coefs, [dict(specs[0], type="spline")] + specs[1:], rows)
