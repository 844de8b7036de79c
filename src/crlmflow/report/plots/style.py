"""Shared figure style and deterministic saving for the publication figures.

Palette: Okabe & Ito (2008) colour-blind-safe set. Sizes follow journal column widths
(BMC Cancer / Springer Nature: single column 85 mm, double 170 mm). Output is byte-for-byte
reproducible: fixed SVG hash salt, no PDF creation date, no PNG Software chunk, bundled
DejaVu Sans font (present in every matplotlib install, so text metrics never differ).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from crlmflow.report.formats import SIMULATED_TAG

__all__ = [
    "OKABE_ITO",
    "SINGLE_COLUMN_IN",
    "DOUBLE_COLUMN_IN",
    "RC_PARAMS",
    "publication_style",
    "new_figure",
    "save_figure",
    "HORIZON_COLORS",
    "DATA_SOURCE_KEY",
    "figure_image",
]

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: one colour per prediction horizon, shared by the ROC, decision-curve and calibration panels
HORIZON_COLORS = [OKABE_ITO[k] for k in ("vermillion", "blue", "bluish_green", "reddish_purple", "orange")]

MM = 1 / 25.4
SINGLE_COLUMN_IN = 85 * MM
DOUBLE_COLUMN_IN = 170 * MM
PNG_DPI = 300
PRODUCER = "crlmflow (matplotlib)"
#: lineage key naming where the data came from (``synthetic`` or ``file``)
DATA_SOURCE_KEY = "crlmflow:data_source"

RC_PARAMS: dict[str, object] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "axes.linewidth": 0.8,
    "xtick.major.width": 0.8,
    "ytick.major.width": 0.8,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "lines.linewidth": 1.2,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(
        color=[
            OKABE_ITO[k]
            for k in ("blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "yellow", "black")
        ]
    ),
    "figure.dpi": 100,
    "savefig.dpi": PNG_DPI,
    "savefig.bbox": "standard",  # fixed canvas: 'tight' can shift by a pixel between runs
    "pdf.fonttype": 42,  # TrueType in PDF: editable text for journals
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "svg.hashsalt": "crlmflow",  # deterministic SVG ids
    "path.simplify": False,
}


@contextmanager
def publication_style(**overrides: object) -> Iterator[None]:
    """Context with the project's rcParams (plus ``overrides``)."""
    with matplotlib.rc_context({**RC_PARAMS, **overrides}):
        yield


def new_figure(width_in: float, height_in: float) -> Figure:
    """A pyplot-free figure on an Agg canvas (no global state, no GUI, no leaks).

    Call inside ``publication_style()`` so artists pick up the project's rcParams.
    """
    fig = Figure(figsize=(width_in, height_in))
    FigureCanvasAgg(fig)  # attaches itself; gives a renderer for text-extent checks
    return fig


# where the "Simulated data" tag may go, in order: the figure's corners
_TAG_CORNERS = (
    (0.998, 0.002, "right", "bottom"),
    (0.002, 0.002, "left", "bottom"),
    (0.998, 0.998, "right", "top"),
    (0.002, 0.998, "left", "top"),
)


def _drawn_boxes(fig: Figure, renderer) -> list:
    """Window extents of what is drawn: texts (tick labels only of ticks within the view
    limits: matplotlib keeps unused tick labels around), legends and plotting areas."""
    ticks, shown = set(), []
    for ax in fig.axes:
        for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                labels = (tick.label1, tick.label2)
                ticks.update(id(t) for t in labels)
                if min(lim) <= tick.get_loc() <= max(lim) and tick.get_visible() and ax.axison:
                    shown += [t for t in labels if t.get_visible()]
    texts = [t for t in fig.findobj(matplotlib.text.Text) if id(t) not in ticks] + shown
    boxes = [t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text().strip()]
    boxes += [ax.patch.get_window_extent(renderer) for ax in fig.axes if ax.get_visible() and ax.axison]
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    boxes += [lg.get_window_extent(renderer) for lg in legends]
    return [b for b in boxes if b.width > 0 and b.height > 0]


def _stamp_simulated_tag(fig: Figure) -> None:
    """The small grey "Simulated data" tag in the first corner of the figure where it covers
    no text, legend or plotting area (bottom right by default: an x-axis label or a legend
    there moves it to the next corner); bottom right if every corner is taken."""
    with publication_style():
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        taken = _drawn_boxes(fig, renderer)
        for x, y, ha, va in _TAG_CORNERS:
            tag = fig.text(x, y, SIMULATED_TAG, ha=ha, va=va, fontsize=6, color="0.4", gid="simulated-tag")
            box = tag.get_window_extent(renderer).padded(1)
            if not any(box.overlaps(b) for b in taken):
                return
            tag.remove()
        x, y, ha, va = _TAG_CORNERS[0]
        fig.text(x, y, SIMULATED_TAG, ha=ha, va=va, fontsize=6, color="0.4", gid="simulated-tag")


def save_figure(
    fig: Figure, path_without_suffix: str | Path, metadata: Mapping[str, object] | None = None
) -> dict[str, Path]:
    """Write ``<path>.pdf`` (vector) and ``<path>.png`` (300 dpi) reproducibly.

    ``metadata`` (lineage: input checksums, config, commit...) is written, sorted by key,
    into PNG tEXt chunks and the PDF info dictionary; nothing depends on the wall clock.
    When the lineage says the data are simulated (``crlmflow:data_source: synthetic``,
    see ``crlmflow.pipeline.provenance.figure_lineage``) a small grey tag is stamped in the
    bottom-right corner, so a figure copied out of context still says so.
    Returns ``{"pdf": path, "png": path}``.
    """
    base = Path(path_without_suffix)
    base.parent.mkdir(parents=True, exist_ok=True)
    lineage = {str(k): str(v) for k, v in sorted((metadata or {}).items(), key=lambda kv: str(kv[0]))}
    pdf_meta: dict[str, object] = {"Creator": PRODUCER, "Producer": PRODUCER, "CreationDate": None}
    png_meta: dict[str, object] = {"Software": None}
    for k, v in lineage.items():
        pdf_meta.setdefault(k, v)
        png_meta[k] = v
    out = {"pdf": base.with_suffix(".pdf"), "png": base.with_suffix(".png")}
    if lineage.get(DATA_SOURCE_KEY) == "synthetic" and not any(t.get_gid() == "simulated-tag" for t in fig.texts):
        _stamp_simulated_tag(fig)
    # save-time rcParams (pdf.fonttype, svg.hashsalt) must be the project's too
    with publication_style(), warnings.catch_warnings():
        # custom PDF info keys are valid PDF; matplotlib only knows the standard ones
        warnings.filterwarnings("ignore", message="Unknown infodict keyword")
        fig.savefig(out["pdf"], format="pdf", metadata=pdf_meta)
        fig.savefig(out["png"], format="png", dpi=PNG_DPI, metadata=png_meta)
    return out


def figure_image(fig: Figure, dpi: int = 110):
    """The figure as an inline PNG for a notebook (``IPython.display.Image``).

    The figures here are pyplot-free, so Jupyter would only print ``<Figure size ...>``;
    returning this as a cell's last expression shows the picture in the executed notebook.
    """
    import io

    from IPython.display import Image

    buf = io.BytesIO()
    with publication_style():
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return Image(data=buf.getvalue(), format="png")
