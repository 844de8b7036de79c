"""Publication figures (matplotlib, pyplot-free, deterministic bytes).

``plot_nomogram`` (rms-style nomogram, paper Fig. 2B), ``plot_forest`` (hazard ratios,
Fig. 2A), ``plot_cutpoint`` (maximally selected log-rank statistic, Suppl. Figs 3/4), and
``save_figure`` writing reproducible PDF + 300-dpi PNG with lineage metadata.
"""

from .cutpoint import plot_cutpoint
from .forest import format_hr_ci, plot_forest
from .nomogram import plot_nomogram
from .style import OKABE_ITO, format_p, publication_style, save_figure

__all__ = [
    "OKABE_ITO",
    "format_hr_ci",
    "format_p",
    "plot_cutpoint",
    "plot_forest",
    "plot_nomogram",
    "publication_style",
    "save_figure",
]
