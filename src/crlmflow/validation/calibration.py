"""Calibration of predicted survival at a horizon t.

* ``calibration_km_grouped`` – grouped Kaplan–Meier calibration, the apparent (``index.orig``)
  part of ``rms::calibrate(cph, u = t, cmethod = "KM", m = ...)`` (Harrell, Regression Modeling
  Strategies, 2nd ed., 2015, sec. 20.x; rms ``groupkm``).
* ``smooth_calibration`` – ICI / E50 / E90 / Emax of Austin, Harrell & van Klaveren,
  "Graphical calibration curves and the integrated calibration index (ICI) for survival
  models" (Stat Med 2020): Cox model of the outcome on a restricted cubic spline of
  cloglog(predicted risk).
* ``prediction_histogram`` – counts of predicted survival in fixed bins of [0, 1], the
  distribution shown under each calibration panel (group-level counts, no patient's value).
* ``calibration_slope`` – Cox regression of the outcome on the linear predictor (Cox, Biometrika
  1958; van Houwelingen & Le Cessie 1990): slope 1 = well calibrated spread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from crlmflow.survival.checks import check_survival
from crlmflow.survival.cox import CoxData, baseline_hazard, baseline_survival_at
from crlmflow.survival.cox_result import CoxResult
from crlmflow.validation._km import TimeSortedSample, km_at

# rms::groupkm reads the KM curve at the last time <= u + 1e-6
_GROUPKM_TIME_TOLERANCE = 1e-6


def quantile_type7(x, probs) -> np.ndarray:
    """R's ``quantile(x, probs, type = 7)`` with R's own arithmetic ((1-h) x[lo] + h x[hi]), so
    cut points that coincide with data values are reproduced bit for bit."""
    xs = np.sort(np.asarray(x, dtype=float))
    probs = np.asarray(probs, dtype=float)
    n = xs.shape[0]
    index = 1.0 + max(n - 1, 0) * probs
    lo = np.floor(index).astype(np.int64)
    hi = np.ceil(index).astype(np.int64)
    qs = xs[lo - 1].copy()
    h = index - lo
    interp = (index > lo) & (xs[hi - 1] != qs)
    qs[interp] = (1.0 - h[interp]) * qs[interp] + h[interp] * xs[hi - 1][interp]
    return qs


def r_seq_probs(g: int) -> np.ndarray:
    """R's ``seq(0, 1, length = g + 1)`` (from + (1:(g-1)) * by, with the end points exact)."""
    if g < 1:
        raise ValueError("g must be >= 1")
    return np.concatenate([[0.0], np.arange(1, g) * (1.0 / g), [1.0]]) if g > 1 else np.array([0.0, 1.0])


def cut2_codes(x, cuts) -> np.ndarray:
    """1-based interval codes of ``Hmisc::cut2(x, cuts)``: [a, b) intervals, the last one closed.
    Values outside the cuts extend the first/last interval (cut2's minmax = TRUE)."""
    x = np.asarray(x, dtype=float)
    cuts = np.asarray(cuts, dtype=float)
    codes = np.searchsorted(cuts, x, side="right")
    return np.clip(codes, 1, max(cuts.size - 1, 1))


@dataclass(frozen=True)
class GroupedCalibration:
    """Per-group observed (KM) versus mean predicted survival at ``horizon``."""

    horizon: float
    cuts: np.ndarray | None
    group_of_row: np.ndarray
    #: columns group, n, events (all follow-up, as rms), events_by_horizon (events at or
    #: before the horizon), at_risk (T > horizon), mean_predicted, km, km_std_err (Greenwood SE of log KM),
    #: index_orig (= km - mean_predicted, rms' index.orig), beyond_last_time
    table: pd.DataFrame


