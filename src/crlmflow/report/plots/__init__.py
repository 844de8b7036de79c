"""Publication figures (matplotlib, pyplot-free, deterministic bytes).

``plot_nomogram`` (rms-style nomogram, paper Fig. 2B), ``plot_forest`` (hazard ratios,
Fig. 2A), ``plot_cutpoint`` (maximally selected log-rank statistic, Suppl. Figs 3/4),
``plot_km`` / ``plot_km_grid`` (ggsurvplot-style Kaplan-Meier with risk table, Fig. 4,
Suppl. Fig. 5), ``plot_roc`` / ``plot_dca`` / ``plot_roc_dca`` (Figs 2-3 C-F), ``plot_nia`` (net
interventions avoided, supplementary),
``plot_calibration`` / ``plot_calibration_grid`` (Suppl. Figs 1-2), ``plot_partial_effects``
(rms ``Predict`` partial effects, beyond the paper), ``plot_flowchart``
(Fig. 1), ``stack_figures`` (multi-panel pages) and ``save_figure`` writing reproducible
PDF + 300-dpi PNG with lineage metadata.

Labels and number formats on the figures (sets, horizons, hazard ratios, p-values, units)
come from ``crlmflow.report.formats``. Imports run one way: ``style`` <- ``panels`` <- the
single-figure modules <- the composites (``roc_dca``).
"""

from crlmflow.report.plots.calibration import plot_calibration, plot_calibration_grid
from crlmflow.report.plots.cutpoint import plot_cutpoint
from crlmflow.report.plots.dca import plot_dca, plot_nia
from crlmflow.report.plots.flowchart import plot_flowchart
from crlmflow.report.plots.forest import plot_forest
from crlmflow.report.plots.km import plot_km, plot_km_grid
from crlmflow.report.plots.nomogram import plot_nomogram
from crlmflow.report.plots.panels import panel_letter, stack_figures
from crlmflow.report.plots.partial_effects import plot_partial_effects
from crlmflow.report.plots.ph import plot_ph
from crlmflow.report.plots.roc import plot_roc
from crlmflow.report.plots.roc_dca import plot_roc_dca
from crlmflow.report.plots.style import OKABE_ITO, figure_image, publication_style, save_figure

__all__ = [
    "OKABE_ITO",
    "figure_image",
    "panel_letter",
    "plot_calibration",
    "plot_calibration_grid",
    "plot_cutpoint",
    "plot_dca",
    "plot_nia",
    "plot_flowchart",
    "plot_forest",
    "plot_km",
    "plot_km_grid",
    "plot_ph",
    "plot_nomogram",
    "plot_partial_effects",
    "plot_roc",
    "plot_roc_dca",
    "publication_style",
    "save_figure",
    "stack_figures",
]
