"""Decision curves at several horizons (paper Figures 2E/F and 3E/F) and net interventions avoided.

Net benefit of the model at each horizon t (solid) against treating everyone (dashed, same
colour) and no one (black), from ``decision_curves.csv``; a horizon that is not estimable
(too few events or patients at risk) is named in the legend instead of drawn, and the
model's curve has gaps where the high-risk group's follow-up ends before t, where its
Kaplan–Meier survival would be carried forward rather than estimated (Vickers' survival
decision curve: event = death/recurrence by t, risk = 1 - predicted survival at t).
Net interventions avoided per 100 patients, (NB_model - NB_all)(1 - pt)/pt x 100, is the
same comparison read as avoided unnecessary treatments (Vickers & Elkin 2006).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from crlmflow.report.formats import horizon_words, not_estimable_label, set_label
from crlmflow.report.plots.panels import panel_letter
from crlmflow.report.plots.style import (
    DOUBLE_COLUMN_IN,
    HORIZON_COLORS,
    OKABE_ITO,
    SINGLE_COLUMN_IN,
    new_figure,
    publication_style,
)

__all__ = ["draw_dca", "plot_dca", "dca_ylim", "dca_xlabel", "draw_nia", "plot_nia"]

#: a gap in the model's decision curve, explained once in the legend
GAP_NOTE = "Gaps: net benefit not estimable\n(high-risk group not followed to t)"


def dca_xlabel(event: str | None = None) -> str:
    """'Threshold probability of death by t' (the event of the endpoint; t is the horizon)."""
    return f"Threshold probability of {event or 'the event'} by t"


def _estimable(dca: pd.DataFrame) -> pd.DataFrame:
    return dca[dca["estimable"].astype(bool)] if "estimable" in dca else dca


def dca_ylim(dca: pd.DataFrame) -> tuple[float, float]:
    """Y range that fits the curves: from below zero by a third of the top (so 'treat all'
    is seen falling through 'treat none') to the largest net benefit of the model or of
    treating all over the estimable horizons, plus room for the legend above the curves."""
    d = _estimable(dca)
    top = float(np.nanmax(np.r_[d["net_benefit_model"].to_numpy(float), d["net_benefit_all"].to_numpy(float), 0.01]))
    top *= 1.45  # headroom: the legend sits above the curves
    return -top / 3, top


def _legend_tail() -> list[Line2D]:
    return [
        Line2D([], [], color="#555555", lw=1.2, label="Model"),
        Line2D([], [], color="#555555", lw=0.9, ls=(0, (4, 2)), label="Treat all"),
        Line2D([], [], color=OKABE_ITO["black"], lw=1.0, label="Treat none"),
    ]


def draw_dca(
    ax,
    dca: pd.DataFrame,
    *,
    horizons: Sequence[float] | None = None,
    title: str | None = None,
    colors: Sequence[str] | None = None,
    ylim: tuple[float, float] | None = None,
    xmax: float | None = None,
    event: str | None = None,
) -> None:
    """Decision curves of one set: columns horizon, threshold, net_benefit_model, net_benefit_all
    (and ``estimable``). ``event`` names the endpoint's event on the x axis."""
    horizons = list(horizons) if horizons is not None else sorted(dca["horizon"].unique())
    colors = list(colors or HORIZON_COLORS)
    ylim = ylim or dca_ylim(dca)
    handles, gaps = [], False
    for k, h in enumerate(horizons):
        sub = dca[np.isclose(dca["horizon"].astype(float), float(h))].sort_values("threshold")
        if sub.empty:
            continue
        if "estimable" in sub and not sub["estimable"].all():
            # too few events by h or patients at risk at h: say so instead of drawing it
            handles.append(Line2D([], [], ls="none", label=not_estimable_label(h)))
            continue
        col = colors[k % len(colors)]
        model = sub["net_benefit_model"].to_numpy(float)
        gaps |= bool(np.isnan(model).any())
        ax.plot(sub["threshold"], model, color=col, lw=1.2, zorder=3)
        ax.plot(sub["threshold"], sub["net_benefit_all"], color=col, lw=0.9, ls=(0, (4, 2)), zorder=2)
        handles.append(Line2D([], [], color=col, lw=1.2, label=f"t = {horizon_words(h)}"))
    # treat none on top of every curve, so it is never hidden under a model curve at 0
    ax.axhline(0, color=OKABE_ITO["black"], lw=1.0, zorder=4)
    ax.set_ylim(*ylim)
    ax.set_xlim(0, xmax if xmax is not None else float(dca["threshold"].max()))
    ax.set_xlabel(dca_xlabel(event))
    ax.set_ylabel("Net benefit")
    handles += _legend_tail()
    ax.legend(
        handles=handles,
        loc="upper right",
        frameon=False,
        handlelength=1.8,
        borderaxespad=0.2,
        ncol=2,
        columnspacing=0.8,
        fontsize=6.5,
    )
    if gaps:  # lower left is clear: every curve is high at low thresholds
        ax.text(
            0.02,
            0.03,
            GAP_NOTE,
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=6,
            color="0.3",
            zorder=5,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
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


def draw_nia(
    ax,
    dca: pd.DataFrame,
    *,
    horizons: Sequence[float] | None = None,
    title: str | None = None,
    colors: Sequence[str] | None = None,
    event: str | None = None,
) -> None:
    """Net interventions avoided per 100 patients against the threshold, one curve per
    estimable horizon (gaps where the net benefit is not estimable)."""
    horizons = list(horizons) if horizons is not None else sorted(dca["horizon"].unique())
    colors = list(colors or HORIZON_COLORS)
    values = []
    for k, h in enumerate(horizons):
        sub = dca[np.isclose(dca["horizon"].astype(float), float(h))].sort_values("threshold")
        if sub.empty:
            continue
        if "estimable" in sub and not sub["estimable"].all():
            ax.plot([], [], ls="none", label=not_estimable_label(h))
            continue
        v = sub["net_interventions_avoided_per100"].to_numpy(float)
        values.append(v)
        ax.plot(sub["threshold"], v, color=colors[k % len(colors)], lw=1.2, label=f"t = {horizon_words(h)}")
    ax.axhline(0, color=OKABE_ITO["black"], lw=0.9, zorder=1)
    allv = np.concatenate(values) if values else np.array([0.0])
    ok = np.isfinite(allv).any()
    lo, hi = (float(np.nanmin(allv)), float(np.nanmax(allv))) if ok else (0.0, 1.0)
    if lo < -25.0:  # the steep fall at the lowest thresholds would squash the rest: cut it
        lo = float(np.nanpercentile(allv, 2))
    lower, upper = max(min(lo, -5.0), -100.0), min(max(hi, 5.0), 100.0)
    # every point inside the frame (a dip to the lower limit is not cut), room for the legend on top
    ax.set_ylim(lower - 0.05 * (upper - lower), upper * 1.15)
    ax.set_xlim(float(dca["threshold"].min()), float(dca["threshold"].max()))
    ax.set_xlabel(dca_xlabel(event))
    ax.set_ylabel("Net interventions avoided\nper 100 patients")
    ax.legend(loc="upper left", frameon=False, handlelength=1.8, borderaxespad=0.2, fontsize=6.5)
    if title:
        ax.set_title(title, loc="left", fontsize=8)


def plot_nia(
    dca: pd.DataFrame,
    sets: Sequence[str],
    *,
    set_labels: dict | None = None,
    titles: dict | None = None,
    horizons: Sequence[float] | None = None,
    event: str | None = None,
    width: float = DOUBLE_COLUMN_IN,
) -> Figure:
    """Supplementary figure: net interventions avoided per 100 patients, one panel per set
    (``titles`` overrides a set's panel title, e.g. to say the training curve is apparent)."""
    n = len(sets)
    w = width if n > 1 else width * 0.55
    with publication_style():
        fig = new_figure(w, 3.0)
        gs = fig.add_gridspec(1, n, left=0.1 if n > 1 else 0.2, right=0.98, top=0.88, bottom=0.16, wspace=0.4)
        for j, s in enumerate(sets):
            ax = fig.add_subplot(gs[0, j])
            title = (titles or {}).get(s) or f"Net interventions avoided, {set_label(s, set_labels).lower()}"
            draw_nia(ax, dca[dca["set"] == s], horizons=horizons, title=title, event=event)
            panel_letter(ax, "ABCDEFGH"[j], x=-0.2, y=1.02)
    return fig
