"""Beyond the paper: the paper's model and each alternative model on the same panels.

Three supplementary figures per endpoint, one per validation exhibit, each a grid of one
row per set (the training row labelled apparent) and one column per horizon, the paper's
model (headline: black, thicker, drawn on top) overlaid by each alternative model
(``alternative_models.methods``, "beyond the paper"; Okabe–Ito colours and their own
markers or dashes, so the figure also reads in grey):

- ``plot_models_calibration``: grouped Kaplan–Meier calibration (rms::calibrate, cmethod
  "KM", the groups of ``calibration.csv``): mean predicted vs observed survival with its
  95% CI per group, the dashed diagonal perfect calibration;
- ``plot_models_roc``: Heagerty's KM time-dependent ROC curves, each model's AUC written
  in its colour under the diagonal;
- ``plot_models_dca``: decision curves (net benefit by threshold), with treating everyone
  (grey dashes) and no one (black).

The input frames are ``validation/{ep}/`` tables with a ``model`` column (the paper
model's first); nothing is estimated here. A horizon with too few events or patients at
risk (``estimable`` False) is named "not estimable" in its panel, with its counts, instead
of drawn. Imported as ``crlmflow.report.plots.model_overlay`` (not re-exported by
``crlmflow.report.plots``), so the paper's exhibits do not depend on it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from crlmflow.report.formats import MODEL_LABELS, MODEL_SHORT_LABELS, NOT_ESTIMABLE, horizon_label
from crlmflow.report.plots.calibration import not_estimable_reason
from crlmflow.report.plots.dca import GAP_NOTE, dca_xlabel, dca_ylim
from crlmflow.report.plots.panels import panel_letter
from crlmflow.report.plots.roc import thin_curve
from crlmflow.report.plots.roc_dca import set_title_suffix
from crlmflow.report.plots.style import DOUBLE_COLUMN_IN, OKABE_ITO, new_figure, publication_style

__all__ = ["model_style", "plot_models_calibration", "plot_models_dca", "plot_models_roc"]

#: the alternatives' colours, in the order the models come (the paper's model is black)
_COLORS = [OKABE_ITO[k] for k in ("orange", "sky_blue", "bluish_green", "vermillion", "reddish_purple", "blue")]
_MARKERS = ["s", "^", "D", "v", "P", "X"]
#: a text over the diagonal: a white ground keeps it legible, the curves above stay clear
_UNDER = {"facecolor": "white", "edgecolor": "none", "pad": 0.3, "alpha": 0.85}
_DASHES = [(0, (5, 1.5)), (0, (1.5, 1)), (0, (4, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (6, 2)), (0, (2, 2))]


def model_style(models: Sequence[str]) -> dict[str, dict]:
    """Line style per model: the paper's model black, solid, thicker and on top; each
    alternative, in order, its colour, marker and dash pattern."""
    styles, k = {}, 0
    for m in models:
        if m == "paper":
            styles[m] = dict(color=OKABE_ITO["black"], marker="o", ls="-", lw=1.6, zorder=5)
        else:
            styles[m] = dict(color=_COLORS[k % 6], marker=_MARKERS[k % 6], ls=_DASHES[k % 6], lw=1.1, zorder=4)
            k += 1
    return styles


def _at(frame: pd.DataFrame, s: str, h) -> pd.DataFrame:
    return frame[(frame["set"] == s) & np.isclose(frame["horizon"].astype(float), float(h))]


def _estimable(sub: pd.DataFrame) -> bool:
    return not sub.empty and ("estimable" not in sub or bool(sub["estimable"].astype(bool).all()))


def _why_not(performance: pd.DataFrame | None, s: str, h, minimums) -> str | None:
    """Why a panel is not drawn, in counts (events by h, patients at risk at h: the
    ``cases`` and ``controls`` of the performance rows at h), as the paper's calibration
    panels say it; None without those rows."""
    if performance is None or performance.empty or not {"cases", "controls"} <= set(performance.columns):
        return None
    rows = _at(performance, s, h).dropna(subset=["cases", "controls"])
    if rows.empty:
        return None
    counts = pd.DataFrame({"events_by_horizon": [rows["cases"].iloc[0]], "at_risk": [rows["controls"].iloc[0]]})
    return not_estimable_reason(counts, h, dict(minimums or {}))


def _not_estimable(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=7, linespacing=1.3, bbox=_UNDER)


def _grid(
    sets: Sequence[str],
    horizons: Sequence[float],
    models: Sequence[str],
    styles: Mapping[str, dict],
    *,
    title: str | None,
    width: float,
    panel_height: float,
    markers: bool,
    extra: Sequence[Line2D] = (),
):
    """Figure with one row per set and one column per horizon under a title and a legend
    of the models (two columns, outside the panels): (fig, axes[row][col])."""
    handles = [
        Line2D(
            [],
            [],
            color=styles[m]["color"],
            lw=styles[m]["lw"],
            ls=styles[m]["ls"],
            marker=styles[m]["marker"] if markers else None,
            ms=3.5,
            label=MODEL_LABELS.get(m, m),
        )
        for m in models
    ] + list(extra)
    rows = -(-len(handles) // 2) + sum(h.get_label().count("\n") for h in handles[len(handles) // 2 :])
    # a long title (a long endpoint label) wraps rather than runs off the page
    title = textwrap.fill(title, int(width * 72 / (0.62 * 9))) if title else None
    title_h = 0.2 * (title.count("\n") + 1) + 0.05 if title else 0.0
    head = 0.12 + title_h + 0.17 * rows
    height = head + panel_height * len(sets) + 0.1
    fig = new_figure(width, height)
    gs = fig.add_gridspec(
        len(sets),
        len(horizons),
        left=0.09,
        right=0.97,  # room for the last x tick label (1.00) at the page edge
        top=1 - (head + 0.22) / height,
        bottom=0.45 / height,
        wspace=0.34,
        hspace=0.55,
    )
    axes = [[fig.add_subplot(gs[i, j]) for j in range(len(horizons))] for i in range(len(sets))]
    fig.legend(
        handles=handles,
        loc="upper left",
        ncol=2,
        frameon=False,
        bbox_to_anchor=(0.005, 1 - (title_h + 0.05) / height),
        handlelength=2.6,
        columnspacing=1.5,
        fontsize=7,
    )
    if title:
        fig.text(0.01, 1 - 0.05 / height, title, ha="left", va="top", fontsize=9, fontweight="bold")
    for i in range(len(sets)):
        for j in range(len(horizons)):
            panel_letter(axes[i][j], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i * len(horizons) + j], x=-0.24, y=1.04)
    return fig, axes


def _panel_title(ax, s: str, h, set_labels) -> None:
    ax.set_title(f"{horizon_label(h)}, {set_title_suffix(s, set_labels)}", loc="left", fontsize=7.5)


def plot_models_calibration(
    cal: pd.DataFrame,
    sets: Sequence[str],
    horizons: Sequence[float],
    *,
    set_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    minimums: Mapping[str, int] | None = None,
    performance: pd.DataFrame | None = None,
    width: float = DOUBLE_COLUMN_IN,
) -> Figure:
    """Grouped KM calibration of every model (``calibration.csv`` columns plus ``model``):
    per panel each model's groups, mean predicted vs observed survival with 95% CI, on a
    common square range zoomed to the points. A panel not estimable gives its counts
    against ``minimums`` (as ``plot_calibration_grid``), from ``performance`` (the
    performance rows' ``cases`` and ``controls``) when given, else from the groups."""
    models = list(dict.fromkeys(cal["model"]))
    styles = model_style(models)
    diagonal = Line2D([], [], color="#999999", lw=0.8, ls=(0, (4, 3)), label="Perfect calibration")
    with publication_style():
        fig, axes = _grid(
            sets, horizons, models, styles, title=title, width=width, panel_height=2.2, markers=True, extra=[diagonal]
        )
        for i, s in enumerate(sets):
            for j, h in enumerate(horizons):
                ax, sub = axes[i][j], _at(cal, s, h)
                _panel_title(ax, s, h, set_labels)
                ax.set_xlabel("Predicted survival" if i == len(sets) - 1 else "")
                ax.set_ylabel("Observed survival (KM)" if j == 0 else "")
                if not _estimable(sub):
                    first = sub[sub["model"] == models[0]] if len(sub) else sub
                    why = _why_not(performance, s, h, minimums)
                    _not_estimable(ax, why or not_estimable_reason(first, h, dict(minimums or {})))
                    continue
                _draw_calibration_models(ax, sub, models, styles)
    return fig


def _draw_calibration_models(ax, sub: pd.DataFrame, models: Sequence[str], styles) -> None:
    values = []
    for m in models:
        c = sub[sub["model"] == m].sort_values("mean_predicted")
        if c.empty:
            continue
        st = styles[m]
        x, y = c["mean_predicted"].to_numpy(float), c["km"].to_numpy(float)
        lo = np.clip(c["km_lower"].to_numpy(float), 0, 1)
        hi = np.clip(c["km_upper"].to_numpy(float), 0, 1)
        ax.errorbar(
            x,
            y,
            yerr=[np.maximum(y - lo, 0), np.maximum(hi - y, 0)],
            color=st["color"],
            marker=st["marker"],
            ls=st["ls"],
            lw=st["lw"] * 0.8,
            ms=3.2,
            mfc="white" if m != "paper" else st["color"],
            elinewidth=0.8 if m == "paper" else 0.5,
            capsize=1.5,
            zorder=st["zorder"],
        )
        values.append(np.r_[x, lo, hi])
    v = np.concatenate(values) if values else np.array([0.0, 1.0])
    v = v[np.isfinite(v)]
    span = max(float(v.max() - v.min()), 0.05)
    lo_lim, hi_lim = max(0.0, float(v.min()) - 0.08 * span), min(1.02, float(v.max()) + 0.08 * span)
    ax.plot([0, 1.02], [0, 1.02], color="#999999", lw=0.8, ls=(0, (4, 3)), zorder=1)
    ax.set_xlim(lo_lim, hi_lim)
    ax.set_ylim(lo_lim, hi_lim)
    ax.set_aspect("equal")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(4))
        axis.set_major_formatter(lambda val, _pos: f"{val:.3g}")


