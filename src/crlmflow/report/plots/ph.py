"""Proportional-hazards diagnostics: scaled Schoenfeld residuals over time per model term
(supplementary figure), as R's ``plot(cox.zph(fit))`` summarises them.

Drawn from the group-level summary of ``models/{ep}/ph_residuals.csv`` (deaths in time
order cut into groups of equal size; mean scaled residual with 95% CI per group), never
from individual patients' residuals. A flat run of means around the model's coefficient
(dashed) is what proportional hazards predict; the ``cox.zph`` score-test p of each term
(``ph_test.csv``) is in the panel title and the global one in the figure title.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from crlmflow.report.formats import p_statement
from crlmflow.report.plots.panels import panel_letter
from crlmflow.report.plots.style import DOUBLE_COLUMN_IN, OKABE_ITO, new_figure, publication_style

__all__ = ["plot_ph"]


def plot_ph(
    summary: pd.DataFrame,
    tests: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    ncols: int = 3,
    width: float = DOUBLE_COLUMN_IN,
) -> Figure:
    """One panel per model column: mean scaled Schoenfeld residual (β(t) estimate) with 95% CI
    per group of deaths against time, the fitted β̂ dashed, 0 dotted; ``tests`` has the
    ``term, p`` of ``cox.zph`` (a column's term is matched by name, else by prefix)."""
    labels = dict(labels or {})
    cols = list(dict.fromkeys(summary["column"]))
    pvals = dict(zip(tests["term"].astype(str), tests["p"].astype(float)))
    n = max(len(cols), 1)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    with publication_style():
        fig = new_figure(width, 0.6 + 2.2 * nrows)
        gs = fig.add_gridspec(
            nrows, ncols, left=0.1, right=0.98, top=1 - 0.62 / fig.get_figheight(), bottom=0.42 / fig.get_figheight()
        )
        gs.update(wspace=0.5, hspace=0.85)
        for k, col in enumerate(cols):
            ax = fig.add_subplot(gs[k // ncols, k % ncols])
            d = summary[summary["column"] == col].sort_values("bin")
            x = d["time_median"].to_numpy(float)
            ax.errorbar(
                x,
                d["mean"],
                yerr=[d["mean"] - d["lower"], d["upper"] - d["mean"]],
                fmt="o",
                ms=3,
                lw=0.9,
                capsize=2,
                color=OKABE_ITO["blue"],
            )
            ax.axhline(float(d["coef"].iloc[0]), color=OKABE_ITO["vermillion"], lw=1.0, ls=(0, (4, 2)))
            ax.axhline(0.0, color="0.5", lw=0.7, ls=":")
            term = next((t for t in pvals if t == col), None) or next((t for t in pvals if col.startswith(t)), None)
            ptxt = p_statement(pvals.get(term), label="p") if term else ""
            name = labels.get(col) or labels.get(term or "", col)
            if col not in labels and term and col != term and term in labels:  # a factor's level: say which
                name = f"{labels[term]}: {col[len(term) :]}"
            head = textwrap.fill(str(name), width=26)
            ax.set_title(head + (f"\ncox.zph {ptxt}" if ptxt else ""), loc="left", fontsize=7.5)
            ax.set_xlabel("Time (months)")
            ax.set_ylabel("\u03b2(t): scaled Schoenfeld\nresidual, mean (95% CI)")
            panel_letter(ax, "ABCDEFGHIJKLMNOP"[k], x=-0.38, y=1.12, fontsize=10)
        _keep_left_column_inside(fig, gs)
        glob = pvals.get("GLOBAL")
        if title or glob is not None:
            head = title or ""
            if glob is not None:
                head += ("; " if head else "") + f"global test {p_statement(glob, label='p')}"
            fig.text(0.01, 0.995, head, ha="left", va="top", fontsize=8.5, fontweight="bold")
    return fig


def _keep_left_column_inside(fig: Figure, gs) -> None:
    """Widen the left margin until the first column's letters, y labels and tick labels
    (wide ticks such as -0.04 push the label out) start inside the figure."""
    fig.canvas.draw()  # the tick labels exist only once drawn
    renderer = fig.canvas.get_renderer()
    x0 = min(ax.get_tightbbox(renderer).x0 for ax in fig.axes)
    margin = 0.01 * fig.bbox.width
    if x0 < margin:
        gs.update(left=gs.left + (margin - x0) / fig.bbox.width)
        for ax in fig.axes:
            ax.set_position(ax.get_subplotspec().get_position(fig))