def calibration_km_grouped(
    time, event, predicted_surv, t: float, groups=None, m: int | None = None, g: int | None = None
) -> GroupedCalibration:
    """Grouped KM calibration as rms::calibrate(cmethod = "KM") computes its apparent table.

    Groups: ``groups`` if given (e.g. R's ``group_of_row``); otherwise g = max(1, floor(n/m))
    (m defaults to rms' 50) quantile groups with
    ``cuts = unique(quantile(c(0, 1, predicted), seq(0, 1, length = g + 1)))`` (type 7) and
    ``Hmisc::cut2`` intervals [a, b), the last closed.  Per group: n, all events, mean
    predicted survival, KM S(t) read as rms::groupkm does (last time <= t + 1e-6, carried
    forward) with the Greenwood SE of log S (the table's ``std.err``).
    """
    time, event, pred = check_survival(time, event, predicted_surv, names=("time", "event", "predicted_surv"))
    pred = pred.copy()
    pred[np.abs(pred) < 1e-10] = 0.0  # as rms/the reference generator do before cutting
    n = pred.shape[0]
    cuts = None
    if groups is None:
        if g is None:
            g = max(1, n // (50 if m is None else int(m)))
        cuts = np.unique(quantile_type7(np.concatenate([[0.0, 1.0], pred]), r_seq_probs(int(g))))
        grp = cut2_codes(pred, cuts)
    else:
        grp = np.asarray(groups).ravel()
        if grp.shape != pred.shape:
            raise ValueError("groups must have the same length as predicted_surv")
    rows = []
    for k in np.unique(grp):
        s = grp == k
        km = km_at(time[s], event[s], t + _GROUPKM_TIME_TOLERANCE)
        rows.append(
            dict(
                group=k,
                n=int(s.sum()),
                events=int(event[s].sum()),
                events_by_horizon=int(((time[s] <= t) & (event[s] == 1)).sum()),
                at_risk=int((time[s] > t).sum()),
                mean_predicted=float(pred[s].mean()),
                km=km.surv,
                km_std_err=km.std_err_log,
                beyond_last_time=bool(t > time[s].max()),
            )
        )
    table = pd.DataFrame(rows)
    table["index_orig"] = table["km"] - table["mean_predicted"]
    return GroupedCalibration(horizon=float(t), cuts=cuts, group_of_row=grp, table=table)


def grouped_index(t, e, pred, h, cuts, groups, sample: TimeSortedSample | None = None) -> np.ndarray:
    """KM − mean predicted survival at ``h`` per original group (``groups``: the group codes
    of the original table; rows grouped by the original ``cuts``), NaN for a group empty in
    this sample: the ``index_orig`` column of ``calibration_km_grouped`` on these rows,
    without its table.  ``sample``: ``TimeSortedSample(t, e)`` when several predictions of
    one sample are grouped (the bootstraps' horizons), so each group's KM costs O(n)."""
    pred = np.asarray(pred, dtype=float)
    codes = cut2_codes(pred, cuts)
    mean_pred = np.where(np.abs(pred) < 1e-10, 0.0, pred)  # as calibration_km_grouped
    sample = TimeSortedSample(t, e) if sample is None else sample
    res = np.full(len(groups), np.nan)
    for k, g in enumerate(groups):
        s = codes == g
        if s.any():
            res[k] = sample.km_at(s, h + _GROUPKM_TIME_TOLERANCE) - mean_pred[s].mean()
    return res


# width of the fixed bins of predicted survival in ``prediction_histogram``
PREDICTION_BIN_WIDTH = 0.005


def prediction_histogram(predicted_surv, width: float = PREDICTION_BIN_WIDTH) -> pd.DataFrame:
    """Counts of predicted survival in fixed bins of [0, 1].

    Parameters
    ----------
    predicted_surv : array-like
        Predicted survival probabilities S(t | x) at one horizon; missing values are not
        counted.
    width : float
        Bin width; the bins are [k w, (k + 1) w) on a grid fixed in advance (the last one
        closed), so no bin edge is a patient's value.

    Returns
    -------
    DataFrame
        ``bin_lower, bin_upper, n``: the non-empty bins in increasing order. The
        distribution of predictions that calibration plots show as a histogram (Steyerberg,
        Clinical Prediction Models, 2nd ed., 2019, ch. 15; rms ``calibrate`` plots it as a
        rug), here as counts per bin so no individual prediction is written.
    """
    x = np.asarray(predicted_surv, dtype=float)
    x = x[np.isfinite(x)]
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"predicted survival must lie in [0, 1]; found {x.min():.6g} to {x.max():.6g}")
    k = int(round(1.0 / width))
    if not np.isclose(k * width, 1.0):
        raise ValueError(f"bin width {width} does not divide [0, 1] into whole bins")
    counts, edges = np.histogram(x, bins=k, range=(0.0, 1.0))
    keep = counts > 0
    return pd.DataFrame({"bin_lower": edges[:-1][keep], "bin_upper": edges[1:][keep], "n": counts[keep]})


