"""Forest plot of Cox hazard ratios with 95% CIs and a text table (paper Figure 2A)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath
from matplotlib.ticker import FixedLocator, NullLocator

from crlmflow.report.formats import HR_DIGITS, format_hr, format_p
from crlmflow.report.plots.style import DOUBLE_COLUMN_IN, OKABE_ITO, new_figure, publication_style

__all__ = ["plot_forest"]

#: characters per line of a term label at 8 pt in the label column of a 170 mm figure
LABEL_WRAP = 30

# log-axis tick candidates: the 1-2-5 series (0.25 or 4 next to 0.2 or 5 reads as clutter)
_NICE = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]
# finer ticks for a narrow axis (every HR within about 0.7-1.5), spaced so that their
# labels stay apart even when a long term label leaves the axis little width
_FINE = [0.5, 0.7, 1, 1.5, 2]


def _ticks(lo: float, hi: float) -> list[float]:
    t = [v for v in _NICE if lo <= v <= hi]
    if len(t) < 3:
        t = [v for v in _FINE if lo <= v <= hi]
    if len(t) > 7:  # too dense: keep powers of ten, 1 and its 2x/0.5x neighbours
        t = [v for v in t if v in (0.01, 0.1, 0.5, 1, 2, 10, 100)]
    return t


_RATIOS = [2.1, 2.6, 1.7, 0.7]  # label, plot, HR text, P columns
_MIN_PLOT_RATIO = 1.4
_FONT_PT = 8


def _text_width_in(text: str) -> float:
    """Width of ``text`` at the table's font size, in inches (as the current style draws it)."""
    return TextPath((0, 0), text, size=_FONT_PT, prop=FontProperties()).get_extents().width / 72.0


def _fit_labels(labels: list[str], width: float) -> tuple[list[str], list[float]]:
    """Column ratios whose label column holds the longest label: first taken from the plot
    column (down to ``_MIN_PLOT_RATIO``), then long labels are wrapped onto more lines, so
    no label is ever clipped (a clipped factor label reads as another factor)."""
    usable = 0.96 * width
    total = sum(_RATIOS)
    need = max((_text_width_in(lab) for lab in labels), default=0.0) + 0.15
    lab_ratio = max(_RATIOS[0], need / usable * total)
    room = _RATIOS[0] + _RATIOS[1] - _MIN_PLOT_RATIO
    if lab_ratio <= room:
        return labels, [lab_ratio, _RATIOS[0] + _RATIOS[1] - lab_ratio, *_RATIOS[2:]]
    ratios = [room, _MIN_PLOT_RATIO, *_RATIOS[2:]]
    avail = room / total * usable - 0.15
    wrapped = []
    for lab in labels:
        chars = len(lab)
        while chars > 8 and max(_text_width_in(x) for x in textwrap.wrap(lab, chars)) > avail:
            chars -= 2
        wrapped.append("\n".join(textwrap.wrap(lab, chars)) if _text_width_in(lab) > avail else lab)
    return wrapped, ratios


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
    A long label widens the label column (or, beyond that, wraps onto more lines and its
    row grows): labels are never clipped.
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
    with publication_style():
        labels, ratios = _fit_labels(labels, width)
    # a wrapped label makes every row as tall as its lines need
    row_height *= max(1, max((lab.count("\n") + 1 for lab in labels), default=1) * 0.75)
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
            width_ratios=ratios,
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
            ax_lab.text(0.02, y, lab, ha="left", va="center", fontsize=_FONT_PT, linespacing=1.1)
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
