"""Maximally selected log-rank statistic against the cut-off (paper Supplementary Figs 3/4).

Like ``plot(surv_cutpoint(...))`` / ``plot(maxstat.test(...))``: the standardized
log-rank statistic over every candidate cut, the selected cut marked; optionally the marker
distribution below it, split into the low (<= cut) and high (> cut) groups.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from crlmflow.model.cutpoint import CutpointResult
from crlmflow.report.formats import p_statement
from crlmflow.report.plots.style import OKABE_ITO, SINGLE_COLUMN_IN, new_figure, publication_style

__all__ = ["plot_cutpoint"]

#: candidate cuts drawn as dots only up to this many (registry-sized cohorts: line only)
MAX_CUT_MARKERS = 400


def plot_cutpoint(
    result: CutpointResult,
    marker=None,
    *,
    xlabel: str = "Linear predictor",
    p_value: float | None = None,
    p_label: str = "P",
    title: str | None = None,
    width: float = SINGLE_COLUMN_IN,
    bins: int = 30,
    cut_digits: int = 3,
    cut_unit: str = "",
    group_colors: tuple[str, str] = (OKABE_ITO["sky_blue"], OKABE_ITO["orange"]),
) -> Figure:
    """Standardized log-rank statistic vs cut-off, with the maximum marked.

    ``marker`` (the values the cut was chosen on) adds a histogram panel coloured by
    group; ``p_value`` (e.g. ``lausen_schumacher_p``) is printed with the estimate.
    ``cut_digits``/``cut_unit`` print the cut as the paper does ('Cut-off = 64 points');
    ``group_colors`` (low, high) match the risk groups of the Kaplan–Meier figure. Both
    y axes start at 0.
    """
    cuts = result.curve["cut"].to_numpy(float)
    stat = result.curve["stat"].to_numpy(float)
    has_dist = marker is not None
    height = 3.3 if has_dist else 2.4
    with publication_style():
        # a title may run over two lines ('Supplementary Figure 3' / 'Optimal cut-off: ...')
        title_lines = title.count("\n") + 1 if title else 0
        fig = new_figure(width, height + 0.2 * title_lines)
        top = 1 - (0.15 + 0.2 * title_lines if title else 0.12) / fig.get_figheight()
        if has_dist:
            gs = fig.add_gridspec(
                2, 1, height_ratios=[2.2, 1], hspace=0.08, left=0.17, right=0.97, bottom=0.13, top=top
            )
            ax = fig.add_subplot(gs[0])
            axh = fig.add_subplot(gs[1], sharex=ax)
        else:
            gs = fig.add_gridspec(1, 1, left=0.17, right=0.97, bottom=0.17, top=top)
            ax = fig.add_subplot(gs[0])
            axh = None

        ax.plot(cuts, stat, "-", color=OKABE_ITO["blue"], lw=1.0)
        if cuts.size <= MAX_CUT_MARKERS:  # beyond that the dots merge into the line
            ax.plot(cuts, stat, "o", color=OKABE_ITO["blue"], ms=1.6, mew=0)
        # y range: the curve's own range, plus headroom above the maximum for the label box,
        # so the box can never cover the curve or the marked cut
        bottom = 0.0  # as the histogram below: both axes start at 0
        top = result.statistic + 0.55 * (result.statistic - bottom)
        ax.set_ylim(bottom, top)
        # the cut line stops at the maximum (as maxstat's plot draws it)
        ax.plot(
            [result.estimate, result.estimate],
            [bottom, result.statistic],
            color=OKABE_ITO["vermillion"],
            lw=1.0,
            ls=(0, (4, 2)),
        )
        ax.plot([result.estimate], [result.statistic], "o", color=OKABE_ITO["vermillion"], ms=4)
        ax.set_ylabel("Standardized log-rank statistic")
        unit = f" {cut_unit}" if cut_unit else ""
        lines = [f"Cut-off = {result.estimate:.{cut_digits}f}{unit}", f"Statistic = {result.statistic:.2f}"]
        if stated := p_statement(p_value, label=p_label):
            lines.append(stated)
        ax.text(
            0.5,
            0.97,
            ", ".join(lines[:2]) + ("\n" + lines[2] if len(lines) > 2 else ""),
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=7,
            bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="#BBBBBB", lw=0.5),
        )
        right_side = result.estimate < 0.5 * (
            float(np.min(marker if marker is not None else cuts))
            + float(np.max(marker if marker is not None else cuts))
        )

        if axh is not None:
            x = np.asarray(marker, dtype=float)
            edges = np.histogram_bin_edges(x, bins=bins)
            # put the cut on a bin edge so no bar mixes the two groups
            edges = np.unique(np.r_[edges[(edges < result.estimate) | (edges > result.estimate)], result.estimate])
            low, high = x[x <= result.estimate], x[x > result.estimate]
            axh.hist(low, bins=edges, color=group_colors[0], ec="white", lw=0.3, label=f"Low risk (n = {low.size})")
            axh.hist(high, bins=edges, color=group_colors[1], ec="white", lw=0.3, label=f"High risk (n = {high.size})")
            axh.axvline(result.estimate, color=OKABE_ITO["vermillion"], lw=1.0, ls=(0, (4, 2)))
            axh.set_ylabel("Patients")
            axh.set_xlabel(xlabel)
            axh.legend(
                frameon=False, loc="upper right" if right_side else "upper left", handlelength=1.0, borderaxespad=0.2
            )
            axh.set_ylim(0, axh.get_ylim()[1] * 1.35)  # headroom for the legend
            ax.tick_params(labelbottom=False)
        else:
            ax.set_xlabel(xlabel)
        if title:
            fig.text(0.02, 1 - 0.06 / fig.get_figheight(), title, ha="left", va="top", fontsize=9, fontweight="bold")
    return fig