# ------------------------------------------------------------------ smooth calibration


def _fit_cox(time, event, X, init=None):
    """Cox fit (Efron ties) of the outcome on the columns of X for the calibration models:
    the project's one Cox fitter, ``survival.cox``, Newton–Raphson from ``init`` (default 0).
    Separation checks are off, as the calibration measures have always reported whatever the
    Newton–Raphson fit reaches."""
    data = CoxData(time, event, X)
    return data, data.fit(init=init, on_separation="ignore")


def _calibration_fit(time, event, basis, risk_data: CoxData | None):
    """``_fit_cox`` of the spline basis, on ``risk_data``'s sort when one is given.

    Newton–Raphson starts at the identity calibration (coefficient 1 on cloglog predicted
    risk, 0 on the nonlinear terms): the model's own linear predictor plus a constant, where
    a calibrated model's curve lies and the fit is then a few steps away (from 0 the first
    step overshoots).  The partial likelihood is concave, so the maximum is the same."""
    init = np.zeros(basis.shape[1])
    init[0] = 1.0
    if risk_data is None:
        return _fit_cox(time, event, basis, init=init)
    data = risk_data.with_columns(basis)
    return data, data.fit(init=init, on_separation="ignore")


def rcs_basis(x, knots) -> np.ndarray:
    """Restricted cubic spline basis (Harrell's ``rcspline.eval``, norm = 2, x included):
    columns x, then k-2 nonlinear terms scaled by (k_last - k_first)^2."""
    x = np.asarray(x, dtype=float)
    kn = np.asarray(knots, dtype=float)
    nk = kn.size
    if nk < 3:
        raise ValueError("need at least 3 knots")
    scale = (kn[-1] - kn[0]) ** 2

    def cube(u):  # u·u·u: a tenth of pow()'s cost, within an ulp of it
        return u * u * u

    tail2, tail1 = cube(np.maximum(x - kn[-2], 0)), cube(np.maximum(x - kn[-1], 0))
    cols = [x]
    for j in range(nk - 2):
        term = (
            cube(np.maximum(x - kn[j], 0))
            - tail2 * (kn[-1] - kn[j]) / (kn[-1] - kn[-2])
            + tail1 * (kn[-2] - kn[j]) / (kn[-1] - kn[-2])
        )
        cols.append(term / scale)
    return np.column_stack(cols)


# Harrell's default knot quantiles (Hmisc::rcspline.eval) for 3..7 knots
_RCS_QUANTILES = {
    3: (0.10, 0.5, 0.90),
    4: (0.05, 0.35, 0.65, 0.95),
    5: (0.05, 0.275, 0.5, 0.725, 0.95),
    6: (0.05, 0.23, 0.41, 0.59, 0.77, 0.95),
    7: (0.025, 0.1833, 0.3417, 0.5, 0.6583, 0.8167, 0.975),
}


class NotEstimableError(ValueError):
    """A measure that the data cannot support (too few distinct predictions or events)."""