def _auc(aucs: pd.DataFrame | None, m: str, s: str, h) -> float:
    if aucs is None or aucs.empty:
        return float("nan")
    hit = _at(aucs[aucs["model"] == m], s, h)
    return float(hit["estimate"].iloc[0]) if len(hit) else float("nan")


def plot_models_roc(
    roc: pd.DataFrame,
    sets: Sequence[str],
    horizons: Sequence[float],
    *,
    performance: pd.DataFrame | None = None,
    set_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    minimums: Mapping[str, int] | None = None,
    width: float = DOUBLE_COLUMN_IN,
) -> Figure:
    """Time-dependent ROC curves of every model (``roc_curves.csv`` columns plus
    ``model``). ``performance`` (the performance tables with ``model``): the estimable
    ``auc_km`` rows are written under the diagonal, each in its model's colour, and a panel
    not estimable gives its counts against ``minimums`` ({"events": ..., "at_risk": ...})."""
    models = list(dict.fromkeys(roc["model"]))
    aucs = None
    if performance is not None and len(performance):
        aucs = performance[(performance["measure"] == "auc_km") & performance["estimable"].astype(bool)]
        performance = performance[performance["measure"] == "auc_km"]
    styles = model_style(models)
    chance = Line2D([], [], color="#999999", lw=0.8, ls=(0, (4, 3)), label="No discrimination")
    with publication_style():
        fig, axes = _grid(
            sets, horizons, models, styles, title=title, width=width, panel_height=2.25, markers=False, extra=[chance]
        )
        for i, s in enumerate(sets):
            for j, h in enumerate(horizons):
                ax, sub = axes[i][j], _at(roc, s, h)
                _panel_title(ax, s, h, set_labels)
                ax.plot([0, 1], [0, 1], color="#999999", lw=0.8, ls=(0, (4, 3)), zorder=1)
                ax.set_xlim(-0.01, 1.01)
                ax.set_ylim(-0.01, 1.01)
                ax.set_aspect("equal")
                ax.set_xticks([0, 0.5, 1])
                ax.set_yticks([0, 0.5, 1])
                ax.set_xlabel("1 \u2212 Specificity" if i == len(sets) - 1 else "")
                ax.set_ylabel("Sensitivity" if j == 0 else "")
                if not _estimable(sub):
                    _not_estimable(ax, _why_not(performance, s, h, minimums) or NOT_ESTIMABLE.capitalize())
                    continue
                _draw_roc_models(ax, sub, models, styles, [_auc(aucs, m, s, h) for m in models])
    return fig


