"""Calibration-in-the-large of predicted survival at a horizon t.

* ``observed_expected`` – the ratio of the observed risk by t (1 − Kaplan–Meier) to the mean
  predicted risk, with a delta-method CI on the log scale from Greenwood's variance
  (Debray et al., BMJ 2017; Riley, van der Windt, Croft & Moons, *Prognosis Research in
  Health Care*, 2019, ch. 7).
* ``poisson_calibration`` – Crowson, Atkinson & Therneau, "Assessing calibration of prognostic
  risk scores", Stat Methods Med Res 2016: follow-up is truncated at t; the expected number
  of events of each patient is the model's cumulative hazard at the truncated time, and a
  Poisson GLM of the event indicator with offset log(expected) gives the calibration
  intercept (log O/E of the whole set, 0 = calibrated) and, with lp as covariate and offset
  log(expected) − lp, the calibration slope (1 = calibrated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from crlmflow.survival.checks import check_survival
from crlmflow.validation._km import km_at
from crlmflow.validation.calibration import NotEstimableError

__all__ = ["ObservedExpected", "PoissonCalibration", "observed_expected", "poisson_calibration", "truncate_at"]


@dataclass(frozen=True)
class ObservedExpected:
    """Observed (1 − KM) over mean predicted risk at ``horizon``."""

    horizon: float
    observed: float
    expected: float
    ratio: float
    lower: float
    upper: float


def observed_expected(time, event, predicted_surv, t: float, *, conf_level: float = 0.95) -> ObservedExpected:
    """O/E at t: O = 1 − S_KM(t), E = mean(1 − S_pred(t)).

    The CI treats E as fixed and takes var(log O) = (S·se(log S) / (1 − S))² from Greenwood's
    variance of log S_KM(t) (delta method).
    """
    time, event, s = check_survival(time, event, predicted_surv, names=("time", "event", "predicted_surv"))
    km = km_at(time, event, t)
    observed = 1.0 - km.surv
    expected = float(np.mean(1.0 - s))
    if observed <= 0 or expected <= 0:
        return ObservedExpected(float(t), observed, expected, np.nan, np.nan, np.nan)
    ratio = observed / expected
    se_log = km.surv * km.std_err_log / observed
    z = special.ndtri(0.5 + conf_level / 2.0)
    return ObservedExpected(
        float(t), observed, expected, ratio, ratio * float(np.exp(-z * se_log)), ratio * float(np.exp(z * se_log))
    )


def truncate_at(time, event, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Follow-up truncated at t: (min(T, t), event and T <= t)."""
    time, event = check_survival(time, event)
    return np.minimum(time, t), ((event == 1) & (time <= t)).astype(float)


@dataclass(frozen=True)
class PoissonCalibration:
    """Crowson et al. (2016) calibration intercept and slope at ``horizon``."""

    horizon: float
    intercept: float
    intercept_se: float
    intercept_lower: float
    intercept_upper: float
    slope: float
    slope_se: float
    slope_lower: float
    slope_upper: float


def _poisson_glm(y, X, offset, *, max_iter: int = 50, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Poisson GLM with log link by Newton–Raphson (= IRLS): coefficients and their SEs.

    With very few events the maximum likelihood estimate can be infinite (all events in the
    patients with the most extreme score: monotone likelihood), where Newton diverges and
    the information matrix becomes singular; that is reported as not estimable rather than
    as a numerical failure.
    """
    beta = np.zeros(X.shape[1])
    beta[0] = np.log(y.sum() / np.exp(offset).sum())  # the intercept-only solution as start
    small_step = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(max_iter):
            mu = np.exp(offset + X @ beta)
            info = X.T @ (X * mu[:, None])
            try:
                step = np.linalg.solve(info, X.T @ (y - mu))
            except np.linalg.LinAlgError:
                break
            beta = beta + step
            small_step = bool(np.max(np.abs(step)) < tol)
            if small_step or not np.all(np.isfinite(beta)):
                break
        mu = np.exp(offset + X @ beta)
        info = X.T @ (X * mu[:, None])
        converged = small_step and np.all(np.isfinite(info)) and np.linalg.cond(info) < 1e12
    if not converged:
        raise NotEstimableError(
            f"the Poisson calibration model does not converge with {int(y.sum())} event(s) by t "
            "(an infinite slope: the events lie at the extreme of the predicted risk)"
        )
    cov = np.linalg.inv(info)
    return beta, np.sqrt(np.diag(cov))


def poisson_calibration(time, event, expected, lp, t: float, *, conf_level: float = 0.95) -> PoissonCalibration:
    """Calibration intercept and slope of Crowson, Atkinson & Therneau (SMMR 2016).

    Parameters
    ----------
    time, event : array-like
        Observed follow-up and event indicator (untruncated; truncated at ``t`` here).
    expected : array-like
        The model's cumulative hazard of each patient at min(T, t): H0(min(T, t))·exp(xβ).
    lp : array-like
        Linear predictor (any centring: the slope model's intercept absorbs it).

    Intercept model: ``glm(d ~ 1 + offset(log(expected)), poisson)``; exp(intercept) is the
    observed over expected number of events by t.  Slope model:
    ``glm(d ~ lp + offset(log(expected) - lp), poisson)``; the coefficient of lp is the slope.
    """
    time, event, e, x = check_survival(time, event, expected, lp, names=("time", "event", "expected", "lp"))
    _, d = truncate_at(time, event, t)
    if d.sum() == 0:
        raise NotEstimableError(f"no events by t = {t}: calibration intercept and slope are not estimable")
    if np.any((e <= 0) & (d == 1)):
        # an event before the first event time of the model's baseline: log(expected) is
        # undefined, so the Poisson calibration model cannot be fitted to these patients
        raise NotEstimableError("a patient with an event by t has expected cumulative hazard 0")
    # A patient censored before the first event time has expected 0 and no event: zero
    # Poisson likelihood contribution, so leaving the row out changes nothing.
    keep = e > 0
    d, x, off = d[keep], x[keep], np.log(e[keep])
    z = special.ndtri(0.5 + conf_level / 2.0)
    (a,), (a_se,) = _poisson_glm(d, np.ones((d.size, 1)), off)
    if np.ptp(x) == 0:  # a constant score (no variable selected) has no slope
        b = b_se = np.nan
    else:
        (_, b), (_, b_se) = _poisson_glm(d, np.column_stack([np.ones_like(x), x]), off - x)
    return PoissonCalibration(float(t), a, a_se, a - z * a_se, a + z * a_se, b, b_se, b - z * b_se, b + z * b_se)
