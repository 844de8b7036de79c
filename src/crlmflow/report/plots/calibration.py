"""Calibration plots at a horizon (paper Supplementary Figures 1-2).

Groups of patients by predicted survival (``calibration.csv`` of the validation rule, as
rms::calibrate(u = horizon, m = ...)): mean predicted vs Kaplan-Meier observed survival with
its 95% CI as error bars; on the training set also the bootstrap optimism-corrected observed
value (by default with screening and selection repeated in every replicate; with
``calibration_correction: final_terms`` rms::calibrate's refit of the final terms, which
understates the optimism, and the legend says so); a dashed diagonal marks perfect calibration.
Under the points, the distribution of the predictions as a histogram of counts per fixed bin
(``prediction_histogram.csv``; no patient's value is drawn).
A horizon with too few events or patients at risk (``estimable`` False) is marked "not
estimable" instead of drawn, with the counts that decide it (events by the horizon and
patients still at risk there, the sums of the table's ``events_by_horizon`` and ``at_risk``)
and, when given, the run's minimums (``validation.min_events_at_horizon`` /
``min_at_risk_at_horizon``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from crlmflow.report.formats import NOT_ESTIMABLE, horizon_label, set_label
from crlmflow.report.plots.panels import panel_letter
from crlmflow.report.plots.style import DOUBLE_COLUMN_IN, OKABE_ITO, SINGLE_COLUMN_IN, new_figure, publication_style

__all__ = ["draw_calibration", "not_estimable_reason", "plot_calibration", "plot_calibration_grid"]

HISTOGRAM_LABEL = "Predictions (number per bin)"


def _zoom(values: np.ndarray) -> tuple[float, float]:
    """Axis range covering the points and their CIs, with a margin, within [0, 1]."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return 0.0, 1.0
    span = max(float(v.max() - v.min()), 0.05)
    # a little past 1 so a marker at survival 1 is not cut in half by the frame
    return max(0.0, float(v.min()) - 0.15 * span), min(1.02, float(v.max()) + 0.08 * span)


