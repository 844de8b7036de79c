"""Figure of the simulation study (``crlmflow.simulation.study``): selection frequency of true and
null predictors, and the errors of the split-sample and optimism-corrected C-index.

Top row, one panel per endpoint: the share of replicates whose final model contains each
candidate (horizontal bars, Monte Carlo SE as error bars), true predictors (nonzero true
log-HR) in vermillion, null predictors in blue, the screening-only candidate left grey.
Bottom row: per endpoint, the distribution over replicates of estimate - true C for the
split-sample C (validation set) and the optimism-corrected C (training-set bootstrap), as
box plots (whiskers 1.5 IQR) with the replicates as jittered points (seeded jitter), the
mean marked by a diamond, mean error and RMSE under each box; one y scale for all endpoints.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from crlmflow.pipeline.streams import stream
from crlmflow.report.plots.style import DOUBLE_COLUMN_IN, OKABE_ITO, new_figure, publication_style
from crlmflow.simulation.study import NULL, TRUE

__all__ = ["plot_simulation_study", "ROLE_COLORS", "C_ESTIMATORS"]

ROLE_COLORS = {TRUE: OKABE_ITO["vermillion"], NULL: OKABE_ITO["blue"]}
NOT_ESTIMABLE_COLOR = "#BBBBBB"
#: (column of the replicates table, label) of the C estimators compared with the true C
C_ESTIMATORS = [("c_split", "Split-sample\n(30% validation)"), ("c_corrected", "Optimism-corrected\n(bootstrap)")]


def _selection_panel(ax, pred: pd.DataFrame, title: str, show_labels: bool = True) -> None:
    pred = pred[pred["role"].isin([TRUE, NULL])]
    n = len(pred)
    y = np.arange(n)[::-1]
    freq = pred["selection_freq"].to_numpy(float)
    se = pred["selection_freq_mcse"].to_numpy(float)
    est = pred["estimable"].astype(bool).to_numpy()
    colors = [ROLE_COLORS[r] if e else NOT_ESTIMABLE_COLOR for r, e in zip(pred["role"], est)]
    ax.barh(
        y,
        np.nan_to_num(freq),
        color=colors,
        height=0.7,
        xerr=np.nan_to_num(se),
        error_kw=dict(ecolor="#444444", elinewidth=0.6, capsize=1.2),
    )
    ax.set_yticks(y)
    if show_labels:
        ax.set_yticklabels(pred["label"].tolist())
        for tick, e in zip(ax.get_yticklabels(), est):
            if not e:
                tick.set_color(NOT_ESTIMABLE_COLOR)
    else:
        ax.set_yticklabels([])
    ax.set_xlim(0, 1.0)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel("Selection frequency")
    ax.set_title(title, loc="left")
    ax.axvline(1.0, color="#999999", linewidth=0.6)


def _c_panel(
    ax, reps: pd.DataFrame, c_table: pd.DataFrame | None, title: str, rng: np.random.Generator, ylabel: bool = True
) -> None:
    per_rep = reps.drop_duplicates("rep")
    data, labels = [], []
    for col, label in C_ESTIMATORS:
        err = (per_rep[col] - per_rep["c_true"]).to_numpy(float)
        data.append(err[np.isfinite(err)])
        labels.append(label)
    pos = np.arange(1, len(data) + 1)
    ax.axhline(0.0, color="#777777", linewidth=0.8, linestyle="--")
    ax.boxplot(
        data,
        positions=pos,
        widths=0.5,
        showfliers=False,
        medianprops=dict(color="black"),
        boxprops=dict(linewidth=0.8),
        whiskerprops=dict(linewidth=0.8),
        capprops=dict(linewidth=0.8),
    )
    colors = [OKABE_ITO["bluish_green"], OKABE_ITO["orange"]]
    for p, d, c in zip(pos, data, colors):
        if d.size:
            ax.scatter(p + rng.uniform(-0.18, 0.18, d.size), d, s=4, color=c, alpha=0.6, linewidths=0)
            ax.scatter([p], [d.mean()], marker="D", s=18, color="black", zorder=3)
    if c_table is not None:
        names = {"c_split": "split_sample", "c_corrected": "optimism_corrected"}
        rows = c_table.set_index("estimator")
        for i, (col, _) in enumerate(C_ESTIMATORS):
            if names[col] in rows.index and np.isfinite(rows.loc[names[col], "mean_error"]):
                r = rows.loc[names[col]]
                labels[i] += f"\nmean {r['mean_error']:+.3f}\nRMSE {r['rmse']:.3f}".replace("-", "\u2212")
    ax.set_xticks(pos)
    ax.set_xticklabels(labels)
    ax.set_xlim(0.4, len(data) + 0.6)
    if ylabel:
        ax.set_ylabel("Estimated C \u2212 true C")
    else:
        ax.tick_params(labelleft=False)
    ax.set_title(title, loc="left")


def plot_simulation_study(
    predictors: pd.DataFrame,
    replicates: pd.DataFrame,
    c_index: pd.DataFrame | None = None,
    *,
    endpoint_labels: dict | None = None,
    title: str | None = None,
    seed: int = 0,
) -> Figure:
    """Two rows x one column per endpoint; see the module docstring.

    ``predictors``: ``simstudy.summarise_predictors`` (endpoint, label, role, estimable,
    selection_freq, selection_freq_mcse); ``replicates``: the gathered replicate table
    (rep, endpoint, c_split, c_corrected, c_true); ``c_index``: ``simstudy.summarise_c``
    (optional, for the mean error and RMSE printed under the boxes).  ``seed`` fixes the
    horizontal jitter of the points (named stream ``figure_jitter``, panels in order).
    """
    endpoints = list(dict.fromkeys(predictors["endpoint"]))
    labels = endpoint_labels or {}
    shown = predictors[predictors["role"].isin([TRUE, NULL])]
    n_terms = int(shown.groupby("endpoint").size().max())
    # the same candidates in the same order for every endpoint: label the first panel only
    same = len({tuple(g["term"]) for _, g in shown.groupby("endpoint", sort=False)}) == 1
    top_in = max(2.0, 0.13 * n_terms + 0.3)
    bottom_in = 2.0
    height = top_in + bottom_in + 1.9
    with publication_style():
        fig = new_figure(DOUBLE_COLUMN_IN, height)
        grid = fig.add_gridspec(
            2,
            len(endpoints),
            height_ratios=[top_in, bottom_in],
            hspace=0.95 / (height / 2),
            wspace=0.15 if same else 0.9,
            left=0.28,
            right=0.97,
            top=1 - (0.6 if title else 0.3) / height,
            bottom=1.0 / height,
        )
        jitter = stream(seed, "figure_jitter")
        first_c = None  # the C-error panels share their y axis (one scale for all endpoints)
        for j, ep in enumerate(endpoints):
            lab = labels.get(ep, ep.upper())
            _selection_panel(
                fig.add_subplot(grid[0, j]),
                predictors[predictors["endpoint"] == ep],
                f"{chr(65 + j)}  {lab}",
                show_labels=j == 0 or not same,
            )
            ct = None if c_index is None else c_index[c_index["endpoint"] == ep]
            ax = fig.add_subplot(grid[1, j], sharey=first_c)
            first_c = first_c or ax
            _c_panel(
                ax,
                replicates[replicates["endpoint"] == ep],
                ct,
                f"{chr(65 + len(endpoints) + j)}  {lab}",
                jitter,
                ylabel=j == 0,
            )
        handles = [
            Patch(color=ROLE_COLORS[TRUE], label="true predictor"),
            Patch(color=ROLE_COLORS[NULL], label="null predictor"),
            Patch(color=NOT_ESTIMABLE_COLOR, label="not in the multivariable pool"),
        ]
        fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, bbox_to_anchor=(0.5, 0.0))
        if title:
            fig.suptitle(title, x=0.02, y=1 - 0.12 / height, ha="left", va="top", fontsize=9, fontweight="bold")
    return fig
