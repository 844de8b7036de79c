"""Updating a frozen Cox model on an external cohort (after validating it unchanged).

The two simplest updates of the hierarchy in Steyerberg (*Clinical Prediction Models*,
2nd ed., ch. 20), Van Calster et al. (J Clin Epidemiol 2016) and Riley et al. (BMJ 2024,
"Evaluation of clinical prediction models", part 3: external validation), which TRIPOD
asks to report *beside* the frozen model's performance, never instead of it:

* **recalibration in the large**: the linear predictor ``lp`` of the frozen model is kept
  as an offset (coefficient fixed at 1) and only the baseline cumulative hazard is
  re-estimated on the external cohort::

      H0_ext(t) = sum_{t_i <= t} d_i / sum_{j in R(t_i)} exp(lp_j)      (Breslow)

  with Efron's correction for tied deaths as R's ``survfit(coxph(Surv(t, e) ~ offset(lp)))``
  uses by default, so ``S(t | lp) = exp(-H0_ext(t) exp(lp))``. This corrects the mean
  calibration (baseline risk of the new centre) and leaves discrimination unchanged.
* **slope recalibration** (logistic recalibration for survival): the Cox model of the
  outcome on ``lp`` alone, ``h(t) = h0(t) exp(b lp)``; ``b`` is the calibration slope
  (< 1: predictions too extreme) and the baseline is re-estimated with it, so
  ``S(t | lp) = exp(-H0_b(t) exp(b lp))``. Ranks, hence Harrell's C, do not change.

Both are fitted with the project's one Cox fitter (:mod:`crlmflow.survival.cox`) and are
reproduced by ``survival::coxph`` / ``survfit`` in R. Every number computed on the
updated model is *apparent* on the external cohort it was fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import special

from crlmflow.report.formats import horizon_key
from crlmflow.survival.checks import check_survival
from crlmflow.survival.cox import BaselineHazard, CoxData, baseline_hazard, baseline_survival_at

__all__ = ["UPDATES", "UpdatedModel", "recalibrate", "updated_survival"]

#: names of the updates, in the order they are reported
UPDATES = ("recalibrated_in_the_large", "slope_recalibrated")


@dataclass(frozen=True)
class UpdatedModel:
    """One update of a frozen model: its slope on ``lp`` (1 for recalibration in the large)
    with the Wald SE and CI (NaN when fixed), and the re-estimated baseline hazard."""

    update: str
    slope: float
    se: float
    lower: float
    upper: float
    baseline: BaselineHazard

    def survival(self, lp, horizons) -> np.ndarray:
        """Updated predicted survival, shape (len(lp), len(horizons))."""
        return baseline_survival_at(self.baseline, horizons, lp=self.slope * np.asarray(lp, float))


def recalibrate(time, event, lp, *, conf_level: float = 0.95) -> dict[str, UpdatedModel]:
    """Recalibration in the large and slope recalibration of a frozen model's ``lp`` on an
    external cohort (module docstring; Riley et al., BMJ 2024).

    Parameters
    ----------
    time, event : array-like
        Outcome in the external cohort (event coded 0/1).
    lp : array-like
        The frozen model's linear predictor for the same patients (any centring: a shift
        of ``lp`` is absorbed by the re-estimated baseline).

    Returns
    -------
    dict
        ``{"recalibrated_in_the_large": UpdatedModel, "slope_recalibrated": UpdatedModel}``.
    """
    t, e, x = check_survival(time, event, lp, names=("time", "event", "lp"))
    data = CoxData(t, e, x[:, None], names=["lp"])
    fit = data.fit(on_separation="ignore")
    b, se = float(fit.coef[0]), float(fit.se[0])
    z = special.ndtri(0.5 + conf_level / 2.0)
    offset_fit = replace(fit, coef=np.array([1.0]))
    return {
        "recalibrated_in_the_large": UpdatedModel(
            "recalibrated_in_the_large", 1.0, np.nan, np.nan, np.nan, baseline_hazard(data, offset_fit)
        ),
        "slope_recalibrated": UpdatedModel(
            "slope_recalibrated", b, se, b - z * se, b + z * se, baseline_hazard(data, fit)
        ),
    }


def updated_survival(update: UpdatedModel, lp, horizons) -> dict[str, np.ndarray]:
    """The updated survival at each horizon, keyed as :func:`evaluate_set` reads it
    (``horizon_key(h)``)."""
    s = update.survival(lp, horizons)
    return {horizon_key(h): s[:, j] for j, h in enumerate(horizons)}
