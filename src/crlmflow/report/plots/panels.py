"""Multi-panel helpers: panel letters and stacking finished figures into one exhibit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
from matplotlib.figure import Figure

if TYPE_CHECKING:
    import pandas as pd

from crlmflow.report.plots.style import DOUBLE_COLUMN_IN, new_figure, publication_style

__all__ = ["panel_letter", "figure_to_rgba", "stack_figures", "plot_roc_dca"]


def panel_letter(ax, letter: str, *, x: float = -0.16, y: float = 1.04, fontsize: float = 11) -> None:
    """Bold panel letter at the top-left corner of ``ax`` (axes coordinates)."""
    ax.text(x, y, letter, transform=ax.transAxes, ha="left", va="bottom", fontsize=fontsize,
            fontweight="bold")


def figure_to_rgba(fig: Figure, dpi: int = 300) -> np.ndarray:
    """Render a (pyplot-free) figure to an RGBA array at ``dpi`` (deterministic Agg raster)."""
    with publication_style():
        old = fig.dpi
        fig.set_dpi(dpi)
        try:
            fig.canvas.draw()
            arr = np.asarray(fig.canvas.buffer_rgba()).copy()
        finally:
            fig.set_dpi(old)
    return arr


def stack_figures(figs: Sequence[Figure], letters: Sequence[str | None] = (), *,
                  width: float = DOUBLE_COLUMN_IN, dpi: int = 300, letter_size: float = 11) -> Figure:
    """Stack finished figures vertically into one exhibit, each scaled to ``width``.

    The parts are placed as 300-dpi rasters (so figures built by other functions, such as
    the forest plot and the nomogram, can share one page); the panel files keep the vector
    versions. ``letters[i]`` (e.g. 'A') is printed at the top-left of part i.
    """
    imgs = [figure_to_rgba(f, dpi) for f in figs]
    heights = [width * im.shape[0] / im.shape[1] for im in imgs]
    total = sum(heights)
    with publication_style():
        fig = new_figure(width, total)
        top = 1.0
        for k, (im, h) in enumerate(zip(imgs, heights)):
            frac = h / total
            ax = fig.add_axes((0, top - frac, 1, frac))
            ax.imshow(im, interpolation="none", aspect="auto")
            ax.set_axis_off()
            letter = letters[k] if k < len(letters) else None
            if letter:
                fig.text(0.005, top - 0.04 / total, letter, ha="left", va="top", fontsize=letter_size,
                         fontweight="bold")
            top -= frac
    return fig


def plot_roc_dca(roc: "pd.DataFrame", dca: "pd.DataFrame", aucs: dict, sets: Sequence[str], *,
                 set_labels: dict | None = None, letters: str = "CDEF", horizons: Sequence[float] | None = None,
                 width: float = DOUBLE_COLUMN_IN) -> Figure:
    """Figures 2/3 C-F: time-dependent ROC (top row) and decision curves (bottom row), one
    column per set. ``aucs`` maps set -> {horizon: AUC}. With one set the figure has one
    column and letters C and E."""
    from crlmflow.report.plots.dca import dca_ylim, draw_dca
    from crlmflow.report.plots.roc import draw_roc

    labels = {"train": "Training set", "validation": "Validation set"} | dict(set_labels or {})
    n = len(sets)
    w = width if n > 1 else width * 0.55
    with publication_style():
        fig = new_figure(w, 6.3)
        gs = fig.add_gridspec(2, n, left=0.1 if n > 1 else 0.18, right=0.98, top=0.95, bottom=0.08,
                              wspace=0.3, hspace=0.35)
        ylim = dca_ylim(dca[dca["set"].isin(sets)])
        for j, s in enumerate(sets):
            ax = fig.add_subplot(gs[0, j])
            draw_roc(ax, roc[roc["set"] == s], aucs.get(s, {}), horizons=horizons,
                     title=f"Time-dependent ROC, {labels.get(s, s).lower()}")
            panel_letter(ax, letters[j], x=-0.2, y=1.02)
            ax = fig.add_subplot(gs[1, j])
            draw_dca(ax, dca[dca["set"] == s], horizons=horizons, ylim=ylim,
                     title=f"Decision curves, {labels.get(s, s).lower()}")
            panel_letter(ax, letters[n + j], x=-0.2, y=1.02)
    return fig