def _draw_roc_models(ax, sub: pd.DataFrame, models: Sequence[str], styles, aucs: Sequence[float]) -> None:
    lines, first = [], None
    for m, auc in zip(models, aucs):
        c = sub[sub["model"] == m]
        if c.empty:
            continue
        st = styles[m]
        pts = np.clip(c[["fpr", "tpr"]].to_numpy(float), 0, 1)
        pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]
        pts = thin_curve(np.vstack([[0.0, 0.0], pts, [1.0, 1.0]]))
        ax.step(pts[:, 0], pts[:, 1], where="post", color=st["color"], lw=st["lw"], ls=st["ls"], zorder=st["zorder"])
        # a model ranking patients as the first one does (the uniformly shrunk stepwise
        # model) has its very curve, hidden under it: said, not left for the reader to find
        same = first is not None and first.shape == pts.shape and np.allclose(first, pts)
        first = pts if first is None else first
        if np.isfinite(auc):
            lines.append((f"{MODEL_SHORT_LABELS.get(m, m)} {auc:.3f}" + (" (same curve)" if same else ""), st["color"]))
    # the AUCs, one line per model in its colour, in the corner under the diagonal
    n = len(lines)
    for k, (text, color) in enumerate(lines):
        y = 0.03 + 0.075 * (n - 1 - k)
        ax.text(0.98, y, text, transform=ax.transAxes, ha="right", va="bottom", fontsize=6, color=color, bbox=_UNDER)
    if lines:
        y = 0.03 + 0.075 * n
        ax.text(0.98, y, "AUC (KM)", transform=ax.transAxes, ha="right", va="bottom", fontsize=6, fontweight="bold")


