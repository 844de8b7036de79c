"""Decision curves at several horizons (paper Figures 2E/F and 3E/F).

Net benefit of the model at each horizon (solid) against treating everyone (dashed, same
colour) and no one (black), from ``decision_curves.csv``; a horizon that is not estimable
(too few events or patients at risk) is named in the legend instead of drawn, and the
model's curve has gaps where the high-risk group's follow-up ends before the horizon (Vickers' survival decision curve:
event = death/recurrence before the horizon, risk = 1 - predicted survival).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from crlmflow.report.formats import horizon_label, not_estimable_label
from crlmflow.report.plots.panels import panel_letter
from crlmflow.report.plots.style import HORIZON_COLORS, OKABE_ITO, SINGLE_COLUMN_IN, new_figure, publication_style

__all__ = ["draw_dca", "plot_dca", "dca_ylim"]


def dca_ylim(dca: pd.DataFrame) -> tuple[float, float]:
    """Y range showing the model and treat-all curves where they matter: from a little below
    zero (treat-all plunges to -inf at high thresholds) to just above the largest net benefit."""
    top = float(
        np.nanmax(np.r_[dca["net_benefit_model"].to_numpy(float), dca["net_benefit_all"].to_numpy(float), 0.01])
    )
    top = top * 1.45  # headroom: the legend sits above the curves
    return -0.25 * top if top > 0 else -0.05, top


def draw_dca(
    ax,
    dca: pd.DataFrame,
    *,
    horizons: Sequence[float] | None = None,
    title: str | None = None,
    colors: Sequence[str] | None = None,
    ylim: tuple[float, float] | None = None,
    xmax: float | None = None,
) -> None:
    """Decision curves of one set: columns horizon, threshold, net_benefit_model, net_benefit_all."""
    horizons = list(horizons) if horizons is not None else sorted(dca["horizon"].unique())
    colors = list(colors or HORIZON_COLORS)
    ylim = ylim or dca_ylim(dca)
    handles = []
    for k, h in enumerate(horizons):
        sub = dca[np.isclose(dca["horizon"].astype(float), float(h))].sort_values("threshold")
        if sub.empty:
            continue
        if "estimable" in sub and not sub["estimable"].all():
            # too few events by h or patients at risk at h: say so instead of drawing it
            handles.append(Line2D([], [], ls="none", label=not_estimable_label(h)))
            continue
        col = colors[k % len(colors)]
        ax.plot(sub["threshold"], sub["net_benefit_model"], color=col, lw=1.2, zorder=3)
        ax.plot(sub["threshold"], sub["net_benefit_all"], color=col, lw=0.9, ls=(0, (4, 2)), zorder=2)
        handles.append(Line2D([], [], color=col, lw=1.2, label=horizon_label(h)))
    ax.axhline(0, color=OKABE_ITO["black"], lw=0.9, zorder=2)
    ax.set_ylim(*ylim)
    ax.set_xlim(0, xmax if xmax is not None else float(dca["threshold"].max()))
    ax.set_xlabel("Threshold probability")
    ax.set_ylabel("Net benefit")
    handles += [
        Line2D([], [], color="#555555", lw=1.2, label="Model"),
        Line2D([], [], color="#555555", lw=0.9, ls=(0, (4, 2)), label="Treat all"),
        Line2D([], [], color=OKABE_ITO["black"], lw=0.9, label="Treat none"),
    ]
    ax.legend(
        handles=handles,
        loc="upper right",
        frameon=False,
        handlelength=1.8,
        borderaxespad=0.2,
        ncol=2,
        columnspacing=0.8,
    )
    if title:
        ax.set_title(title, loc="left", fontsize=8)


def plot_dca(
    dca: pd.DataFrame, *, title: str | None = None, letter: str | None = None, width: float = SINGLE_COLUMN_IN, **kw
) -> Figure:
    """Single-panel decision-curve figure."""
    with publication_style():
        fig = new_figure(width, width * 0.8)
        ax = fig.add_axes((0.17, 0.15, 0.79, 0.74))
        draw_dca(ax, dca, title=title, **kw)
        if letter:
            panel_letter(ax, letter, x=-0.2, y=1.02)
    return fig