def same_curve(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """True when two horizons give the same calibration curve: with no event between them
    the baseline survival, every prediction and every Kaplan–Meier estimate are equal."""
    cols = ["mean_predicted", "km"]
    if len(a) != len(b) or a.empty:
        return False
    x = a.sort_values("mean_predicted")[cols].to_numpy(float)
    y = b.sort_values("mean_predicted")[cols].to_numpy(float)
    return bool(np.allclose(x, y, rtol=0, atol=1e-12))


def not_estimable_reason(cal: pd.DataFrame, horizon, minimums: dict | None = None) -> str:
    """Why a calibration panel is not drawn, in counts, one short line each (it fits a
    panel): 'Not estimable:' / '3 events by 12 months' / '(minimum 10)'. ``cal`` is the panel's grouped table (columns ``events_by_horizon`` and
    ``at_risk``); ``minimums`` ({"events": ..., "at_risk": ...}) names the run's thresholds.
    An empty table means no event by the horizon or no patient at risk at it (the validation
    rule writes no groups then)."""
    when = "the horizon" if horizon is None else f"{float(horizon):g} months"
    if cal.empty:
        return f"{NOT_ESTIMABLE.capitalize()}:\nno event by {when}\nor no patient at risk at {when}"
    if not {"events_by_horizon", "at_risk"} <= set(cal.columns):
        return NOT_ESTIMABLE.capitalize()  # a table without the counts
    cases, at_risk = int(cal["events_by_horizon"].sum()), int(cal["at_risk"].sum())
    lo_e, lo_r = (minimums or {}).get("events"), (minimums or {}).get("at_risk")
    events = f"{cases} event{'s' if cases != 1 else ''} by {when}"
    risk = f"{at_risk} at risk at {when}"
    parts = []
    if lo_e is not None and cases < lo_e:
        parts.append(f"{events}\n(minimum {lo_e})")
    if lo_r is not None and at_risk < lo_r:
        parts.append(f"{risk}\n(minimum {lo_r})")
    parts = parts or [events, risk]  # no minimums given: both counts
    return f"{NOT_ESTIMABLE.capitalize()}:\n" + "\n".join(parts)


def draw_calibration(
    ax,
    cal: pd.DataFrame,
    *,
    corrected: bool = True,
    title: str | None = None,
    xlabel: str = "Predicted survival probability",
    ylabel: str = "Observed survival (Kaplan\u2013Meier)",
    legend: bool = True,
    smooth: pd.DataFrame | None = None,
    histogram: pd.DataFrame | None = None,
    horizon=None,
    minimums: dict | None = None,
) -> None:
    """One set and horizon: columns mean_predicted, km, km_lower, km_upper[, km_corrected].

    A panel that is not estimable (``estimable`` False, or no groups at all at ``horizon``)
    says why in counts (:func:`not_estimable_reason`, ``minimums`` the run's thresholds).

    ``smooth`` (columns predicted_risk, observed_apparent, observed_corrected of
    ``calibration_smooth.csv``) adds the Austin–Harrell–van Klaveren smooth curve, apparent
    and bias-corrected, on the survival scale. ``histogram`` (columns bin_lower, bin_upper,
    n) draws the distribution of the predictions along the bottom of the panel."""
    c = cal.sort_values("mean_predicted")
    if (c.empty and horizon is not None) or ("estimable" in c and len(c) and not c["estimable"].all()):
        # too few events by the horizon or patients at risk at it: no curve to read
        h = horizon if horizon is not None or "horizon" not in c else c["horizon"].iloc[0]
        _draw_not_estimable(ax, not_estimable_reason(c, h, minimums))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title, loc="left", fontsize=8)
        return
    x = c["mean_predicted"].to_numpy(float)
    y = c["km"].to_numpy(float)
    lo = np.clip(c["km_lower"].to_numpy(float), 0, 1)
    hi = np.clip(c["km_upper"].to_numpy(float), 0, 1)
    ax.plot([0, 1], [0, 1], color="#999999", lw=0.8, ls=(0, (4, 3)), zorder=1, label="Perfect calibration")
    ax.errorbar(
        x,
        y,
        yerr=[np.maximum(y - lo, 0), np.maximum(hi - y, 0)],
        fmt="o-",
        color=OKABE_ITO["blue"],
        ms=3.5,
        lw=1.0,
        elinewidth=0.8,
        capsize=2,
        zorder=3,
        label="Observed (Kaplan\u2013Meier, 95% CI)",
    )
    if corrected and "km_corrected" in c.columns and c["km_corrected"].notna().any():
        ax.plot(
            x,
            c["km_corrected"].to_numpy(float),
            "s--",
            color=OKABE_ITO["vermillion"],
            ms=3.2,
            mfc="white",
            lw=1.0,
            zorder=4,
            label=_corrected_label(c),
        )
    if smooth is not None and len(smooth):
        _draw_smooth(ax, smooth, corrected)
    # zoom to the data (1-year OS predictions crowd into 0.92-0.99), the same range on both
    # axes so the diagonal stays the diagonal
    lo_lim, hi_lim = _zoom(np.r_[x, lo, hi, c["km_corrected"].to_numpy(float) if "km_corrected" in c else []])
    ax.set_xlim(lo_lim, hi_lim)
    ax.set_ylim(lo_lim, hi_lim)
    ax.set_aspect("equal")
    if histogram is not None and len(histogram):
        _draw_histogram(ax, histogram, (lo_lim, hi_lim))
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.3g}")
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.3g}")
    if "n" in c.columns and len(c):  # patients per group (left to right), where points rarely fall
        # upper left, unless the legend is there; on two short lines, so the smooth curves of
        # a steep panel, which leave the top further right, stay clear of it
        xy, ha, va = ((0.97, 0.2), "right", "bottom") if legend else ((0.03, 0.97), "left", "top")
        ax.text(
            *xy,
            "n per group:\n" + ", ".join(str(int(v)) for v in c["n"].to_numpy()),
            transform=ax.transAxes,
            ha=ha,
            va=va,
            fontsize=6,
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend(loc="upper left", frameon=False, handlelength=1.6, borderaxespad=0.2)
    if title:
        ax.set_title(title, loc="left", fontsize=8)


def _draw_not_estimable(ax, reason: str) -> None:
    """A panel with only the diagonal and, over it, why there is no curve."""
    ax.plot([0, 1], [0, 1], color="#999999", lw=0.8, ls=(0, (4, 3)), zorder=1, label="Perfect calibration")
    ax.text(
        0.5,
        0.5,
        reason,
        ha="center",
        va="center",
        transform=ax.transAxes,
        fontsize=7,
        linespacing=1.3,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},  # over the diagonal
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")


def _draw_smooth(ax, smooth: pd.DataFrame, corrected: bool) -> None:
    """The smooth calibration curve (and the bias-corrected one when asked) on the survival
    scale; only on the training set, where it is corrected too, is it 'apparent' (on a
    validation set or an external cohort it is the observed curve of patients not used
    for fitting)."""
    sm = smooth.sort_values("predicted_risk")
    xs = 1.0 - sm["predicted_risk"].to_numpy(float)
    ax.plot(
        xs,
        1.0 - sm["observed_apparent"].to_numpy(float),
        color=OKABE_ITO["blue"],
        lw=0.8,
        alpha=0.7,
        label="Smooth (apparent)" if corrected else "Smooth",
    )
    if corrected and sm["observed_corrected"].notna().any():
        ax.plot(
            xs,
            1.0 - sm["observed_corrected"].to_numpy(float),
            color=OKABE_ITO["vermillion"],
            lw=0.9,
            ls=(0, (2, 1.5)),
            label="Smooth (corrected)",
        )


def _coarsen(hist: pd.DataFrame, xlim: tuple[float, float], bars: int = 40):
    """The written bins merged k at a time (k whole) so that about ``bars`` bars span the
    panel's axis: a readable histogram on a zoomed or a full axis, still on the fixed grid."""
    lower = hist["bin_lower"].to_numpy(float)
    w0 = float(np.min(hist["bin_upper"].to_numpy(float) - lower))
    k = max(1, int((xlim[1] - xlim[0]) / bars // w0))
    group = np.floor(lower / (k * w0) + 1e-9).astype(int)
    merged = pd.Series(hist["n"].to_numpy(float)).groupby(group).sum()
    return merged.index.to_numpy(float) * k * w0, np.full(len(merged), k * w0), merged.to_numpy(float)


def _draw_histogram(ax, hist: pd.DataFrame, xlim: tuple[float, float]) -> None:
    """Counts of predictions per bin as grey bars along the bottom 15% of the panel, the
    tallest bar's count written beside it; a legend entry names what the bars are."""
    ins = ax.inset_axes((0.0, 0.0, 1.0, 0.15), zorder=0.5)
    lower, width, n = _coarsen(hist, xlim)
    ins.bar(lower, n, width=width, align="edge", color="#BBBBBB", edgecolor="none")
    ins.set_xlim(*xlim)
    ins.set_ylim(0, n.max() * 1.05)
    ins.axis("off")
    top = int(np.argmax(n))
    # the count over the tallest bar, kept inside the panel when that bar is at an edge
    x, ha = lower[top] + width[top] / 2, "center"
    span = xlim[1] - xlim[0]
    if x - xlim[0] < 0.04 * span:
        x, ha = max(lower[top], xlim[0]), "left"
    elif xlim[1] - x < 0.04 * span:
        x, ha = min(lower[top] + width[top], xlim[1]), "right"
    ins.text(x, n[top], f"{int(n[top])}", ha=ha, va="bottom", fontsize=5.5, color="#666666")
    # a zero-size patch for the shared legend (the bars themselves live on the inset)
    ax.add_patch(Rectangle((xlim[0], xlim[0]), 0, 0, facecolor="#BBBBBB", edgecolor="none", label=HISTOGRAM_LABEL))


def _corrected_label(c: pd.DataFrame) -> str:
    """Legend of the corrected points, naming what the bootstrap repeated."""
    how = c["correction"].dropna() if "correction" in c else pd.Series(dtype=str)
    if len(how) and (how == "selection repeated").all():
        return "Corrected (selection repeated)"
    # rms::calibrate(bw = FALSE): the final terms refitted, selection not repeated
    return "Corrected (final terms refitted; selection not repeated)"


def plot_calibration(
    cal: pd.DataFrame, *, title: str | None = None, letter: str | None = None, width: float = SINGLE_COLUMN_IN, **kw
) -> Figure:
    """Single-panel calibration figure."""
    with publication_style():
        fig = new_figure(width, width)
        ax = fig.add_axes((0.17, 0.14, 0.78, 0.76))
        draw_calibration(ax, cal, title=title, **kw)
        if letter:
            panel_letter(ax, letter, x=-0.2, y=1.02)
    return fig


def plot_calibration_grid(
    cal: pd.DataFrame,
    sets,
    horizons,
    *,
    set_labels=None,
    title: str | None = None,
    width: float | None = None,
    smooth: pd.DataFrame | None = None,
    histogram: pd.DataFrame | None = None,
    minimums: dict | None = None,
) -> Figure:
    """Supplementary Figs 1-2: one row per set, one column per horizon, panel letters, one
    shared legend. Training rows show apparent and bootstrap-corrected observed survival;
    a panel that is not estimable gives its counts against ``minimums`` ({"events": ...,
    "at_risk": ...}, the run's ``validation.min_*_at_horizon``)."""
    nr, nc = len(sets), len(horizons)
    width = width or DOUBLE_COLUMN_IN
    head = 0.8 + (0.25 if title else 0.0)  # title line, then up to two legend rows of three
    height = head + 0.05 + 2.25 * nr
    # the paper's lettering: down the columns (A/C/E training, B/D/F validation)
    letters = "ABCDEFGHIJKL"
    with publication_style():
        fig = new_figure(width, height)
        gs = fig.add_gridspec(
            nr, nc, left=0.08, right=0.98, top=1 - head / height, bottom=0.4 / height, wspace=0.32, hspace=0.42
        )
        handles = {}
        for i, s in enumerate(sets):
            for j, h in enumerate(horizons):
                ax = fig.add_subplot(gs[i, j])
                sub = cal[(cal["set"] == s) & np.isclose(cal["horizon"].astype(float), float(h))]
                panel_title = f"{set_label(s, set_labels)}, {horizon_label(h)}"
                if j > 0:
                    prev = cal[(cal["set"] == s) & np.isclose(cal["horizon"].astype(float), float(horizons[j - 1]))]
                    if same_curve(sub, prev):
                        panel_title += f" (as {horizon_label(horizons[j - 1])}:\nno event in between)"
                sm = None
                if smooth is not None and len(smooth):
                    sm = smooth[(smooth["set"] == s) & np.isclose(smooth["horizon"].astype(float), float(h))]
                hist = None
                if histogram is not None and len(histogram):
                    hist = histogram[(histogram["set"] == s) & np.isclose(histogram["horizon"].astype(float), float(h))]
                draw_calibration(
                    ax,
                    sub,
                    smooth=sm,
                    histogram=hist,
                    corrected=(s == "train"),
                    horizon=h,
                    minimums=minimums,
                    legend=False,
                    title=panel_title,
                    xlabel="Predicted survival" if i == nr - 1 else "",
                    ylabel="Observed survival (KM)" if j == 0 else "",
                )
                panel_letter(ax, letters[j * nr + i], x=-0.22 if j == 0 else -0.16, y=1.04)
                for hd, lb in zip(*ax.get_legend_handles_labels()):
                    handles.setdefault(lb, hd)
        if HISTOGRAM_LABEL in handles:  # last, after the curves it sits under
            handles[HISTOGRAM_LABEL] = handles.pop(HISTOGRAM_LABEL)
        fig.legend(
            list(handles.values()),
            list(handles.keys()),
            loc="upper right",
            ncol=min(len(handles), 3),
            frameon=False,
            bbox_to_anchor=(0.995, 1.0 - (0.25 if title else 0.0) / height),
            handlelength=1.8,
            columnspacing=1.0,
        )
        if title:
            fig.text(0.01, 1 - 0.05 / height, title, ha="left", va="top", fontsize=9, fontweight="bold")
    return fig