def plot_models_dca(
    dca: pd.DataFrame,
    sets: Sequence[str],
    horizons: Sequence[float],
    *,
    set_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    event: str | None = None,
    performance: pd.DataFrame | None = None,
    minimums: Mapping[str, int] | None = None,
    width: float = DOUBLE_COLUMN_IN,
) -> Figure:
    """Decision curves of every model (``decision_curves.csv`` columns plus ``model``)
    against treating everyone and no one, on one y range per figure; the x axis stops at
    the largest threshold where some model's net benefit is still above zero (a little
    past it), where the comparison is. ``performance`` and ``minimums`` give a panel that
    is not estimable its counts, as ``plot_models_roc``."""
    models = list(dict.fromkeys(dca["model"]))
    styles = model_style(models)
    extra = [
        Line2D([], [], color="#777777", lw=0.9, ls=(0, (4, 2)), label="Treat all"),
        Line2D([], [], color=OKABE_ITO["black"], lw=0.8, label="Treat none"),
    ]
    ok = dca[dca["estimable"].astype(bool)] if "estimable" in dca else dca
    if ok["net_benefit_model"].isna().any():  # past the high-risk group's follow-up
        extra.append(Line2D([], [], ls="none", label=GAP_NOTE))
    ylim = dca_ylim(ok[ok["set"].isin(sets)]) if len(ok) else (-0.1, 0.3)
    ylim = (ylim[0], ylim[1] / 1.45 * 1.05)  # the legend is outside the panels: no headroom
    positive = ok.loc[ok["net_benefit_model"].to_numpy(float) > 0, "threshold"]
    xmax = min(1.0, round(float(positive.max()) + 0.1, 1)) if len(positive) else None
    with publication_style():
        fig, axes = _grid(
            sets, horizons, models, styles, title=title, width=width, panel_height=2.0, markers=False, extra=extra
        )
        for i, s in enumerate(sets):
            for j, h in enumerate(horizons):
                ax, sub = axes[i][j], _at(dca, s, h)
                _panel_title(ax, s, h, set_labels)
                ax.set_ylabel("Net benefit" if j == 0 else "")
                ax.set_ylim(*ylim)
                ax.set_xlim(0, xmax if xmax is not None else 1.0)
                ax.xaxis.set_major_locator(MaxNLocator(4))
                if not _estimable(sub):
                    _not_estimable(ax, _why_not(performance, s, h, minimums) or NOT_ESTIMABLE.capitalize())
                    continue
                _draw_dca_models(ax, sub, models, styles)
        # one x label under the grid: the threshold's event is too long for a panel's width
        fig.text(0.54, 0.02, dca_xlabel(event), ha="center", va="bottom", fontsize=8)
    return fig


def _draw_dca_models(ax, sub: pd.DataFrame, models: Sequence[str], styles) -> None:
    first = sub[sub["model"] == models[0]].sort_values("threshold")
    # treating everyone depends on the patients only: the same line for every model
    ax.plot(first["threshold"], first["net_benefit_all"], color="#777777", lw=0.9, ls=(0, (4, 2)), zorder=2)
    for m in models:
        c = sub[sub["model"] == m].sort_values("threshold")
        st = styles[m]
        ax.plot(
            c["threshold"], c["net_benefit_model"], color=st["color"], lw=st["lw"], ls=st["ls"], zorder=st["zorder"]
        )
    ax.axhline(0, color=OKABE_ITO["black"], lw=0.8, zorder=6)
