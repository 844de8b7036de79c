"""The ground truth of the synthetic cohort's mechanism, as written to ``ground_truth.json``.

The outcome models, the dependence between death and recurrence, the treatment model and
the CRS items of :mod:`crlmflow.simulation.mechanism`, in a JSON-ready form, so the
simulation study and the paper comparison can judge estimates against the truth.
"""

from __future__ import annotations

import numpy as np

from crlmflow.simulation.mechanism import (
    FULL_COURSE_RATE,
    FULL_SLOPE_CRS,
    NEO_ONLY_RATE,
    NEO_SLOPE_CRS,
    R0_RATE,
    R0_SLOPES,
    RFA_RATE,
    RFA_SLOPES,
    TRUE_LOG_HR_OS,
    TRUE_LOG_HR_RFS,
)
from crlmflow.simulation.scenarios import effective_log_hr

__all__ = ["mechanism_truth"]


def mechanism_truth(p: dict, cm: dict, intercepts: dict, lp_rfs: np.ndarray, effects: dict | None = None) -> dict:
    """The mechanism's part of the ground truth (JSON-ready): outcome models, dependence,
    treatment model and CRS items.

    ``lp_rfs``: the RFS linear predictors of the eligible patients, for the expected cure
    fraction mean(exp(-H0(inf) exp(lp_rfs))) of the promotion-time cure model.
    ``effects``: a scenario's checked effects (:mod:`crlmflow.simulation.scenarios`); with them the
    log-HRs are the scenario's and each endpoint gets its ``nonlinear`` (hinge) terms.
    """
    out = _default_truth(p, cm, intercepts, lp_rfs)
    if effects is not None:
        for key, base in (("os", TRUE_LOG_HR_OS), ("rfs", TRUE_LOG_HR_RFS)):
            log_hr = effective_log_hr(base, effects, key)
            out[key]["log_hr"] = log_hr
            out[key]["hr"] = {k: float(np.exp(v)) for k, v in log_hr.items()}
            out[key]["nonlinear"] = [dict(h) for h in effects["nonlinear"] if h["endpoint"] == key]
        out["scenario_effects"] = effects
    return out


def _default_truth(p: dict, cm: dict, intercepts: dict, lp_rfs: np.ndarray) -> dict:
    """The default mechanism's truth (see :func:`mechanism_truth`)."""
    cure = np.exp(-p["rfs_h0"][-1] * np.exp(lp_rfs))
    return {
        "os": {
            "log_hr": dict(TRUE_LOG_HR_OS),
            "hr": {k: float(np.exp(v)) for k, v in TRUE_LOG_HR_OS.items()},
            "covariate_coding": "hospital_days in days; crs_score 1-5; binaries 0/1; "
            "kras_mutant = kras == 'mutant' (not in the paper's model)",
            "baseline_cumulative_hazard": {
                "type": "piecewise linear H0(t) at lp = 0, linearly extrapolated past the last knot",
                "knots_months": [float(v) for v in p["os_knots"]],
                "H0": [float(v) for v in p["os_h0"]],
            },
        },
        "rfs": {
            "log_hr": dict(TRUE_LOG_HR_RFS),
            "hr": {k: float(np.exp(v)) for k, v in TRUE_LOG_HR_RFS.items()},
            "baseline_cumulative_hazard": {
                "type": "piecewise linear H0(t) at lp = 0, constant after the last knot (cure)",
                "knots_months": [float(v) for v in p["rfs_knots"]],
                "H0": [float(v) for v in p["rfs_h0"]],
            },
            "cure_model": "promotion time: P(cured | x) = exp(-H0(inf) * exp(lp_rfs))",
            "cure_fraction_expected_eligible": float(cure.mean()),
            "death_censors_rfs": True,
        },
        "dependence": {
            "type": "Gaussian copula on S_D(T_D|x), S_R(T_R|x)",
            "rho": float(p["copula_rho"]),
            "recurrence_recorded_only_if_before_death": True,
        },
        "treatment_model": {
            "r0": {
                "rate_reference": R0_RATE,
                "rate_override": cm["r0_rate"],
                "probit_slopes": dict(R0_SLOPES),
                "intercept": float(intercepts["r0"]),
            },
            "rfa": {
                "rate_reference": RFA_RATE,
                "probit_slopes": dict(RFA_SLOPES),
                "intercept": float(intercepts["rfa"]),
            },
            "neoadjuvant_only": {
                "rate_reference": NEO_ONLY_RATE,
                "probit_slope_crs": NEO_SLOPE_CRS,
                "intercept": float(intercepts["neoadjuvant_only"]),
            },
            "full_course": {
                "rate_reference": FULL_COURSE_RATE,
                "probit_slope_crs": FULL_SLOPE_CRS,
                "intercept_given_not_neoadjuvant": float(intercepts["full_course_given_not_neo"]),
            },
        },
        "crs_items": {
            "node_threshold": float(p["crs_node_threshold"]),
            "multi_threshold": float(p["crs_multi_threshold"]),
            "size_median_cm": float(p["size_median_cm"]),
            "size_log_sigma": float(p["size_log_sigma"]),
        },
    }
