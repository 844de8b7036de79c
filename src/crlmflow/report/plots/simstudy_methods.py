"""Figure of the simulation study's method comparison (``crlmflow.simulation.methods``): every
arm on the same replicate cohorts.

One row per endpoint, three panels:

* **Reported C − true C**: per arm, the distribution over replicates of the optimism-corrected
  C minus the fitted model's true C (and, for split-sample arms, of the split-sample C) as
  box plots (whiskers 1.5 IQR, no outliers drawn), mean marked by a diamond;
* **True calibration slope** of each fitted model on the independent cohort (box plots;
  1 = ideal, dashed);
* **Selection**: mean share of true and of noise predictors kept per arm, with Monte Carlo SE bars.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from crlmflow.report.plots.style import DOUBLE_COLUMN_IN, OKABE_ITO, new_figure, publication_style

__all__ = ["plot_method_comparison"]

_BOX = dict(
    widths=0.6,
    showfliers=False,
    medianprops=dict(color="black"),
    boxprops=dict(linewidth=0.8),
    whiskerprops=dict(linewidth=0.8),
    capprops=dict(linewidth=0.8),
    patch_artist=True,
)
CORRECTED, SPLIT = OKABE_ITO["orange"], OKABE_ITO["bluish_green"]
TRUE_COLOR, NOISE_COLOR = OKABE_ITO["vermillion"], OKABE_ITO["blue"]


def _boxes(ax, data, colors, labels, ref: float) -> None:
    pos = np.arange(1, len(data) + 1)
    ax.axhline(ref, color="#777777", linewidth=0.8, linestyle="--")
    keep = [i for i, d in enumerate(data) if d.size]
    if keep:
        bp = ax.boxplot([data[i] for i in keep], positions=pos[keep], **_BOX)
        for patch, i in zip(bp["boxes"], keep):
            patch.set_facecolor(colors[i])
            patch.set_alpha(0.55)
        ax.scatter(pos[keep], [data[i].mean() for i in keep], marker="D", s=14, color="black", zorder=3)
    ax.set_xticks(pos)
    ax.set_xticklabels(labels, rotation=35, ha="right")
    ax.set_xlim(0.4, len(data) + 0.6)


def _per_rep(reps: pd.DataFrame, arm: str) -> pd.DataFrame:
    return reps[reps["arm"] == arm].drop_duplicates("rep")


def plot_method_comparison(
    methods: pd.DataFrame,
    replicates: pd.DataFrame,
    *,
    arm_labels: dict | None = None,
    endpoint_labels: dict | None = None,
    title: str | None = None,
) -> Figure:
    """See the module docstring.  ``methods``: ``summarise_methods`` (arm, endpoint, true_kept,
    null_kept and their MCSE); ``replicates``: the gathered replicate table (rep, arm,
    endpoint, c_corrected, c_split, c_true, slope_true).  ``arm_labels``: short labels per arm."""
    arm_labels = arm_labels or {}
    ep_labels = endpoint_labels or {}
    endpoints = list(dict.fromkeys(methods["endpoint"]))
    arms = list(dict.fromkeys(methods["arm"]))
    height = 2.3 * len(endpoints) + 1.3
    with publication_style():
        fig = new_figure(DOUBLE_COLUMN_IN, height)
        grid = fig.add_gridspec(
            len(endpoints), 3, hspace=0.75, wspace=0.38, left=0.09, right=0.98,
            top=1 - (0.5 if title else 0.25) / height, bottom=1.25 / height,
        )  # fmt: skip
        for i, ep in enumerate(endpoints):
            reps = replicates[replicates["endpoint"] == ep]
            lab = ep_labels.get(ep, ep.upper())  # short labels: three panel titles share the row
            data, colors, labels = [], [], []
            for arm in arms:
                g = _per_rep(reps, arm)
                for col, color, suffix in (("c_corrected", CORRECTED, ""), ("c_split", SPLIT, " (split)")):
                    err = (g[col] - g["c_true"]).to_numpy(float)
                    if not np.isfinite(err).any():  # no split C; no corrected C (penalised_bootstrap_B 0)
                        continue
                    data.append(err[np.isfinite(err)])
                    colors.append(color)
                    labels.append(arm_labels.get(arm, arm) + suffix)
            ax = fig.add_subplot(grid[i, 0])
            _boxes(ax, data, colors, labels, 0.0)
            ax.set_ylabel("Reported C \u2212 true C")
            ax.set_title(f"{chr(65 + 3 * i)}  {lab}: C error", loc="left")
            ax = fig.add_subplot(grid[i, 1])
            slopes = [_per_rep(reps, a)["slope_true"].to_numpy(float) for a in arms]
            _boxes(ax, [s[np.isfinite(s)] for s in slopes], [OKABE_ITO["sky_blue"]] * len(arms),
                   [arm_labels.get(a, a) for a in arms], 1.0)  # fmt: skip
            ax.set_ylabel("True calibration slope")
            ax.set_title(f"{chr(66 + 3 * i)}  {lab}: calibration", loc="left")
            ax = fig.add_subplot(grid[i, 2])
            m = methods[methods["endpoint"] == ep].set_index("arm").reindex(arms)
            x = np.arange(len(arms))
            for off, col, color in ((-0.2, "true_kept", TRUE_COLOR), (0.2, "null_kept", NOISE_COLOR)):
                ax.bar(x + off, m[col].fillna(0), width=0.38, color=color,
                       yerr=m[f"{col}_mcse"].fillna(0), error_kw=dict(elinewidth=0.6, capsize=1.2))  # fmt: skip
            ax.set_xticks(x)
            ax.set_xticklabels([arm_labels.get(a, a) for a in arms], rotation=35, ha="right")
            ax.set_ylim(0, 1.05)
            ax.set_ylabel("Share of predictors kept")
            ax.set_title(f"{chr(67 + 3 * i)}  {lab}: selection", loc="left")
        handles = [
            Patch(color=CORRECTED, alpha=0.55, label="optimism-corrected C"),
            Patch(color=SPLIT, alpha=0.55, label="split-sample C"),
            Patch(color=TRUE_COLOR, label="true predictors"),
            Patch(color=NOISE_COLOR, label="noise predictors"),
        ]
        fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, bbox_to_anchor=(0.5, 0.0))
        if title:
            fig.suptitle(title, x=0.02, y=1 - 0.1 / height, ha="left", va="top", fontsize=9, fontweight="bold")
    return fig
