"""Kaplan-Meier curves as ``survminer::ggsurvplot`` draws them (paper Figure 4, Suppl. Fig. 5).

Step curves per group with step-shaped 95% CI bands, '+' censor marks at the times where a
group had censored patients (group-level summaries, never individual patients; with many
censored patients, at most one mark per 1/``CENSOR_MARK_BINS`` of the x range), the
log-rank p at the same place on every panel (top right; for more than two groups, the
multiplicity-corrected pairwise p-values under the time axis), and a numbers-at-risk table under
the x axis sharing its scale.
Input frames are the long tables of the ``km_summaries`` rule (``survival/km_curves.csv``
and ``km_at_risk.csv``), already filtered to one panel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpecFromSubplotSpec

from crlmflow.report.formats import p_statement
from crlmflow.report.plots.panels import panel_letter
from crlmflow.report.plots.style import DOUBLE_COLUMN_IN, OKABE_ITO, SINGLE_COLUMN_IN, new_figure, publication_style

__all__ = ["KM_COLORS", "km_steps", "censor_marks", "draw_km", "plot_km", "plot_km_grid"]

KM_COLORS = [OKABE_ITO[k] for k in ("vermillion", "blue", "bluish_green", "orange", "reddish_purple")]

#: a group with more censored patients than this gets thinned censor marks (registry-sized
#: cohorts would otherwise draw a solid band of '+' along the curve)
CENSOR_MARK_MAX_PATIENTS = 300
#: thinned marks: at most one per bin of this many equal bins over the x range
CENSOR_MARK_BINS = 60


def censor_marks(
    c: pd.DataFrame, xmax: float, max_patients: int = CENSOR_MARK_MAX_PATIENTS, bins: int = CENSOR_MARK_BINS
) -> pd.DataFrame:
    """Rows of a ``km_steps`` curve that get a '+' mark: every time with a censoring, or, when
    the group has more than ``max_patients`` censored patients, the first such time in each
    of ``bins`` equal-width bins of [0, xmax] (a readable summary of where censoring happens)."""
    cm = c[c["n_censor"] > 0]
    if cm["n_censor"].sum() <= max_patients or cm.empty:
        return cm
    width = max(float(xmax), float(cm["time"].max()), 1e-12) / bins
    b = np.floor(cm["time"].to_numpy(float) / width).astype(int)
    first = np.ones(b.size, dtype=bool)
    first[1:] = b[1:] != b[:-1]
    return cm[first]


def km_steps(curve: pd.DataFrame) -> pd.DataFrame:
    """One group's curve starting at (0, 1): time, surv, lower, upper, n_censor."""
    c = curve.sort_values("time", kind="stable")[["time", "surv", "lower", "upper", "n_censor"]].copy()
    c[["lower", "upper"]] = c[["lower", "upper"]].astype(float)
    # rows before the first event have S = 1 and no CI: the band is the point itself
    one = c["surv"] >= 1
    c.loc[one & c["lower"].isna(), "lower"] = 1.0
    c.loc[one & c["upper"].isna(), "upper"] = 1.0
    c[["lower", "upper"]] = c[["lower", "upper"]].ffill()  # S(t) = 0 tail: keep last band
    if c.empty or c["time"].iloc[0] > 0:
        c = pd.concat(
            [pd.DataFrame({"time": [0.0], "surv": [1.0], "lower": [1.0], "upper": [1.0], "n_censor": [0]}), c],
            ignore_index=True,
        )
    return c.reset_index(drop=True)


