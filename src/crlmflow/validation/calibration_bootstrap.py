"""Selection-aware bootstrap bias correction of the grouped calibration curve.

``rms::calibrate(cph, cmethod = "KM", B)`` refits the *final* model's terms in every resample
(``bw = FALSE``): the variable selection that produced those terms is not repeated, so the
optimism it estimates leaves out the largest source of overfitting (Harrell, Regression
Modeling Strategies, 2nd ed., sec. 5.3; Steyerberg, Clinical Prediction Models, 2nd ed.,
ch. 17).  Here the whole procedure (univariable screening, then stepAIC / Forward LR) is
repeated in each resample, exactly as the optimism bootstrap does
(``validation.optimism.ReplicateEngine``), and otherwise rms is followed: group the
resample's and the original patients' predictions by the original cuts and subtract the
mean optimism of (KM − mean predicted) per group.  The rms-equal variant stays available as
``validation.performance.calibrate_bias_corrected``.

Smooth curve (Austin, Harrell & van Klaveren, Stat Med 2020, sec. 3.3): the same replicates
give the optimism of the smoothed observed risk on a fixed grid of predicted risk (spline
calibration model of the resample evaluated on the resample minus on the original data);
the corrected curve is the apparent one minus that mean optimism.

The replicates are the optimism bootstrap's: replicate b resamples with
``optimism.bootstrap_indices`` (``stream(seed, "optimism_bootstrap", endpoint, b)``), so
replicate b's selected model is the one the optimism bootstrap reports for b, and the
workflow's bootstrap jobs compute the calibration of the first ``calibration_B``
replicates beside their other measures (``SelectionAwareCalibration.add``) instead of
selecting again.  ``calibrate_selection_aware`` is the same computation in one call; the
two give the same tables (the per-replicate optimisms pass through their CSV at full
precision).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.survival.cox import CoxData
from crlmflow.validation._km import TimeSortedSample
from crlmflow.validation.calibration import (
    NotEstimableError,
    calibration_km_grouped,
    grouped_index,
    smooth_calibration_curve,
)
from crlmflow.validation.optimism import ReplicateEngine

__all__ = [
    "REPLICATE_COLUMNS",
    "REPLICATE_FLOAT_FORMAT",
    "SelectionAwareCalibration",
    "calibrate_selection_aware",
    "development_calibration",
    "read_replicate_tables",
]

#: Columns of the per-replicate table (``SelectionAwareCalibration.table``): replicate,
#: whether it selected nothing, horizon, curve (``grouped``: a calibration group;
#: ``smooth``: a grid point) and position, and the optimism (resample minus original rows).
REPLICATE_COLUMNS = ["b", "nothing_selected", "horizon", "curve", "point", "optimism"]

#: Float format of the per-replicate table: 17 significant digits round-trip a double, so
#: the tables summarised from the bootstrap jobs' files equal the in-memory ones.
REPLICATE_FLOAT_FORMAT = "%.17g"


class SelectionAwareCalibration:
    """The final model's apparent calibration on the development rows, and the optimism of
    each bootstrap replicate's model against it.

    Parameters
    ----------
    time, event : array (n,)
        The development rows (the rows the final model was fitted on, in the order of the
        replicates' predictions).
    predicted_surv : array (n, len(horizons))
        The final model's apparent predicted survival at each horizon.
    horizons : sequence of float
    calibration_groups : int
        Groups of the grouped curve (cut at the apparent predictions' quantiles, as
        ``rms::calibrate``'s ``m``/``g``).
    grid_points : int
        Points of the smooth curve's grid, from the 1st to the 99th percentile of the
        apparent predicted risk.
    """

    def __init__(self, time, event, predicted_surv, horizons, *, calibration_groups: int = 4, grid_points: int = 50):
        self.time = np.asarray(time, float)
        self.event = np.asarray(event, float)
        self.horizons = list(horizons)
        self.grid_points = int(grid_points)
        pred = np.asarray(predicted_surv, float)
        n = self.time.size
        self.cals = [
            calibration_km_grouped(self.time, self.event, pred[:, j], h, g=calibration_groups)
            for j, h in enumerate(self.horizons)
        ]
        self.grids, self.apparent_smooth = [], []
        prior = None  # the horizons' predictions of one Cox model share their calibration model
        for j, h in enumerate(self.horizons):
            risk = 1.0 - pred[:, j]
            grid = np.linspace(np.quantile(risk, 0.01), np.quantile(risk, 0.99), self.grid_points)
            self.grids.append(grid)
            try:
                curve, prior = smooth_calibration_curve(self.time, self.event, pred[:, j], h, grid, same_model_as=prior)
                self.apparent_smooth.append(curve)
            except NotEstimableError:  # a model of one or two binary terms: no spline to fit
                self.apparent_smooth.append(np.full(grid.size, np.nan))
        # the calibration models' risk sets: the original rows sorted once for every replicate
        self._test_rs = CoxData(self.time, self.event, np.zeros((n, 0)))
        self._test_sample = TimeSortedSample(self.time, self.event)
        self._rows: list[tuple] = []

    def add(self, b: int, w: np.ndarray, surv: np.ndarray, nothing_selected: bool) -> None:
        """Record replicate ``b``: ``w`` its resample as frequency weights on the rows,
        ``surv`` (n x horizons) its model's predicted survival on the original rows (for a
        replicate that selected nothing: the resample's Kaplan–Meier estimate for everyone)."""
        t, e = self.time, self.event
        idx = np.repeat(np.arange(t.size), np.asarray(w).astype(np.int64))  # the resample's rows, sorted
        S = np.asarray(surv, float)
        train_rs = CoxData(t[idx], e[idx], np.zeros((idx.size, 0)))
        train_sample = TimeSortedSample(t[idx], e[idx])
        prior_train = prior_test = None  # one calibration model per sample for every horizon
        flag = int(bool(nothing_selected))
        for j, h in enumerate(self.horizons):
            cal = self.cals[j]
            groups = cal.table["group"].to_numpy()
            train = grouped_index(t[idx], e[idx], S[idx, j], h, cal.cuts, groups, train_sample)
            test = grouped_index(t, e, S[:, j], h, cal.cuts, groups, self._test_sample)
            self._rows += [(int(b), flag, float(h), "grouped", int(g), float(d)) for g, d in zip(groups, train - test)]
            if np.ptp(S[:, j]) > 0:
                try:
                    sm_train, prior_train = smooth_calibration_curve(
                        t[idx], e[idx], S[idx, j], h, self.grids[j], risk_data=train_rs, same_model_as=prior_train
                    )
                    sm_test, prior_test = smooth_calibration_curve(
                        t, e, S[:, j], h, self.grids[j], risk_data=self._test_rs, same_model_as=prior_test
                    )
                except (ValueError, np.linalg.LinAlgError):
                    continue  # too few distinct predictions for the spline in this resample
                self._rows += [
                    (int(b), flag, float(h), "smooth", k, float(d)) for k, d in enumerate(sm_train - sm_test)
                ]

    def table(self) -> pd.DataFrame:
        """The replicates recorded so far, one row per (replicate, horizon, curve, point)."""
        return pd.DataFrame(self._rows, columns=REPLICATE_COLUMNS)

    def summarise(self, replicates: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Grouped and smooth tables, bias-corrected by the mean optimism of ``replicates``
        (``table()`` rows, of one or many bootstrap jobs; any order).

        Returns (grouped table with ``optimism, index_corrected, km_corrected, n_bootstrap,
        n_nothing_selected``; smooth table per horizon and grid point with
        ``predicted_risk, observed_apparent, optimism, observed_corrected, n_bootstrap``)."""
        reps = replicates  # _by_replicate orders each curve's rows by replicate
        n_null = int(reps.loc[reps["nothing_selected"] == 1, "b"].nunique())
        out, smooth = [], []
        for j, h in enumerate(self.horizons):
            at = reps[reps["horizon"].to_numpy(float) == float(h)]
            tab = self.cals[j].table.rename(columns={"events": "events_all_followup"})
            diffs = _by_replicate(at[at["curve"] == "grouped"], tab["group"].to_numpy())
            optimism = np.nanmean(diffs, axis=0) if len(diffs) else np.full(len(tab), np.nan)
            tab.insert(0, "horizon", h)
            tab["optimism"] = optimism
            tab["index_corrected"] = tab["index_orig"] - optimism
            tab["km_corrected"] = np.clip(tab["mean_predicted"] + tab["index_corrected"], 0, 1)
            tab["n_bootstrap"] = len(diffs)
            tab["n_nothing_selected"] = n_null
            out.append(tab)
            sdiffs = _by_replicate(at[at["curve"] == "smooth"], np.arange(self.grid_points))
            opt = np.mean(sdiffs, axis=0) if len(sdiffs) else np.full(self.grid_points, np.nan)
            smooth.append(
                pd.DataFrame(
                    {
                        "horizon": h,
                        "predicted_risk": self.grids[j],
                        "observed_apparent": self.apparent_smooth[j],
                        "optimism": opt,
                        "observed_corrected": np.clip(self.apparent_smooth[j] - opt, 0, 1),
                        "n_bootstrap": len(sdiffs),
                    }
                )
            )
        return pd.concat(out, ignore_index=True), pd.concat(smooth, ignore_index=True)


def development_calibration(
    rows: pd.DataFrame, time_col: str, event_col: str, horizons, calibration_groups: int = 4
) -> SelectionAwareCalibration:
    """``SelectionAwareCalibration`` of the final model on the development rows ``rows``
    (holding ``time_col``, ``event_col`` and the predictions ``surv_<h>`` per horizon), in
    their order: the rows the replicates resample."""
    cols = [f"surv_{h}" for h in horizons]
    lacking = [c for c in cols if c not in rows.columns]
    if lacking:
        raise ValueError(f"the development rows lack the final model's predictions {lacking}")
    missing = int(rows[cols].isna().any(axis=1).sum())
    if missing:
        raise ValueError(f"{missing} development row(s) without the final model's predicted survival")
    return SelectionAwareCalibration(
        rows[time_col].to_numpy(float),
        rows[event_col].to_numpy(float),
        rows[cols].to_numpy(float),
        horizons,
        calibration_groups=calibration_groups,
    )


def read_replicate_tables(paths) -> pd.DataFrame:
    """The per-replicate tables of the bootstrap jobs (``table()`` written with
    ``REPLICATE_FLOAT_FORMAT``), read back to the same doubles."""
    parts = [pd.read_csv(p, float_precision="round_trip") for p in paths]
    parts = [x for x in parts if len(x)]
    if not parts:
        return pd.DataFrame(columns=REPLICATE_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def _by_replicate(rows: pd.DataFrame, points: np.ndarray) -> np.ndarray:
    """(replicates, points) matrix of one horizon's and curve's optimisms, replicates in
    order of b (the mean is then summed in one order, whichever jobs produced the rows)."""
    if rows.empty:
        return np.zeros((0, points.size))
    wide = rows.pivot(index="b", columns="point", values="optimism").sort_index()
    # C order: the mean over replicates then adds them one after another, as for a list of rows
    return np.ascontiguousarray(wide.reindex(columns=points).to_numpy(float))


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
    test) must be those that selected the final model, or another procedure is repeated.
    Replicates b = 0..B-1 are the optimism bootstrap's (``bootstrap_indices(n, seed,
    endpoint_index, b)``), as are ``calibrate_bias_corrected``'s, so both variants see the
    same resamples.

    Returns ``SelectionAwareCalibration.summarise`` of the B replicates.
    """
    engine = ReplicateEngine(
        train_df,
        candidates,
        time_col,
        event_col,
        list(horizons),
        seed=seed,
        endpoint_index=endpoint_index,
        screen_p=screen_p,
        exclude=tuple(exclude),
        method=method,
        entry_p=entry_p,
        removal_p=removal_p,
        entry_test=entry_test,
    )
    cal = SelectionAwareCalibration(
        engine.time,
        engine.event,
        predicted_surv,
        horizons,
        calibration_groups=calibration_groups,
        grid_points=grid_points,
    )
    for b in range(B):
        w = engine.weights(b)
        _, selected, rm = engine.select(w)
        cal.add(b, w, *engine.replicate_survival(w, selected, rm))
    return cal.summarise(cal.table())
