"""A spline candidate in the paper's procedure: screened on the joint Wald test of its k − 1
columns, entered and removed as one term, its knots placed on the training data and kept."""

from __future__ import annotations

import numpy as np
import pytest
from rref import read_json, rows

from crlmflow.model.modelling import develop_model, fit_summary, model_matrix_from_fit, predict
from crlmflow.survival.splines import rcs_basis

REF = read_json("splines/splines.json")
CANDIDATES = [
    {"name": "age", "type": "numeric", "spline_knots": 5},
    {"name": "bmi", "type": "numeric", "spline_knots": 4},
    {"name": "r0_resection", "type": "binary"},
    {"name": "ca19_9", "type": "numeric"},
    {"name": "crs_score", "type": "numeric"},
]


@pytest.fixture(scope="module", params=["forward_lr", "stepaic_both"])
def model(request):
    data = rows("crlm_a")
    return data, develop_model(data, CANDIDATES, "os", "os_months", "os_event", screen_p=0.5, method=request.param)


def test_univariable_screening_uses_the_joint_wald_test(model):
    _, dev = model
    age = dev.univariable[dev.univariable["variable"] == "age"]
    assert age["term"].tolist() == ["age", "age'", "age''", "age'''"]
    assert set(age["df_term"]) == {4}
    assert dev.knots["age"] == pytest.approx(REF["model"]["knots"]["age"])


def test_a_spline_enters_and_leaves_as_one_term(model):
    _, dev = model
    multi = dev.multivariable
    for var in ("age", "bmi"):
        sel = multi.loc[multi["variable"] == var, "selected"]
        assert sel.nunique() == 1  # all its columns or none
        if sel.iloc[0]:
            assert multi.loc[multi["variable"] == var, "coef"].notna().all()
    path = dev.selection.path
    if "df" in path and "variable" in path:
        for var, k in (("age", 4), ("bmi", 3)):
            assert set(path.loc[path["variable"] == var, "df"].dropna()) <= {k}
    assert multi.attrs["candidate_parameters"] == 4 + 3 + 1 + 1 + 1


def test_stepaic_removes_a_spline_with_all_its_degrees_of_freedom(model):
    _, dev = model
    path = dev.selection.path
    if "resid_df" in path:  # stepAIC's anova table: "- age" drops 4 parameters at once
        assert path.loc[path["step"] == "- age", "df"].tolist() == [4.0]


def test_new_rows_are_scored_on_the_training_knots():
    data = rows("crlm_a")
    train, new = data.head(300), data.tail(89)
    dev = develop_model(
        train,
        CANDIDATES[:1] + CANDIDATES[-1:],
        "os",
        "os_months",
        "os_event",
        screen_p=1.0,
        entry_p=1.0,
        removal_p=1.0,
        method="forward_lr",
        entry_test="lr",
    )
    assert "age" in dev.selected
    summary = fit_summary(dev, [12, 36, 60])
    knots = summary["knots"]["age"]
    assert knots != pytest.approx(REF["model"]["knots"]["age"])  # placed on these 300 rows
    X = model_matrix_from_fit(summary, CANDIDATES, new)
    cols = [summary["terms"].index(t) for t in ("age", "age'", "age''", "age'''")]
    np.testing.assert_array_equal(X[:, cols], rcs_basis(new["age"], knots))
    pred = predict(dev, new, [12])
    np.testing.assert_allclose(pred["lp"], X @ np.array(summary["coef"]) - summary["center_lp"], atol=1e-12)
