"""Selection-aware bootstrap bias correction of the grouped calibration curve.

``rms::calibrate(cph, cmethod = "KM", B)`` refits the *final* model's terms in every resample
(``bw = FALSE``): the variable selection that produced those terms is not repeated, so the
optimism it estimates leaves out the largest source of overfitting (Harrell, Regression
Modeling Strategies, 2nd ed., sec. 5.3; Steyerberg, Clinical Prediction Models, 2nd ed.,
ch. 17).  ``calibrate_selection_aware`` repeats the whole procedure (univariable screening,
then stepAIC / Forward LR) in each resample, exactly as the optimism bootstrap does
(``validation.optimism.ReplicateEngine``), and otherwise follows rms: group the resample's
and the original patients' predictions by the original cuts and subtract the mean optimism of
(KM − mean predicted) per group.  The rms-equal variant stays available as
``validation.performance.calibrate_bias_corrected``.

Smooth curve (Austin, Harrell & van Klaveren, Stat Med 2020, sec. 3.3): the same replicates
give the optimism of the smoothed observed risk on a fixed grid of predicted risk (spline
calibration model of the resample evaluated on the resample minus on the original data);
the corrected curve is the apparent one minus that mean optimism.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.pipeline.streams import stream
from crlmflow.survival.cox import CoxData
from crlmflow.validation._km import TimeSortedSample
from crlmflow.validation.calibration import (
    NotEstimableError,
    calibration_km_grouped,
    grouped_index,
    smooth_calibration_curve,
)
from crlmflow.validation.optimism import ReplicateEngine

__all__ = ["calibrate_selection_aware"]


def calibrate_selection_aware(
    train_df: pd.DataFrame,
    candidates,
    time_col: str,
    event_col: str,
    predicted_surv: np.ndarray,
    horizons,
    *,
    B: int,
    seed: int,
    endpoint_index: int,
    set_index: int,
    calibration_groups: int = 4,
    screen_p: float = 0.10,
    exclude=(),
    method: str = "stepaic_both",
    entry_p: float = 0.05,
    removal_p: float = 0.10,
    entry_test: str = "lr",
    grid_points: int = 50,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grouped and smooth calibration at each horizon, bias-corrected with selection repeated.

    ``predicted_surv`` (n x horizons) are the final model's apparent predictions on
    ``train_df``; the selection options (``entry_test`` too: Forward-LR's score or LR entry
    test) must be those that selected the final model, or another procedure is repeated.  Replicate b resamples with ``stream(seed, "calibration_bootstrap",
    endpoint_index, set_index, b)``, the stream of the rms-equal variant, so both variants
    see the same resamples.

    Returns (grouped table with ``optimism, index_corrected, km_corrected, n_bootstrap,
    n_nothing_selected``; smooth table per horizon and grid point with ``predicted_risk,
    observed_apparent, optimism, observed_corrected``).
    """
    engine = ReplicateEngine(
        train_df,
        candidates,
        time_col,
        event_col,
        list(horizons),
        screen_p=screen_p,
        exclude=tuple(exclude),
        method=method,
        entry_p=entry_p,
        removal_p=removal_p,
        entry_test=entry_test,
    )
    t, e = engine.time, engine.event
    n = t.size
    H = list(horizons)
    pred = np.asarray(predicted_surv, float)
    cals = [calibration_km_grouped(t, e, pred[:, j], h, g=calibration_groups) for j, h in enumerate(H)]
    grids, apparent_smooth = [], []
    prior = None  # the horizons' predictions of one Cox model share their calibration model
    for j, h in enumerate(H):
        risk = 1.0 - pred[:, j]
        grid = np.linspace(np.quantile(risk, 0.01), np.quantile(risk, 0.99), grid_points)
        grids.append(grid)
        try:
            curve, prior = smooth_calibration_curve(t, e, pred[:, j], h, grid, same_model_as=prior)
            apparent_smooth.append(curve)
        except NotEstimableError:  # a model of one or two binary terms: no spline to fit
            apparent_smooth.append(np.full(grid.size, np.nan))
    diffs = [[] for _ in H]
    smooth_diffs = [[] for _ in H]
    n_null = 0
    # the calibration models' risk sets: the original rows sorted once, a resample once
    # for all horizons (the same fits as a fresh sort for each)
    test_rs = CoxData(t, e, np.zeros((n, 0)))
    test_sample = TimeSortedSample(t, e)
    for b in range(B):
        idx = np.sort(stream(seed, "calibration_bootstrap", endpoint_index, set_index, b).integers(0, n, n))
        w = np.bincount(idx, minlength=n).astype(float)
        S = engine.predicted_survival(w)
        if S is None:  # nothing selected: everyone gets the resample's KM; no spread to calibrate
            n_null += 1
            S = np.broadcast_to(engine.brier.weights_G(w)[2][None, :], (n, len(H)))
        train_rs = CoxData(t[idx], e[idx], np.zeros((n, 0)))
        train_sample = TimeSortedSample(t[idx], e[idx])
        prior_train = prior_test = None  # one calibration model per sample for every horizon
        for j, h in enumerate(H):
            groups = cals[j].table["group"].to_numpy()
            train = grouped_index(t[idx], e[idx], S[idx, j], h, cals[j].cuts, groups, train_sample)
            test = grouped_index(t, e, S[:, j], h, cals[j].cuts, groups, test_sample)
            diffs[j].append(train - test)
            if np.ptp(S[:, j]) > 0:
                try:
                    sm_train, prior_train = smooth_calibration_curve(
                        t[idx], e[idx], S[idx, j], h, grids[j], risk_data=train_rs, same_model_as=prior_train
                    )
                    sm_test, prior_test = smooth_calibration_curve(
                        t, e, S[:, j], h, grids[j], risk_data=test_rs, same_model_as=prior_test
                    )
                except (ValueError, np.linalg.LinAlgError):
                    continue  # too few distinct predictions for the spline in this resample
                smooth_diffs[j].append(sm_train - sm_test)
    out, smooth = [], []
    for j, h in enumerate(H):
        tab = cals[j].table.rename(columns={"events": "events_all_followup"})
        optimism = np.nanmean(np.array(diffs[j]), axis=0) if diffs[j] else np.full(len(tab), np.nan)
        tab.insert(0, "horizon", h)
        tab["optimism"] = optimism
        tab["index_corrected"] = tab["index_orig"] - optimism
        tab["km_corrected"] = np.clip(tab["mean_predicted"] + tab["index_corrected"], 0, 1)
        tab["n_bootstrap"] = len(diffs[j])
        tab["n_nothing_selected"] = n_null
        out.append(tab)
        opt = np.mean(np.array(smooth_diffs[j]), axis=0) if smooth_diffs[j] else np.full(grid_points, np.nan)
        smooth.append(
            pd.DataFrame(
                {
                    "horizon": h,
                    "predicted_risk": grids[j],
                    "observed_apparent": apparent_smooth[j],
                    "optimism": opt,
                    "observed_corrected": np.clip(apparent_smooth[j] - opt, 0, 1),
                    "n_bootstrap": len(smooth_diffs[j]),
                }
            )
        )
    return pd.concat(out, ignore_index=True), pd.concat(smooth, ignore_index=True)
