"""Forest plot of Cox hazard ratios with 95% CIs and a text table (paper Figure 2A)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from crlmflow.report.formats import HR_DIGITS, format_hr, format_p
from crlmflow.report.plots.style import DOUBLE_COLUMN_IN, OKABE_ITO, new_figure, publication_style

__all__ = ["plot_forest"]

#: characters per line of a term label at 8 pt in the label column of a 170 mm figure
LABEL_WRAP = 30

# log-axis tick candidates: the 1-2-5 series (0.25 or 4 next to 0.2 or 5 reads as clutter)
_NICE = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]
# finer ticks for a narrow axis (every HR within about 0.7-1.5)
_FINE = [0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 2]


def _ticks(lo: float, hi: float) -> list[float]:
    t = [v for v in _NICE if lo <= v <= hi]
    if len(t) < 3:
        t = [v for v in _FINE if lo <= v <= hi]
    if len(t) > 7:  # too dense: keep powers of ten, 1 and its 2x/0.5x neighbours
        t = [v for v in t if v in (0.01, 0.1, 0.5, 1, 2, 10, 100)]
    return t


def plot_forest(
    table: pd.DataFrame,
    *,
    title: str | None = None,
    xlabel: str = "Hazard ratio (95% CI)",
    width: float = DOUBLE_COLUMN_IN,
    row_height: float = 0.3,
    color: str = OKABE_ITO["blue"],
    hr_digits: int = HR_DIGITS,
    note: str | None = None,
) -> Figure:
    """Forest plot from a table with columns ``term`` or ``label``, ``hr``, ``hr_lower``,
    ``hr_upper``, ``p``. Rows keep the table order (top to bottom); a row with a missing HR
    is printed as 'Reference' without a marker. Log x axis, dashed line at HR = 1.
    Hazard ratios are printed as in Table 2 (``format_hr``, ``hr_digits`` decimals).
    ``note`` (e.g. 'N = 272, 120 deaths') is printed under the variable column.
    """
    need = {"hr", "hr_lower", "hr_upper", "p"}
    if missing := need - set(table.columns):
        raise ValueError(f"table lacks columns {sorted(missing)}")
    labels = (table["label"] if "label" in table.columns else table["term"]).astype(str).tolist()
    hr = table["hr"].to_numpy(float)
    lo = table["hr_lower"].to_numpy(float)
    hi = table["hr_upper"].to_numpy(float)
    p = table["p"].to_numpy(float)
    n = len(labels)
    ys = np.arange(n)[::-1].astype(float)

    ok = np.isfinite(hr)
    xmin = float(np.nanmin(np.r_[lo[ok], 1.0])) / 1.25
    xmax = float(np.nanmax(np.r_[hi[ok], 1.0])) * 1.25

    header_h, bottom_h = 0.35 + (0.3 if title else 0.0), 0.5
    height = n * row_height + header_h + bottom_h
    with publication_style():
        fig = new_figure(width, height)
        gs = fig.add_gridspec(
            1,
            4,
            width_ratios=[2.1, 2.6, 1.7, 0.7],
            wspace=0.04,
            left=0.02,
            right=0.98,
            bottom=bottom_h / height,
            top=1 - header_h / height,
        )
        ax_lab, ax, ax_hr, ax_p = (fig.add_subplot(gs[0, i]) for i in range(4))
        ylim = (-0.6, n - 0.4)
        for a in (ax_lab, ax_hr, ax_p):
            a.set_ylim(*ylim)
            a.set_xlim(0, 1)
            a.set_axis_off()
        ax.set_ylim(*ylim)

        # shaded alternate rows help the eye follow a row across the table
        for k, y in enumerate(ys):
            if k % 2 == 0:
                for a in (ax_lab, ax_hr, ax_p):
                    a.axhspan(y - 0.5, y + 0.5, color="#F2F2F2", zorder=0, lw=0)
                ax.axhspan(y - 0.5, y + 0.5, color="#F2F2F2", zorder=0, lw=0)

        ax.axvline(1.0, color=OKABE_ITO["black"], lw=0.8, ls=(0, (4, 3)), zorder=1)
        ax.hlines(ys[ok], lo[ok], hi[ok], color=color, lw=1.2, zorder=2)
        ax.plot(hr[ok], ys[ok], "s", color=color, ms=4.5, zorder=3)
        ax.set_xscale("log")
        ax.set_xlim(xmin, xmax)
        ax.xaxis.set_major_locator(FixedLocator(_ticks(xmin, xmax)))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:g}")
        ax.set_yticks([])
        ax.spines[["left", "right", "top"]].set_visible(False)
        ax.set_xlabel(xlabel)

        for y, lab, h, l, u, pv in zip(ys, labels, hr, lo, hi, p):
            # a long label wraps onto a second line rather than run under the plot
            ax_lab.text(0.02, y, textwrap.fill(lab, LABEL_WRAP), ha="left", va="center", fontsize=8, linespacing=0.95)
            ax_hr.text(0.5, y, format_hr(h, l, u, hr_digits, missing="Reference"), ha="center", va="center", fontsize=8)
            ax_p.text(0.5, y, "" if not np.isfinite(h) else format_p(pv), ha="center", va="center", fontsize=8)
        hy = n - 0.4 + 0.1
        for a, x, t, ha in (
            (ax_lab, 0.02, "Variable", "left"),
            (ax_hr, 0.5, "HR (95% CI)", "center"),
            (ax_p, 0.5, "P", "center"),
        ):
            a.text(x, hy, t, ha=ha, va="bottom", fontsize=8, fontweight="bold", clip_on=False)
        ax.text(math.sqrt(xmin * xmax), hy, "", va="bottom")  # keeps header row height
        if title:
            fig.text(0.02, 1 - 0.08 / height, title, ha="left", va="top", fontsize=9, fontweight="bold")
        if note:
            fig.text(0.02, 0.12 / height, note, ha="left", va="bottom", fontsize=7)
    return fig
