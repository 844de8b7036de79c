"""Figures of a spline model: the nomogram's non-monotone axis (labels split into runs above
and below the line, as rms's plot.nomogram) and the partial-effect panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rref import read_json, rows

from crlmflow.model.nomogram import nomogram_points
from crlmflow.report.plots import plot_nomogram, plot_partial_effects

REF = read_json("splines/splines.json")
KNOTS = REF["model"]["knots"]
SPECS = [
    {"name": "age", "type": "numeric", "knots": KNOTS["age"]},
    {"name": "bmi", "type": "numeric", "knots": KNOTS["bmi"]},
    {"name": "r0_resection", "type": "binary"},
    {"name": "asa", "type": "factor", "levels": [2, 1, 3], "ref": 2},
    {"name": "ca19_9", "type": "numeric"},
    {"name": "crs_score", "type": "numeric"},
]
COEFS = {n.replace("=", ""): b for n, b in zip(REF["model"]["coef_names"], REF["model"]["coef"])}


def _row_texts(fig, y_row: float) -> tuple[list[str], list[str]]:
    ax = fig.axes[0]
    above = [t.get_text() for t in ax.texts if 0 < t.get_position()[1] - y_row < 0.3]
    below = [t.get_text() for t in ax.texts if 0 < y_row - t.get_position()[1] < 0.3]
    return above, below


def test_spline_axis_labels_run_on_both_sides():
    nomo = nomogram_points(COEFS, SPECS, rows("crlm_a"))
    fig = plot_nomogram(nomo)
    above, below = _row_texts(fig, -1.0)  # row 0 = Points, row 1 = age
    sides = nomo.predictors["age"].label_sides()
    values = [f"{v:g}" for v in nomo.predictors["age"].values]
    assert set(above) <= {v for v, s in zip(values, sides) if s == 0}
    assert set(below) <= {v for v, s in zip(values, sides) if s == 1}
    assert above and below
    # a monotone axis (ca19_9, row 5) keeps every label above its line
    _, below_ca = _row_texts(fig, -5.0)
    assert not set(below_ca) & {f"{v:g}" for v in nomo.predictors["ca19_9"].values}


def test_partial_effect_panels_titles_and_bands():
    x = np.linspace(30, 80, 5)
    eff = pd.DataFrame({"variable": "age", "x": x, "yhat": 0.01 * x, "lower": 0.01 * x - 0.1, "upper": 0.01 * x + 0.1})
    anova = pd.DataFrame(
        [("age", "age", "all", 5.2, 4, 0.27), (" Nonlinear", "age", "nonlinear", 4.1, 3, 0.25)],
        columns=["row", "predictor", "part", "chisq", "df", "p"],
    )
    fig = plot_partial_effects(eff, labels={"age": "Age, years"}, anova=anova)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Age, years"
    assert "non-linear" in ax.get_title() and "(3 df)" in ax.get_title()
    np.testing.assert_allclose(ax.lines[0].get_ydata(), eff["yhat"])
    empty = plot_partial_effects(eff.iloc[0:0])
    assert "No continuous predictor" in empty.axes[0].texts[0].get_text()
