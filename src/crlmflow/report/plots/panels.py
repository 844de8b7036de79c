"""Multi-panel helpers: panel letters and stacking finished figures into one exhibit.

The single-figure modules (ROC, decision curves, calibration, Kaplan–Meier) import
``panel_letter`` from here; this module imports none of them, so composite figures that
combine several kinds of panel live in their own modules (``roc_dca``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from crlmflow.report.plots.style import DOUBLE_COLUMN_IN, new_figure, publication_style

__all__ = ["panel_letter", "figure_to_rgba", "stack_figures"]


def panel_letter(ax, letter: str, *, x: float = -0.16, y: float = 1.04, fontsize: float = 11) -> None:
    """Bold panel letter at the top-left corner of ``ax`` (axes coordinates)."""
    ax.text(x, y, letter, transform=ax.transAxes, ha="left", va="bottom", fontsize=fontsize, fontweight="bold")


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


def stack_figures(
    figs: Sequence[Figure],
    letters: Sequence[str | None] = (),
    *,
    width: float = DOUBLE_COLUMN_IN,
    dpi: int = 300,
    letter_size: float = 11,
) -> Figure:
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
                fig.text(
                    0.005, top - 0.04 / total, letter, ha="left", va="top", fontsize=letter_size, fontweight="bold"
                )
            top -= frac
    return fig
