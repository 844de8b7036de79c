"""Patient flow chart (paper Figure 1): screened -> excluded by reason -> included -> sets.

Box sizes follow their text (measured with the renderer), so long exclusion reasons never
spill out of their box.
"""

from __future__ import annotations

from collections.abc import Mapping

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from crlmflow.report.formats import set_label
from crlmflow.report.plots.style import OKABE_ITO, SINGLE_COLUMN_IN, new_figure, publication_style

__all__ = ["plot_flowchart"]


def plot_flowchart(
    read: int,
    excluded: Mapping[str, int],
    included: int,
    sets: Mapping[str, int] | None = None,
    *,
    width: float = SINGLE_COLUMN_IN * 1.45,
    screened_label: str = "Patients with CRLM screened",
    included_label: str = "Patients included",
) -> Figure:
    """Flow chart from the counts of ``data/<cohort>/flow.json`` and the split sizes."""
    sets = dict(sets or {})
    n_exc = sum(int(v) for v in excluded.values())
    exc_lines = [f"Excluded (n = {n_exc})"] + [f"\u2022 {k[:1].upper() + k[1:]} (n = {v})" for k, v in excluded.items()]
    height = 3.0 + 0.13 * len(exc_lines)
    fs = 7
    with publication_style():
        fig = new_figure(width, height)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(0, height)
        ax.set_axis_off()
        renderer = fig.canvas.get_renderer()
        pad = 0.07

        def box(cx, cy, text, ha="center", color=OKABE_ITO["blue"], left=None):
            t = ax.text(0, 0, text, ha=ha, va="center", fontsize=fs, linespacing=1.4)
            bb = t.get_window_extent(renderer)
            w, h = bb.width / fig.dpi + 2 * pad, bb.height / fig.dpi + 2 * pad
            x0 = left if left is not None else cx - w / 2
            t.set_position((x0 + pad if ha == "left" else x0 + w / 2, cy))
            ax.add_patch(
                FancyBboxPatch(
                    (x0, cy - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.04", fc="white", ec=color, lw=0.9
                )
            )
            return x0, cy - h / 2, w, h

        def arrow(p0, p1):
            ax.add_patch(
                FancyArrowPatch(
                    p0, p1, arrowstyle="-|>", mutation_scale=7, lw=0.8, color=OKABE_ITO["black"], shrinkA=0, shrinkB=0
                )
            )

        spine_x = width * 0.3
        top_y = height - 0.35
        x, y, w, h = box(spine_x, top_y, f"{screened_label}\n(n = {read})")
        screened_bottom = y
        inc_y = 0.35 + (1.0 if sets else 0.2) + 0.25
        xi, yi, wi, hi = box(spine_x, inc_y, f"{included_label}\n(n = {included})", color=OKABE_ITO["bluish_green"])
        arrow((spine_x, screened_bottom), (spine_x, yi + hi))
        mid_y = (screened_bottom + yi + hi) / 2
        xe, ye, we, he = box(
            0, mid_y, "\n".join(exc_lines), ha="left", color=OKABE_ITO["vermillion"], left=spine_x + 0.22
        )
        arrow((spine_x, mid_y), (xe, mid_y))
        if sets:
            n = len(sets)
            xs = [width * (k + 1) / (n + 1) for k in range(n)] if n > 1 else [spine_x]
            if n == 2:
                xs = [spine_x, min(width - 0.7, spine_x + 1.7)]
            set_y = 0.42
            for cx, (name, cnt) in zip(xs, sets.items()):
                bx, by, bw, bh = box(cx, set_y, f"{set_label(name)}\n(n = {cnt})")
                ax.plot([spine_x, spine_x], [yi, (yi + by + bh) / 2], color=OKABE_ITO["black"], lw=0.8)
                ax.plot([spine_x, cx], [(yi + by + bh) / 2] * 2, color=OKABE_ITO["black"], lw=0.8)
                arrow((cx, (yi + by + bh) / 2), (cx, by + bh))
    return fig