def draw_km(
    ax,
    ax_table,
    curves: pd.DataFrame,
    at_risk: pd.DataFrame,
    test_p: float | None = None,
    *,
    groups: Sequence[str] | None = None,
    group_labels: Mapping[str, str] | None = None,
    colors: Sequence[str] | None = None,
    breaks: Sequence[float] | None = None,
    xmax: float | None = None,
    xlabel: str = "Time (months)",
    ylabel: str = "Survival probability",
    title: str | None = None,
    conf_int: bool = True,
    censor: bool = True,
    legend_title: str | None = None,
    fontsize: float = 7,
    test_text: str | None = None,
    pairwise: Sequence[str] = (),
) -> None:
    """Draw one KM panel into ``ax`` and its numbers-at-risk table into ``ax_table``.

    ``test_text`` replaces the log-rank p statement where no p is honest (risk groups cut on
    the score of the same patients: ``formats.DESCRIPTIVE``). ``pairwise`` lines (e.g.
    'Full-course vs Only adjuvant: p = 0.29') are printed under it."""
    groups = list(groups) if groups is not None else sorted(curves["group"].astype(str).unique())
    labels = {g: g for g in groups} | dict(group_labels or {})
    colors = list(colors or KM_COLORS)
    if xmax is None:
        xmax = float(curves["time"].max())
    if breaks is None:
        step = 12.0 if xmax <= 72 else 24.0
        breaks = np.arange(0.0, xmax + 1e-9, step)
    breaks = [float(b) for b in breaks if b <= xmax + 1e-9]

    handles = []
    for k, g in enumerate(groups):
        col = colors[k % len(colors)]
        c = km_steps(curves[curves["group"].astype(str) == g])
        (h,) = ax.step(c["time"], c["surv"], where="post", color=col, lw=1.1, label=labels[g], zorder=3)
        handles.append(h)
        if conf_int:
            ax.fill_between(c["time"], c["lower"], c["upper"], step="post", color=col, alpha=0.18, lw=0, zorder=2)
        if censor:
            cm = censor_marks(c, xmax)
            ax.plot(cm["time"], cm["surv"], ls="none", marker="+", ms=3.5, mew=0.7, color=col, zorder=4)
    ax.set_xlim(0, xmax)
    ax.set_ylim(0, 1.02)
    ax.set_xticks(breaks)
    ax.set_xticklabels([])
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_yticklabels(["0.00", "0.25", "0.50", "0.75", "1.00"])
    ax.set_ylabel(ylabel)
    ncol = len(groups) if len(groups) <= 2 else 2
    if title:  # above the legend, whose rows (and title) sit on top of the axes
        rows = int(np.ceil(len(groups) / ncol)) + (legend_title is not None)
        ax.set_title(title, fontsize=fontsize + 0.5, loc="left", pad=5 + 9.5 * rows)
    leg = ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=ncol,
        frameon=False,
        fontsize=fontsize,
        handlelength=1.2,
        columnspacing=0.9,
        borderaxespad=0.1,
        title=legend_title,
        title_fontsize=fontsize,
    )
    leg.set_alignment("left")
    # the log-rank p as survminer prints it on a ggsurvplot, at the same place on every panel:
    # top right, where survival curves that start at 1 have fallen away
    ptxt = test_text if test_text is not None else p_statement(test_p, label="p", style="survminer")
    if ptxt:
        ax.text(0.98, 0.98, ptxt, transform=ax.transAxes, ha="right", va="top", fontsize=fontsize - 0.5)
    if pairwise:  # under the time axis's label, clear of every curve
        ax_table.annotate(
            "\n".join(pairwise),
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(0, -27),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=fontsize - 1,
        )

    _draw_risk_table(ax_table, at_risk, groups, labels, colors, breaks, xmax, xlabel, fontsize)


def _draw_risk_table(ax_table, at_risk: pd.DataFrame, groups, labels, colors, breaks, xmax, xlabel, fontsize) -> None:
    """The numbers-at-risk table under a KM panel, its x axis shared with the curves."""
    ax_table.set_xlim(0, xmax)
    ax_table.set_ylim(-0.5, len(groups) - 0.5)
    ax_table.set_xticks(breaks)
    ax_table.set_xticklabels([f"{b:g}" for b in breaks])
    ax_table.set_xlabel(xlabel)
    ax_table.set_yticks(range(len(groups)))
    ax_table.set_yticklabels([labels[g] for g in groups][::-1], fontsize=fontsize - 0.5)
    for k, tl in enumerate(ax_table.get_yticklabels()):
        tl.set_color(colors[(len(groups) - 1 - k) % len(colors)])
    # The time-0 counts are centred on the axis: keep the group labels clear of their left
    # half, which widens with the cohort (5-digit counts in a registry).
    digits = len(str(int(at_risk["n_risk"].max()))) if len(at_risk) else 1
    ax_table.tick_params(axis="y", length=0, pad=max(11.0, 0.3 * (fontsize - 0.5) * digits + 5.0))
    ax_table.spines[["left", "top", "right"]].set_visible(False)
    ax_table.text(
        0.0,
        1.0,
        "Number at risk",
        transform=ax_table.transAxes,
        ha="right",
        va="bottom",
        fontsize=fontsize,
        fontweight="bold",
    )
    ar = at_risk.copy()
    ar["group"] = ar["group"].astype(str)
    for k, g in enumerate(groups):
        y = len(groups) - 1 - k
        sub = ar[ar["group"] == g]
        for b in breaks:
            r = sub[np.isclose(sub["time"].astype(float), b)]
            if len(r):
                ax_table.text(
                    b,
                    y,
                    f"{int(r['n_risk'].iloc[0])}",
                    ha="center",
                    va="center",
                    fontsize=fontsize - 0.5,
                    color=colors[k % len(colors)],
                )


