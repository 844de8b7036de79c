"""Partial-effect plots: log relative hazard against each continuous predictor with its 95%
pointwise band, as rms's ``ggplot(Predict(fit))`` draws them (Harrell, Regression Modeling
Strategies, 2nd ed., sec. 5.1.2), one panel per predictor, titled with the predictor's
Wald test and, for a spline, its test of non-linearity (rms ``anova``).

No rug of the data: a rug would show single patients' values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd
from matplotlib.figure import Figure

from crlmflow.report.formats import p_statement
from crlmflow.report.plots.style import OKABE_ITO, new_figure, publication_style

__all__ = ["plot_partial_effects"]


def _panel_title(name: str, label: str, anova: pd.DataFrame | None) -> str:
    if anova is None or anova.empty:
        return label
    rows = anova[anova["predictor"] == name]
    tests = []
    for part, what in (("all", "overall"), ("nonlinear", "non-linear")):
        r = rows[rows["part"] == part]
        if len(r):
            r = r.iloc[0]
            tests.append(f"{what} \u03c7\u00b2 = {r['chisq']:.2f} ({int(r['df'])} df), {p_statement(r['p'])}")
    return "\n".join([label, *tests])


def plot_partial_effects(
    effects: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    anova: pd.DataFrame | None = None,
    title: str = "",
    ncol: int = 3,
) -> Figure:
    """Grid of partial-effect panels from ``crlmflow.model.nonlinear.partial_effects`` output
    (columns variable, x, yhat, lower, upper); ``labels`` maps a variable to its axis label
    (with unit), ``anova`` is ``model_anova`` output for the panel titles."""
    labels = dict(labels or {})
    names = list(dict.fromkeys(effects["variable"])) if len(effects) else []
    n = max(len(names), 1)
    ncol = min(ncol, n)
    nrow = math.ceil(n / ncol)
    with publication_style():
        fig = new_figure(3.0 * ncol, 2.7 * nrow + (0.4 if title else 0))
        if not names:
            ax = fig.add_subplot(1, 1, 1)
            ax.axis("off")
            ax.text(0.5, 0.5, "No continuous predictor in the model", ha="center", va="center")
        for i, name in enumerate(names):
            d = effects[effects["variable"] == name]
            ax = fig.add_subplot(nrow, ncol, i + 1)
            ax.fill_between(d["x"], d["lower"], d["upper"], color=OKABE_ITO["blue"], alpha=0.25, linewidth=0)
            ax.plot(d["x"], d["yhat"], color=OKABE_ITO["blue"], linewidth=1.4)
            ax.axhline(0.0, color="0.5", linewidth=0.6, linestyle=":")
            ax.set_xlabel(labels.get(name, name))
            ax.set_ylabel("log relative hazard")
            ax.set_title(_panel_title(name, labels.get(name, name), anova), fontsize=7.5)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
    return fig
