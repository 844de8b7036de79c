"""Patient flow chart (paper Figure 1): screened -> excluded by reason -> included -> sets.

Box sizes follow their text (measured with the renderer), so long exclusion reasons never
spill out of their box. With an external validation cohort the chart has two columns, one
per cohort, each with its own exclusions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from crlmflow.report.formats import set_label, split_set_labels
from crlmflow.report.plots.style import OKABE_ITO, SINGLE_COLUMN_IN, new_figure, publication_style

__all__ = ["plot_flowchart"]

_FS = 7
_PAD = 0.07


def _exclusion_lines(excluded: Mapping[str, int]) -> list[str]:
    n_exc = sum(int(v) for v in excluded.values())
    return [f"Excluded (n = {n_exc})"] + [f"\u2022 {k[:1].upper() + k[1:]} (n = {v})" for k, v in excluded.items()]


class _Canvas:
    """Boxes sized to their text and arrows between them, in inches."""

    def __init__(self, fig, ax):
        self.fig, self.ax = fig, ax
        self.renderer = fig.canvas.get_renderer()

    def box(self, cx, cy, text, ha="center", color=OKABE_ITO["blue"], left=None):
        t = self.ax.text(0, 0, text, ha=ha, va="center", fontsize=_FS, linespacing=1.4)
        bb = t.get_window_extent(self.renderer)
        w, h = bb.width / self.fig.dpi + 2 * _PAD, bb.height / self.fig.dpi + 2 * _PAD
        x0 = left if left is not None else cx - w / 2
        t.set_position((x0 + _PAD if ha == "left" else x0 + w / 2, cy))
        self.ax.add_patch(
            FancyBboxPatch(
                (x0, cy - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.04", fc="white", ec=color, lw=0.9
            )
        )
        return x0, cy - h / 2, w, h

    def arrow(self, p0, p1):
        self.ax.add_patch(
            FancyArrowPatch(
                p0, p1, arrowstyle="-|>", mutation_scale=7, lw=0.8, color=OKABE_ITO["black"], shrinkA=0, shrinkB=0
            )
        )

    def line(self, xs, ys):
        self.ax.plot(xs, ys, color=OKABE_ITO["black"], lw=0.8)


def _cohort_column(cv, spine_x, height, read, excluded, included, *, screened_label, included_label, with_sets):
    """Screened -> exclusions (to the right) -> included; returns the included box."""
    top_y = height - 0.35
    _, y, _, _ = cv.box(spine_x, top_y, f"{screened_label}\n(n = {read})")
    inc_y = 0.35 + (1.0 if with_sets else 0.2) + 0.25
    xi, yi, wi, hi = cv.box(spine_x, inc_y, f"{included_label}\n(n = {included})", color=OKABE_ITO["bluish_green"])
    cv.arrow((spine_x, y), (spine_x, yi + hi))
    mid_y = (y + yi + hi) / 2
    xe, _, _, _ = cv.box(
        0,
        mid_y,
        "\n".join(_exclusion_lines(excluded)),
        ha="left",
        color=OKABE_ITO["vermillion"],
        left=spine_x + 0.22,
    )
    cv.arrow((spine_x, mid_y), (xe, mid_y))
    return xi, yi, wi, hi


def plot_flowchart(
    read: int,
    excluded: Mapping[str, int],
    included: int,
    sets: Mapping[str, int] | None = None,
    *,
    external: Mapping[str, Any] | None = None,
    width: float = SINGLE_COLUMN_IN * 1.45,
    screened_label: str = "Patients with CRLM screened",
    included_label: str = "Patients included",
) -> Figure:
    """Flow chart from the counts of ``data/<cohort>/flow.json`` and the split sizes.

    ``external`` (``read``, ``excluded``, ``included`` of the external cohort, as returned
    by :func:`crlmflow.report.exhibits.flow_summary`) draws a second column for the
    external validation cohort with its own exclusions; the figure is then twice as wide
    and the sets are labelled development and external cohort.
    """
    sets = dict(sets or {})
    n_lines = len(excluded) + 1
    if external is not None:
        n_lines = max(n_lines, len(external["excluded"]) + 1)
    height = 3.0 + 0.13 * n_lines
    col_width = width
    if external is not None:
        width = 2 * col_width
    with publication_style():
        fig = new_figure(width, height)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(0, height)
        ax.set_axis_off()
        cv = _Canvas(fig, ax)
        spine_x = col_width * 0.3
        set_y = 0.42
        if external is not None:
            labels = split_set_labels("external")
            columns = [
                (spine_x, read, excluded, included, screened_label, "train"),
                (
                    col_width + spine_x,
                    external["read"],
                    external["excluded"],
                    external["included"],
                    f"{screened_label} (external centre)",
                    "validation",
                ),
            ]
            for x, r, exc, inc, label, set_name in columns:
                _, yi, _, _ = _cohort_column(
                    cv, x, height, r, exc, inc, screened_label=label, included_label=included_label, with_sets=True
                )
                _, by, _, bh = cv.box(x, set_y, f"{set_label(set_name, labels)}\n(n = {sets.get(set_name, inc)})")
                cv.arrow((x, yi), (x, by + bh))
            return fig
        _, yi, _, _ = _cohort_column(
            cv,
            spine_x,
            height,
            read,
            excluded,
            included,
            screened_label=screened_label,
            included_label=included_label,
            with_sets=bool(sets),
        )
        if sets:
            n = len(sets)
            xs = [width * (k + 1) / (n + 1) for k in range(n)] if n > 1 else [spine_x]
            if n == 2:
                xs = [spine_x, min(width - 0.7, spine_x + 1.7)]
            for cx, (name, cnt) in zip(xs, sets.items()):
                _, by, _, bh = cv.box(cx, set_y, f"{set_label(name)}\n(n = {cnt})")
                cv.line([spine_x, spine_x], [yi, (yi + by + bh) / 2])
                cv.line([spine_x, cx], [(yi + by + bh) / 2] * 2)
                cv.arrow((cx, (yi + by + bh) / 2), (cx, by + bh))
    return fig