def _cell_axes(fig, spec, n_groups: int):
    sub = GridSpecFromSubplotSpec(2, 1, subplot_spec=spec, height_ratios=[3.2, 0.55 + 0.28 * n_groups], hspace=0.2)
    ax = fig.add_subplot(sub[0])
    axt = fig.add_subplot(sub[1], sharex=None)
    return ax, axt


def plot_km(
    curves_df: pd.DataFrame,
    at_risk_df: pd.DataFrame,
    test_p: float | None = None,
    *,
    groups: Sequence[str] | None = None,
    group_labels: Mapping[str, str] | None = None,
    colors: Sequence[str] | None = None,
    title: str | None = None,
    letter: str | None = None,
    width: float = SINGLE_COLUMN_IN,
    height: float | None = None,
    **kw,
) -> Figure:
    """A single KM panel with its numbers-at-risk table (ggsurvplot(..., risk.table = TRUE))."""
    n = len(groups) if groups is not None else curves_df["group"].nunique()
    height = height or 2.9 + 0.14 * n
    with publication_style():
        fig = new_figure(width, height)
        gs = fig.add_gridspec(1, 1, left=0.27, right=0.96, top=0.86, bottom=0.12)
        ax, axt = _cell_axes(fig, gs[0], n)
        draw_km(
            ax,
            axt,
            curves_df,
            at_risk_df,
            test_p,
            groups=groups,
            group_labels=group_labels,
            colors=colors,
            title=title,
            **kw,
        )
        if letter:
            panel_letter(ax, letter, x=-0.34, y=1.12)
    return fig


def plot_km_grid(
    panels: Sequence[Mapping], *, ncols: int = 2, width: float = DOUBLE_COLUMN_IN, panel_height: float = 2.4
) -> Figure:
    """Several KM panels on one page. Each panel dict holds the keyword arguments of
    ``draw_km`` plus ``curves``, ``at_risk``, ``p`` and ``letter``.  The gap under a row
    grows with the pairwise-test lines printed under its time axis, so a row without them
    leaves no empty band."""
    nrows = int(np.ceil(len(panels) / ncols))
    maxg = max(len(p.get("groups") or p["curves"]["group"].unique()) for p in panels)
    cell = (nrows * (panel_height + 0.12 * maxg) + 0.15 - 1.04) / (nrows + 0.8 * (nrows - 1))  # inches
    lines = [max(len(p.get("pairwise") or ()) for p in panels[r * ncols : (r + 1) * ncols]) for r in range(nrows)]
    # under the time-axis label and above the next row's title and legend; plus the pairwise lines
    gaps = [0.9 + (0.12 * n if n else 0.0) for n in lines[:-1]]
    ratios = [cell]
    for gap in gaps:
        ratios += [gap, cell]
    height = 0.62 + 0.42 + sum(ratios)
    with publication_style():
        fig = new_figure(width, height)
        gs = fig.add_gridspec(
            len(ratios),
            ncols,
            left=0.16,
            right=0.985,
            top=1 - 0.62 / height,
            bottom=0.42 / height,
            wspace=0.62,
            hspace=0,
            height_ratios=ratios,
        )
        for k, p in enumerate(panels):
            spec = gs[2 * (k // ncols), k % ncols]
            kw = {key: v for key, v in p.items() if key not in ("curves", "at_risk", "p", "letter")}
            ng = len(p.get("groups") or p["curves"]["group"].unique())
            ax, axt = _cell_axes(fig, spec, ng)
            draw_km(ax, axt, p["curves"], p["at_risk"], p.get("p"), **kw)
            if p.get("letter"):
                panel_letter(ax, p["letter"], x=-0.3, y=1.13)
    return fig
