"""True performance of a fitted model, on the simulation study's large independent cohort.

The data-generating mechanism is known (:mod:`crlmflow.simulation.mechanism`), so each fitted
model can be judged against the truth rather than against another estimate:

* **true C**: Harrell's C of the model's linear predictor on the truth cohort's observed
  (censored) outcomes, the population value of what a split-sample C estimates;
* **true calibration slope**: the coefficient of a Cox model of the truth cohort's outcomes
  on the fitted linear predictor (Cox 1958; van Houwelingen & Le Cessie, Stat Med 1990);
  below 1 means predictions too extreme (overfitting);
* **true ICI** at horizon t: mean |predicted risk(t) - true risk(t)| over the truth cohort,
  the integrated calibration index of Austin, Harrell & van Klaveren (Stat Med 2020) with
  the smoothed observed risk replaced by the mechanism's true risk
  1 - exp(-H0(t) exp(lp_true)) (:func:`true_risk`).

For RFS the true risk is that of the latent recurrence time (the simulator's Cox model);
observed RFS is censored by death, which depends on recurrence through the simulator's
copula, so the RFS ICI measures distance from the latent net risk (a caveat the tables
repeat).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.simulation.scenarios import hinge_contribution
from crlmflow.validation.calibration import calibration_slope
from crlmflow.validation.concordance import WeightedConcordance

__all__ = ["true_linear_predictor", "true_cumulative_hazard", "true_risk", "true_performance", "true_risk_column"]

#: Ground-truth log-HR keys that are not cohort columns, and how to build them.
_DERIVED = {"kras_mutant": lambda df: (df["kras"].astype(str) == "mutant").astype(float)}


def true_risk_column(key: str) -> str:
    """Name of the truth cohort's column holding the true risk of simulator endpoint ``key``."""
    return f"true_risk_{key}"


def true_linear_predictor(truth: dict, key: str, cohort: pd.DataFrame) -> np.ndarray:
    """sum_k beta_k x_k with the ground truth's log-HRs of endpoint ``key`` (``os``/``rfs``) on
    the cleaned cohort's columns (``kras_mutant`` = KRAS mutant), plus a scenario's hinge
    terms (``nonlinear``, :func:`crlmflow.simulation.scenarios.hinge_contribution`)."""
    lp = np.zeros(len(cohort))
    for name, beta in truth[key]["log_hr"].items():
        x = _DERIVED[name](cohort) if name in _DERIVED else cohort[name].astype(float)
        lp += float(beta) * np.asarray(x, float)
    return lp + hinge_contribution(cohort, truth[key].get("nonlinear", []), key, len(cohort))


def true_cumulative_hazard(truth: dict, key: str, t: float) -> float:
    """H0(t) of the ground truth's piecewise-linear baseline (linear extrapolation past the last
    knot for OS; constant, i.e. cure, for RFS), as :mod:`crlmflow.simulation.mechanism` draws it."""
    bh = truth[key]["baseline_cumulative_hazard"]
    knots, h0 = np.asarray(bh["knots_months"], float), np.asarray(bh["H0"], float)
    if t <= knots[-1] or key == "rfs":
        return float(np.interp(t, knots, h0))
    slope = (h0[-1] - h0[-2]) / (knots[-1] - knots[-2])
    return float(h0[-1] + slope * (t - knots[-1]))


def true_risk(truth: dict, key: str, cohort: pd.DataFrame, t: float) -> np.ndarray:
    """True risk by ``t`` months: 1 - exp(-H0(t) exp(lp_true))."""
    return 1.0 - np.exp(-true_cumulative_hazard(truth, key, t) * np.exp(true_linear_predictor(truth, key, cohort)))


def true_performance(lp: np.ndarray, risk: np.ndarray, time, event, true_risk_t) -> dict:
    """``c_true``, ``slope_true`` and ``ici_true`` of a model with linear predictor ``lp`` and
    predicted risk ``risk`` (at the horizon of ``true_risk_t``) on the truth cohort's outcomes.

    A constant ``lp`` (the empty model) has C = 0.5 and no calibration slope (NaN).
    """
    lp = np.asarray(lp, float)
    # Harrell's C without its standard error (WeightedConcordance: the concordance_index
    # sums once, not again for the influence function); the slope's Newton-Raphson starts at
    # 1, near where a fitted model's slope lies (same maximum, fewer steps on 100,000 rows)
    c = WeightedConcordance(np.asarray(time, float), np.asarray(event, float), lp).c_index()
    slope = np.nan
    if np.ptp(lp) > 0:
        slope = calibration_slope(time, event, lp, start=1.0).slope
    ici = float(np.mean(np.abs(np.asarray(risk, float) - np.asarray(true_risk_t, float))))
    return {"c_true": float(c), "slope_true": float(slope), "ici_true": ici}
