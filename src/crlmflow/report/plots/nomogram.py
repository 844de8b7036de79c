"""Nomogram figure in the layout of ``rms::plot.nomogram`` (paper Figure 2B).

Rows from the top: Points (0-100), one axis per predictor (ticks at their points), Total
Points, Linear Predictor and one survival-probability axis per horizon. Total points, lp and
survival axes share one scale, stretched so the total-points axis spans the full width, as
rms draws them. Tick labels that would collide alternate above/below the axis line, and a
label that still collides is dropped (its tick stays), so no text overlaps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from crlmflow.model.nomogram import NomogramResult, SurvivalAxis
from crlmflow.report.formats import format_unit, horizon_label
from crlmflow.report.plots.style import DOUBLE_COLUMN_IN, OKABE_ITO, new_figure, publication_style

__all__ = ["plot_nomogram"]

TICK = 0.10  # tick length, in row units (one row = one axis)
LABEL_GAP = 0.13  # distance from the axis line to a tick label, in row units
PAD_PT = 3.0  # minimum horizontal white space between two labels, in points


@dataclass
class _Row:
    label: str
    x: np.ndarray  # tick positions on the shared 0..maxscale width
    text: list[str]  # tick labels ('' = unlabelled minor tick)
    color: str = OKABE_ITO["black"]
    line: tuple[float, float] | None = None  # explicit extent of the axis line
    sides: list[str] | None = None  # per tick "above"/"below": a non-monotone (spline) axis


def _fmt_num(v: float) -> str:
    # round away representation noise (0.20000000000000018 -> 0.2) before formatting
    return f"{round(float(v), 10):g}"


def _fmt_value(v: object) -> str:
    return v if isinstance(v, str) else _fmt_num(float(v))  # type: ignore[arg-type]


def _merge_coincident(x: np.ndarray, text: list[str]) -> tuple[np.ndarray, list[str]]:
    """Ticks at the same position (a zero effect between levels) share one joined label."""
    order = np.argsort(x, kind="stable")
    xs, ts = [], []
    for i in order:
        if xs and abs(x[i] - xs[-1]) < 1e-9:
            ts[-1] = f"{ts[-1]}/{text[i]}" if text[i] else ts[-1]
        else:
            xs.append(float(x[i]))
            ts.append(text[i])
    return np.array(xs), ts


def _predictor_rows(
    nomo: NomogramResult, labels: Mapping[str, str] | None, value_labels: Mapping[str, Mapping[object, str]] | None
) -> list[_Row]:
    rows = []
    for name, ax in nomo.predictors.items():
        label = (labels or {}).get(name) or ax.label or name
        unit = format_unit(ax.unit)
        # 'Hospital days' with unit 'days' stays 'Hospital days', not 'Hospital days (days)'
        if unit and not (labels and name in labels) and not label.lower().endswith(unit.lower()):
            label = f"{label} ({unit})"
        vl = (value_labels or {}).get(name, {})
        text = []
        for v in ax.values:
            key = v if isinstance(v, str) else float(v)
            text.append(str(vl.get(key, vl.get(v, _fmt_value(v)))) if vl else _fmt_value(v))
        run = ax.label_sides()
        if run.any():  # non-monotone spline axis: rms's runs of labels, alternately above/below
            sides = ["below" if r else "above" for r in run]
            rows.append(_Row(label, np.asarray(ax.points, float), text, sides=sides))
            continue
        x, t = _merge_coincident(np.asarray(ax.points, float), text)
        rows.append(_Row(label, x, t))
    return rows


def plot_nomogram(
    nomogram: NomogramResult,
    survival_axes: Mapping[float, SurvivalAxis] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    value_labels: Mapping[str, Mapping[object, str]] | None = None,
    survival_labels: Mapping[float, str] | None = None,
    lp_label: str | None = "Linear Predictor",
    points_minor: float = 5.0,
    width: float = DOUBLE_COLUMN_IN,
    row_height: float = 0.36,
    label_width: float | None = None,
    title: str | None = None,
) -> Figure:
    """Draw a Cox nomogram from ``nomogram_points`` and ``survival_axes`` results.

    ``labels`` maps predictor names to row labels (default: spec label + unit);
    ``value_labels`` maps predictor -> {value: text} (e.g. ``{0: "No", 1: "Yes"}``);
    ``survival_labels`` maps horizon -> row label (default ``horizon_label(h) + ' survival'``, e.g. '1-year survival').
    A predictor with a negative effect runs right-to-left, as its points dictate. A survival
    axis that is not drawable (its ``note`` set, e.g. no event before the horizon) is
    omitted and its note printed under the nomogram.
    """
    maxscale = nomogram.maxscale
    total_max = float(np.max(nomogram.total_points_axis))
    stretch = maxscale / total_max  # total points -> shared width

    rows: list[_Row] = []
    major = np.arange(0, maxscale + 1e-9, 10.0)
    minor = np.setdiff1d(np.arange(0, maxscale + 1e-9, points_minor), major)
    px = np.concatenate([major, minor])
    rows.append(_Row("Points", px, [_fmt_num(v) for v in major] + [""] * minor.size))
    rows += _predictor_rows(nomogram, labels, value_labels)
    tp = np.asarray(nomogram.total_points_axis, float)
    rows.append(_Row("Total Points", tp * stretch, [_fmt_num(v) for v in tp]))
    if lp_label:
        rows.append(
            _Row(lp_label, np.asarray(nomogram.lp_axis_points) * stretch, [_fmt_num(v) for v in nomogram.lp_axis_lp])
        )
    for h, sa in (survival_axes or {}).items():
        if sa.surv.size == 0:
            continue
        lab = (survival_labels or {}).get(h) or f"{horizon_label(h)} survival"
        rows.append(_Row(lab, sa.total_points * stretch, [_fmt_num(s) for s in sa.surv], color=OKABE_ITO["blue"]))

    notes = [sa.note for sa in (survival_axes or {}).values() if sa.note]
    n = len(rows)
    top_pad, bottom_pad = (0.45 if title else 0.2), 0.15 + 0.16 * len(notes)
    height = n * row_height + top_pad + bottom_pad
    with publication_style():
        fig = new_figure(width, height)
        renderer = fig.canvas.get_renderer()
        if label_width is None:
            # room for the longest row label (measured, not guessed from character counts)
            widths = []
            for r in rows:
                t = fig.text(0, 0, r.label, fontsize=8, fontweight="bold")
                widths.append(t.get_window_extent(renderer).width / fig.dpi)
                t.remove()
            label_width = max(widths) + 0.15
        left = label_width / width
        ax = fig.add_axes((left, bottom_pad / height, 1 - left - 0.3 / width, n * row_height / height))
        xs_all = np.concatenate([r.x for r in rows])
        lo, hi = min(0.0, float(xs_all.min())), max(maxscale, float(xs_all.max()))
        ax.set_xlim(lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo))
        ax.set_ylim(-n + 0.5, 0.55)
        ax.set_axis_off()
        to_data = ax.transData.inverted()
        pad = PAD_PT / 72 * fig.dpi  # points -> display pixels
        fs = 7
        for i, row in enumerate(rows):
            y = -float(i)
            x0, x1 = row.line if row.line else (float(row.x.min()), float(row.x.max()))
            ax.plot([x0, x1], [y, y], color=row.color, lw=0.8, solid_capstyle="butt")
            for k, (xv, t) in enumerate(zip(row.x, row.text)):
                h = (TICK if t else TICK * 0.55) * (-1 if row.sides and row.sides[k] == "below" else 1)
                ax.plot([xv, xv], [y, y + h], color=row.color, lw=0.8, solid_capstyle="butt")
            ax.text(
                -0.012,
                y,
                row.label,
                transform=ax.get_yaxis_transform(),
                ha="right",
                va="center",
                fontsize=8,
                color=row.color if i else OKABE_ITO["black"],
                fontweight="bold" if row.label in ("Points", "Total Points") else "normal",
            )
            _place_labels(ax, row, y, fs, renderer, to_data, pad)
        if title:
            fig.text(0.5, 1 - 0.12 / height, title, ha="center", va="top", fontsize=9, fontweight="bold")
        for k, note in enumerate(notes):
            fig.text(0.02, (0.05 + 0.16 * k) / height, f"Note: {note}.", ha="left", va="bottom", fontsize=7)
    return fig


def _place_labels(ax, row: _Row, y: float, fs: float, renderer, to_data, pad: float) -> None:
    """Place tick labels without overlap.

    All above the line when they fit; otherwise alternate above/below (a regular zig-zag
    reads better than ad-hoc moves), and a label that still collides with its neighbour on
    the same side is dropped (the tick stays), as rms thins crowded axes.
    """
    sides = {"above": (y + LABEL_GAP, "bottom"), "below": (y - LABEL_GAP * 0.55, "top")}

    def make(xv: float, t: str, where: str):
        yy, va = sides[where]
        return ax.text(xv, yy, t, ha="center", va=va, fontsize=fs, color=row.color)

    if row.sides:  # a spline's runs keep their sides; a crowded label on a side is dropped
        placed: dict[str, list] = {"above": [], "below": []}
        for xv, t, where in sorted(zip(map(float, row.x), row.text, row.sides)):
            tx = make(xv, t, where)
            bb = tx.get_window_extent(renderer)
            if any(bb.x0 < o.x1 + pad and o.x0 < bb.x1 + pad for o in placed[where]):
                tx.remove()
            else:
                placed[where].append(bb)
        return
    items = sorted((float(x), t) for x, t in zip(row.x, row.text) if t)

    texts = [make(xv, t, "above") for xv, t in items]
    boxes = [tx.get_window_extent(renderer) for tx in texts]
    if all(b2.x0 >= b1.x1 + pad for b1, b2 in zip(boxes, boxes[1:])):
        return
    for tx in texts:
        tx.remove()
    last_right = {"above": -np.inf, "below": -np.inf}
    for k, (xv, t) in enumerate(items):
        where = "above" if k % 2 == 0 else "below"
        tx = make(xv, t, where)
        bb = tx.get_window_extent(renderer)
        if bb.x0 >= last_right[where] + pad:
            last_right[where] = bb.x1
        else:
            tx.remove()  # still crowded: keep the tick, drop its label
