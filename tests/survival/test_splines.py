"""Restricted cubic splines against Hmisc's rcspline.eval (tests/fixtures/r_reference/splines)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from rref import read_json, rows

from crlmflow.survival.design import Candidate, design_matrix, resolve_knots, with_knots
from crlmflow.survival.splines import rcs_basis, rcs_knots, rcs_names

REF = read_json("splines/splines.json")
DATA = rows("crlm_a")


@pytest.mark.parametrize("case", REF["knots"], ids=lambda k: f"{k['var']}-{k['nk']}-{k['rows']}")
def test_default_knots_match_hmisc(case):
    x = DATA[case["var"]].to_numpy(float)
    if case["rows"] == "first60":
        x = x[:60]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if case["error"]:
            with pytest.raises(ValueError, match=case["var"]):
                rcs_knots(x, case["nk"], name=case["var"])
            return
        knots = rcs_knots(x, case["nk"], name=case["var"])
    np.testing.assert_allclose(knots, case["knots"], rtol=1e-12)
    assert bool(caught) == case["warning"]


def test_basis_matches_rcspline_eval():
    b = REF["basis"]
    np.testing.assert_allclose(rcs_knots(DATA["age"], 5), b["knots"], rtol=1e-12)
    got = rcs_basis(b["x"], b["knots"])
    np.testing.assert_allclose(got, np.asarray(b["columns"]), rtol=1e-10, atol=1e-12)


def test_basis_is_linear_beyond_the_outer_knots():
    knots = [1.0, 2.0, 4.0, 7.0]
    x = np.array([8.0, 9.0, 10.0, -3.0, -2.0, -1.0])
    B = rcs_basis(x, knots)
    np.testing.assert_allclose(np.diff(B[:3], n=2, axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(B[3:, 1:], 0)  # zero below the first knot


def test_knot_counts_outside_rms_defaults_are_refused():
    with pytest.raises(ValueError, match="3 to 7"):
        rcs_knots(np.arange(100.0), 8, name="age")


def test_design_spline_columns_and_names():
    cand = resolve_knots(DATA, [{"name": "bmi", "type": "numeric", "spline_knots": 4}])[0]
    assert cand.knots == tuple(REF["model"]["knots"]["bmi"])
    des = design_matrix(DATA, [cand])
    assert des.columns == rcs_names("bmi", 4) == ["bmi", "bmi'", "bmi''"]
    assert des.groups == {"bmi": [0, 1, 2]}
    np.testing.assert_array_equal(des.X, rcs_basis(DATA["bmi"], cand.knots))


def test_new_rows_use_the_stored_knots_not_their_own():
    cand = resolve_knots(DATA, [{"name": "bmi", "type": "numeric", "spline_knots": 4}])[0]
    new = pd.DataFrame({"bmi": [18.0, 35.0, 22.0, 25.0, 30.0, 31.0, 16.5]})
    spec = with_knots([{"name": "bmi", "type": "numeric", "spline_knots": 4}], {"bmi": list(cand.knots)})
    np.testing.assert_array_equal(design_matrix(new, spec).X, rcs_basis(new["bmi"], cand.knots))
    with pytest.raises(ValueError, match="knots not placed"):
        design_matrix(new, [Candidate("bmi", "numeric", spline_knots=4)])


def test_spline_of_a_factor_or_binary_is_refused():
    with pytest.raises(ValueError, match="numeric candidate"):
        design_matrix(DATA, [{"name": "rfa", "type": "binary", "spline_knots": 3}])
