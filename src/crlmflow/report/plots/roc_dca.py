"""Figures 2/3 C-F: time-dependent ROC curves above decision curves, one column per set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure

from crlmflow.report.formats import APPARENT, set_label
from crlmflow.report.plots.dca import dca_ylim, draw_dca
from crlmflow.report.plots.panels import panel_letter
from crlmflow.report.plots.roc import draw_roc
from crlmflow.report.plots.style import DOUBLE_COLUMN_IN, new_figure, publication_style

__all__ = ["plot_roc_dca", "set_title_suffix"]


def set_title_suffix(s: str, set_labels: Mapping[str, str] | None = None) -> str:
    """'training set (apparent)': curves on the patients the model was fitted to are
    apparent, not optimism-corrected, and say so."""
    lab = set_label(s, set_labels).lower()
    return f"{lab} ({APPARENT})" if s == "train" else lab


def plot_roc_dca(
    roc: pd.DataFrame,
    dca: pd.DataFrame,
    aucs: dict,
    sets: Sequence[str],
    *,
    set_labels: dict | None = None,
    letters: str = "CDEF",
    horizons: Sequence[float] | None = None,
    width: float = DOUBLE_COLUMN_IN,
    events: Mapping[str, Mapping[float, float]] | None = None,
    auc_ci: Mapping[str, Mapping[float, tuple[float, float, float]]] | None = None,
    event: str | None = None,
) -> Figure:
    """Figures 2/3 C-F: time-dependent ROC (top row) and decision curves (bottom row), one
    column per set. ``aucs`` maps set -> {horizon: AUC}; ``events`` set -> {horizon: events
    by then}; ``auc_ci`` set -> {horizon: (IPCW AUC, lower, upper)}; ``event`` names the
    endpoint's event on the decision curves' x axis. With one set the figure has one column
    and letters C and E."""
    n = len(sets)
    w = width if n > 1 else width * 0.55
    with publication_style():
        fig = new_figure(w, 6.3)
        gs = fig.add_gridspec(
            2, n, left=0.1 if n > 1 else 0.18, right=0.98, top=0.95, bottom=0.08, wspace=0.3, hspace=0.35
        )
        ylim = dca_ylim(dca[dca["set"].isin(sets)])
        for j, s in enumerate(sets):
            ax = fig.add_subplot(gs[0, j])
            draw_roc(
                ax,
                roc[roc["set"] == s],
                aucs.get(s, {}),
                horizons=horizons,
                title=f"Time-dependent ROC, {set_title_suffix(s, set_labels)}",
                events=(events or {}).get(s),
                auc_ci=(auc_ci or {}).get(s),
            )
            panel_letter(ax, letters[j], x=-0.2, y=1.02)
            ax = fig.add_subplot(gs[1, j])
            draw_dca(
                ax,
                dca[dca["set"] == s],
                horizons=horizons,
                ylim=ylim,
                title=f"Decision curves, {set_title_suffix(s, set_labels)}",
                event=event,
            )
            panel_letter(ax, letters[n + j], x=-0.2, y=1.02)
    return fig