@dataclass(frozen=True)
class SplineCalibrationModel:
    """The calibration model of one set of predictions: Cox regression of the outcome on a
    restricted cubic spline of cloglog(predicted risk) (Austin, Harrell & van Klaveren 2020).

    ``data`` holds the sample's risk sets with this ``basis``; ``fit`` its Cox fit."""

    cloglog: np.ndarray
    knots: np.ndarray
    basis: np.ndarray
    data: CoxData
    fit: CoxResult

    def observed_risk(self, t: float, basis=None) -> np.ndarray:
        """Smoothed observed risk 1 - S_hat(t | spline) at the rows of ``basis`` (default:
        the sample's own), with the Efron-type baseline hazard (survfit.coxph's ctype = 2)."""
        b = self.basis if basis is None else basis
        return 1.0 - baseline_survival_at(baseline_hazard(self.data, self.fit), [t], lp=b @ self.fit.coef)[:, 0]


def _constant_shift(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether x - y is one constant, up to the rounding of computing both."""
    if x.shape != y.shape or x.size == 0:
        return False
    d = x - y
    return bool(np.abs(d - d[0]).max() <= 1e-9 * max(1.0, float(np.abs(x).max())))


def spline_calibration_model(
    time,
    event,
    predicted_surv,
    n_knots: int = 3,
    risk_data: CoxData | None = None,
    same_model_as: SplineCalibrationModel | None = None,
) -> SplineCalibrationModel:
    """The calibration model of ``predicted_surv`` (knots at Harrell's default quantiles of
    cloglog(predicted risk) = log(-log S_pred(t))).

    ``risk_data``: a ``CoxData`` of (time, event) already sorted (its columns are not used),
    shared by the calibration models of many predictions of one sample.
    ``same_model_as``: the calibration model of the same sample's predictions at another
    horizon.  Where the two cloglogs differ by a constant, as every horizon's do under one
    proportional-hazards model (cloglog = log H0(t) + lp), the knots move by that constant,
    the spline's nonlinear terms are unchanged and the linear term only shifts, which the
    partial likelihood ignores: the fit is the same and is reused (only the baseline hazard,
    read at each horizon, differs).  Otherwise the model is fitted anew.
    """
    time, event, s = check_survival(time, event, predicted_surv, names=("time", "event", "predicted_surv"))
    if np.any((s <= 0) | (s >= 1)):
        # e.g. an overfitted model whose linear predictor drives survival to 0 in floating point
        raise NotEstimableError(
            f"{int(np.sum((s <= 0) | (s >= 1)))} predicted survival value(s) at exactly 0 or 1 "
            "(the cloglog is infinite there)"
        )
    cll = np.log(-np.log(s))
    knots = quantile_type7(cll, _RCS_QUANTILES[n_knots])
    if np.unique(knots).size < n_knots:
        raise NotEstimableError("too few distinct predicted values for the spline knots")
    basis = rcs_basis(cll, knots)
    if same_model_as is not None and _constant_shift(cll, same_model_as.cloglog):
        data = CoxData(time, event, basis) if risk_data is None else risk_data.with_columns(basis)
        return SplineCalibrationModel(cll, knots, basis, data, same_model_as.fit)
    data, fit = _calibration_fit(time, event, basis, risk_data)
    return SplineCalibrationModel(cll, knots, basis, data, fit)


@dataclass(frozen=True)
class SmoothCalibration:
    """Austin–Harrell–van Klaveren calibration summary at ``horizon`` (risk scale)."""

    horizon: float
    ici: float  # mean |observed - predicted| risk
    e50: float  # median
    e90: float  # 90th percentile
    emax: float  # maximum
    knots: np.ndarray  # on the cloglog(predicted risk) scale
    predicted_risk: np.ndarray
    observed_risk: np.ndarray  # smoothed observed risk at t per row
    model: SplineCalibrationModel | None = field(default=None, repr=False, compare=False)


def smooth_calibration(
    time,
    event,
    predicted_surv,
    t: float,
    n_knots: int = 3,
    risk_data: CoxData | None = None,
    same_model_as: SmoothCalibration | None = None,
) -> SmoothCalibration:
    """ICI, E50, E90 and Emax (Austin, Harrell & van Klaveren, Stat Med 2020).

    Fit a Cox model of the outcome on a restricted cubic spline (``n_knots`` knots at Harrell's
    default quantiles) of cloglog(predicted risk) = log(-log S_pred(t)); the smoothed observed
    risk of each subject is 1 - S_hat(t | spline) from that model (Efron-type baseline
    hazard, as survfit.coxph); the summaries are taken over |observed - predicted| risk.
    ``risk_data`` and ``same_model_as`` (the result at another horizon of the same
    predictions' model): as in ``spline_calibration_model``.
    """
    prior = None if same_model_as is None else same_model_as.model
    model = spline_calibration_model(time, event, predicted_surv, n_knots, risk_data, prior)
    risk = 1.0 - np.asarray(predicted_surv, dtype=float)
    observed = model.observed_risk(t)
    diff = np.abs(observed - risk)
    return SmoothCalibration(
        horizon=float(t),
        ici=float(diff.mean()),
        e50=float(np.median(diff)),
        e90=float(np.quantile(diff, 0.9)),
        emax=float(diff.max()),
        knots=model.knots,
        predicted_risk=risk,
        observed_risk=observed,
        model=model,
    )


def smooth_calibration_curve(
    time,
    event,
    predicted_surv,
    t: float,
    grid_risk,
    n_knots: int = 3,
    risk_data: CoxData | None = None,
    same_model_as: SplineCalibrationModel | None = None,
) -> tuple[np.ndarray, SplineCalibrationModel]:
    """Smoothed observed risk at t at the predicted risks ``grid_risk``, and the calibration
    model: the model of ``smooth_calibration`` (Cox on a restricted cubic spline of cloglog
    predicted risk, knots from the data) evaluated on a fixed grid, so curves of different
    samples can be subtracted (Austin, Harrell & van Klaveren 2020, bootstrap bias
    correction).  ``risk_data``, ``same_model_as``: as in ``spline_calibration_model``."""
    model = spline_calibration_model(time, event, predicted_surv, n_knots, risk_data, same_model_as)
    grid = np.clip(np.asarray(grid_risk, float), 1e-12, 1 - 1e-12)
    return model.observed_risk(t, rcs_basis(np.log(-np.log(1.0 - grid)), model.knots)), model


@dataclass(frozen=True)
class CalibrationSlope:
    """Cox regression of the outcome on the linear predictor."""

    slope: float
    se: float
    lower: float
    upper: float
    p_value_slope_1: float  # Wald test of slope = 1


def calibration_slope(time, event, lp, *, conf_level: float = 0.95, start: float = 0.0) -> CalibrationSlope:
    """Calibration slope: coefficient of ``lp`` in a Cox model of the outcome on ``lp`` alone
    (Efron ties).  < 1 means predictions too extreme (overfitting), > 1 too modest.
    A constant ``lp`` (a model without predictors) has no slope: NotEstimableError.
    ``start``: where Newton–Raphson starts (the maximum is the same; 1, the slope of a model
    that is not overfitted, saves iterations on a large cohort)."""
    time, event, x = check_survival(time, event, lp, names=("time", "event", "lp"))
    if np.ptp(x) == 0:
        raise NotEstimableError("the linear predictor is constant (a model without predictors)")
    _, fit = _fit_cox(time, event, x[:, None], init=[float(start)])
    b = float(fit.coef[0])
    se = float(fit.se[0])
    z = special.ndtri(0.5 + conf_level / 2.0)
    return CalibrationSlope(
        slope=b,
        se=se,
        lower=b - z * se,
        upper=b + z * se,
        p_value_slope_1=float(2.0 * special.ndtr(-abs(b - 1.0) / se)),
    )
