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

__all__ = ["panel_letter", "figure_to_rgba", "stack_figures", "PAGE_HEIGHT_IN", "MIN_PAGE_SCALE"]

#: the tallest figure a journal page takes (170 x 225 mm at double-column width)
PAGE_HEIGHT_IN = 225 / 25.4
#: smallest scale a stacked page may be shrunk by to fit the page: the figures' smallest
#: text is 7 pt (6.5 pt in a few legends), so 6/7 keeps every font at 6 pt or more in print
MIN_PAGE_SCALE = 6 / 7


def panel_letter(ax, letter: str, *, x: float = -0.16, y: float = 1.04, fontsize: float = 11) -> None:
    """Bold panel letter at the top-left corner of ``ax`` (axes coordinates)."""
    ax.text(x, y, letter, transform=ax.transAxes, ha="left", va="bottom", fontsize=fontsize, fontweight="bold")


def figure_to_rgba(fig: Figure, dpi: int = 300) -> np.ndarray:
    """Render a (pyplot-free) figure to an RGBA array at ``dpi`` (deterministic Agg raster)."""
    with publication_style():
        old = fig.dpi
        # a part's own 'simulated data' tag: the stacked page gets one tag, not one per part
        tags = [t for t in fig.texts if t.get_gid() == "simulated-tag" and t.get_visible()]
        fig.set_dpi(dpi)
        try:
            for t in tags:
                t.set_visible(False)
            fig.canvas.draw()
            arr = np.asarray(fig.canvas.buffer_rgba()).copy()
        finally:
            fig.set_dpi(old)
            for t in tags:
                t.set_visible(True)
    return arr


def stack_figures(
    figs: Sequence[Figure],
    letters: Sequence[str | None] = (),
    *,
    width: float = DOUBLE_COLUMN_IN,
    dpi: int = 300,
    letter_size: float = 11,
    max_height: float | None = PAGE_HEIGHT_IN,
) -> Figure:
    """Stack finished figures vertically into one exhibit, each scaled to ``width``.

    The parts are placed as 300-dpi rasters (so figures built by other functions, such as
    the forest plot and the nomogram, can share one page); the panel files keep the vector
    versions. ``letters[i]`` (e.g. 'A') is printed at the top-left of part i.  A stack taller
    than ``max_height`` (inches; a journal page) is shrunk to fit, narrower than ``width``,
    by at most ``MIN_PAGE_SCALE`` so no text falls below 6 pt; a stack that would need more
    raises ``ValueError`` (split it into more pages).
    """
    imgs = [figure_to_rgba(f, dpi) for f in figs]
    heights = [width * im.shape[0] / im.shape[1] for im in imgs]
    total = sum(heights)
    if max_height is not None and total > max_height:
        scale = max_height / total
        if scale < MIN_PAGE_SCALE - 1e-9:
            raise ValueError(
                f"stacked figure is {total * 25.4:.0f} mm tall; a page holds {max_height * 25.4:.0f} mm and "
                f"shrinking it to fit would print text below 6 pt: split it into more pages"
            )
        width, heights, total = width * scale, [h * scale for h in heights], max_height
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
