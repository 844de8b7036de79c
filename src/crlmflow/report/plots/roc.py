"""Time-dependent ROC curves at several horizons (paper Figures 2C/D and 3C/D).

Draws the ``roc_curves.csv`` points of the validation rule (Heagerty's KM-based
time-dependent ROC, as survivalROC) per horizon. The legend gives, per horizon, the number
of events by then behind the curve, the curve's AUC and, when given, the inverse-probability-
of-censoring weighted AUC with its 95% CI (Uno/Blanche, timeROC's influence-function SE):
the KM estimator has no standard error, so its uncertainty is shown through the IPCW one.
Horizons whose curves coincide (no event and no censoring between them) are named as such,
not hidden under each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from crlmflow.report.formats import horizon_label, not_estimable_label
from crlmflow.report.plots.panels import panel_letter
from crlmflow.report.plots.style import HORIZON_COLORS, SINGLE_COLUMN_IN, new_figure, publication_style

__all__ = ["MAX_CURVE_POINTS", "thin_curve", "draw_roc", "plot_roc", "roc_legend_label"]


#: a curve with more vertices than this is drawn through a subset (registry-sized cohorts
#: have one ROC point per patient; 2,000 vertices are far below the printed resolution)
MAX_CURVE_POINTS = 2000


def thin_curve(pts: np.ndarray, max_points: int = MAX_CURVE_POINTS) -> np.ndarray:
    """Keep at most about ``max_points`` vertices of a sorted curve: the vertices where the
    curve crosses a grid of 1/max_points in either coordinate (first and last kept), so no
    visible step is lost.  Curves with fewer points are returned unchanged."""
    if pts.shape[0] <= max_points:
        return pts
    cell = np.floor(pts * (max_points / 2)).astype(np.int64)
    key = cell[:, 0] * (max_points + 1) + cell[:, 1]
    keep = np.ones(pts.shape[0], dtype=bool)
    keep[1:] = key[1:] != key[:-1]
    keep[-1] = True
    return pts[keep]


def draw_roc(
    ax,
    roc: pd.DataFrame,
    aucs: Mapping[float, float] | None = None,
    *,
    horizons: Sequence[float] | None = None,
    title: str | None = None,
    colors: Sequence[str] | None = None,
    events: Mapping[float, float] | None = None,
    auc_ci: Mapping[float, tuple[float, float, float]] | None = None,
) -> None:
    """ROC curves of one set: columns horizon, fpr, tpr (one row per cut, any order).

    ``aucs`` maps horizon -> AUC of the drawn curve; ``events`` horizon -> events by then;
    ``auc_ci`` horizon -> (IPCW AUC, lower, upper)."""
    horizons = list(horizons) if horizons is not None else sorted(roc["horizon"].unique())
    colors = list(colors or HORIZON_COLORS)
    ax.plot([0, 1], [0, 1], color="#999999", lw=0.8, ls=(0, (4, 3)), zorder=1)
    drawn: list[tuple[float, np.ndarray]] = []
    for k, h in enumerate(horizons):
        sub = roc[np.isclose(roc["horizon"].astype(float), float(h))]
        if sub.empty:
            continue
        if "estimable" in sub and not sub["estimable"].all():
            # too few events by h or patients at risk at h: say so instead of drawing it
            ax.plot([], [], ls="none", label=not_estimable_label(h))
            continue
        pts = np.clip(sub[["fpr", "tpr"]].to_numpy(float), 0, 1)
        pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]
        pts = np.vstack([[0.0, 0.0], pts, [1.0, 1.0]])
        pts = thin_curve(pts)
        lab = roc_legend_label(h, aucs, events, auc_ci)
        same = [g for g, other in drawn if other.shape == pts.shape and np.allclose(other, pts)]
        if same:
            lab += f"\n(same curve as {horizon_label(same[0])}: no event between)"
        drawn.append((float(h), pts))
        # a coinciding curve is drawn dashed on top, so both stay visible
        ls = (0, (3, 2)) if same else "-"
        ax.step(pts[:, 0], pts[:, 1], where="post", color=colors[k % len(colors)], lw=1.1, ls=ls, label=lab, zorder=3)
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1])
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1])
    ax.set_xlabel("1 \u2212 Specificity (false-positive rate)")
    ax.set_ylabel("Sensitivity (true-positive rate)")
    ax.legend(loc="lower right", frameon=False, handlelength=1.2, borderaxespad=0.2, fontsize=6.5)
    if title:
        ax.set_title(title, loc="left", fontsize=8)


def roc_legend_label(h, aucs=None, events=None, auc_ci=None) -> str:
    """'1-year, 133 events' / 'AUC 0.726, IPCW 0.727' / '(95% CI 0.665-0.789)': three short
    lines, so the legend stays narrow enough to sit below the diagonal, off the curves."""
    lab = horizon_label(h)
    if events and h in events and np.isfinite(events[h]):
        lab += f", {int(events[h])} events"
    auc = f"AUC {aucs[h]:.3f}" if aucs and h in aucs and np.isfinite(aucs[h]) else ""
    if auc_ci and h in auc_ci and all(np.isfinite(v) for v in auc_ci[h]):
        est, lo, hi = auc_ci[h]
        auc += f"{', ' if auc else ''}IPCW {est:.3f}\n(95% CI {lo:.3f}\u2013{hi:.3f})"
    return f"{lab}\n{auc}" if auc else lab


def plot_roc(
    roc: pd.DataFrame,
    aucs: Mapping[float, float] | None = None,
    *,
    title: str | None = None,
    letter: str | None = None,
    width: float = SINGLE_COLUMN_IN,
    **kw,
) -> Figure:
    """Single-panel time-dependent ROC figure."""
    with publication_style():
        fig = new_figure(width, width * 0.95)
        ax = fig.add_axes((0.17, 0.14, 0.78, 0.76))
        draw_roc(ax, roc, aucs, title=title, **kw)
        if letter:
            panel_letter(ax, letter, x=-0.2, y=1.02)
    return fig
