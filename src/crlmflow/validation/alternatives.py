"""Validation of the models beyond the paper with the paper model's own measures.

Each alternative (:mod:`crlmflow.model.alternatives`) is a fixed linear predictor with its
own baseline; :func:`evaluate_models` runs :func:`crlmflow.validation.performance.evaluate_set`
on it per set (C with its IJ CI, calibration slope, O/E and Crowson's calibration intercept
and slope, AUC, Brier, IPA, ICI/E50/E90 at the horizons, with the same not-estimable
rules), so every number is comparable with the paper model's ``performance.csv``; and
keeps the same function's curves (Heagerty's KM time-dependent ROC, grouped Kaplan–Meier
calibration, decision curves), drawn beside the paper model's.
Training-set values are apparent; the selection and the penalty were chosen on those
patients, so the validation set is the honest comparison.

:func:`stepwise_shrinkage` gives the uniform shrinkage factor of the stepwise model: the
optimism-corrected calibration slope of the selection-aware bootstrap (Harrell, Lee & Mark
1996; ``optimism.csv``), or, without the bootstrap, van Houwelingen & le Cessie's heuristic
(LR − p)/LR with p every candidate parameter (selection included).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crlmflow.model.alternatives import LinearCoxModel
from crlmflow.model.sample_size import heuristic_shrinkage
from crlmflow.report.formats import horizon_key
from crlmflow.validation.performance import evaluate_set

__all__ = ["CURVES", "evaluate_models", "stepwise_shrinkage"]


def stepwise_shrinkage(optimism: pd.DataFrame | None, *, lr_chisq: float | None, parameters: int) -> tuple[float, str]:
    """Uniform shrinkage factor and how it was obtained (see the module docstring)."""
    if optimism is not None and len(optimism):
        row = optimism[optimism["measure"].isin(["slope", "calibration_slope"])]
        if len(row) and np.isfinite(float(row["corrected"].iloc[0])):
            n = row["n_replicates"].iloc[0] if "n_replicates" in row else ""
            return float(row["corrected"].iloc[0]), f"bootstrap calibration slope, selection repeated ({n} replicates)"
    if lr_chisq is None:
        return float("nan"), "not available: no bootstrap and no model likelihood ratio"
    return heuristic_shrinkage(lr_chisq, parameters), f"heuristic (LR - p)/LR, p = {parameters} candidate parameters"


#: the tables :func:`evaluate_models` returns, as :func:`evaluate_set` names them
CURVES = ("performance", "roc", "calibration", "dca")


def evaluate_models(
    data: pd.DataFrame,
    models: Mapping[str, LinearCoxModel],
    time_col: str,
    event_col: str,
    horizons,
    sets,
    **evaluate_kw,
) -> dict[str, pd.DataFrame]:
    """Performance and validation curves of each fixed model on each set.

    Returns ``evaluate_set``'s four tables (``performance``, ``roc``: the KM time-dependent
    ROC curves, ``calibration``: grouped Kaplan–Meier calibration, ``dca``: the decision
    curves), each with columns ``model`` (the key of ``models``), ``set`` and
    ``evaluation`` (apparent on the training set) in front; so the alternatives' curves
    come from the one implementation that draws the paper model's. A table with no row
    (no model, or no estimable horizon) is empty.

    ``data`` holds the ``set`` column and every candidate; ``evaluate_kw`` are
    ``evaluate_set``'s other keywords (calibration groups, not-estimable minimums, decision
    thresholds)."""
    out: dict[str, list[pd.DataFrame]] = {k: [] for k in CURVES}
    for name, model in models.items():
        pred = model.predict(data, horizons)
        for s in sets:
            part = data["set"] == s
            if not part.any():
                continue
            res = evaluate_set(
                data.loc[part, time_col],
                data.loc[part, event_col],
                pred.loc[part, "lp"],
                {horizon_key(h): pred.loc[part, f"surv_{horizon_key(h)}"] for h in horizons},
                horizons,
                B=0,  # the bootstrap CI of C is the paper model's only: no random draws here
                rng=None,
                baseline=(model.baseline.time, model.baseline.cumhaz, model.center),
                development=(s == "train"),
                **evaluate_kw,
            )
            evaluation = "apparent" if s == "train" else "validation"
            for k in CURVES:
                if len(res[k]):
                    front = pd.DataFrame({"model": name, "set": s, "evaluation": evaluation}, index=res[k].index)
                    out[k].append(pd.concat([front, res[k]], axis=1))
    return {k: pd.concat(v, ignore_index=True) if v else pd.DataFrame() for k, v in out.items()}
