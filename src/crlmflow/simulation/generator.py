"""Calibrated synthetic CRLM cohort: a raw hospital export with a known ground truth.

``simulate_cohort`` writes one row per patient with exactly the columns of
:data:`crlmflow.data.columns.RAW_COLUMNS`, shaped like a hospital export (ISO dates, lab values
rounded as a laboratory reports them, rows in a seeded random order). It contains exactly
``n_eligible`` patients who pass the paper's eligibility criteria plus excluded patients,
each failing exactly one criterion of :data:`crlmflow.data.columns.EXCLUSION_REASONS`.

Generative model (all vectorised NumPy, one ``np.random.default_rng(seed)`` stream)
---------------------------------------------------------------------------------
* **Baseline.** A 21-dimensional Gaussian copula (:data:`LATENT`, correlation pairs in
  :data:`_CORR_PAIRS`) drives sex, age, BMI, the labs, the latent CRS items, ASA and the
  hospital stay, so the labs are realistically correlated (ALT~AST, PLT~NEUT, CEA~CA19-9,
  HGB~male, ...). Each continuous margin is a split-normal on the log (or linear) scale whose
  median and quartiles are Table 1's training-set values. WBC = NEUT + LYMPH + other
  leukocytes and TBIL = DBIL + indirect bilirubin, so NEUT < WBC and DBIL < TBIL always; the
  indirect-bilirubin margin and the NEUT-LYMPH and PLT-LYMPH correlations were fitted so that
  WBC, TBIL, NLR, PLR and SII also meet Table 1. Hospital days = 4 + a skewed latent correlated with NEUT, other
  leukocytes, age and ASA (so WBC/NEUT are univariably associated with OS *through* the stay).
* **CRS** (Fong 1999): node-positive, more than one metastasis, CEA > 200 and largest
  metastasis > 5 cm are thresholds of correlated latents (fitted to Table 1's CRS 1..5
  distribution); every eligible patient is synchronous, so CRS = 1 + the four items.
* **Treatment.** Probit models whose intercepts were solved on the reference case mix for
  R0 = 76.6 % (lower with more/larger metastases), RFA = 9.5 % (mostly in non-R0 patients),
  neoadjuvant only = 23.1 % (more likely when CRS is high) and full course = 42.7 %; a
  ``case_mix`` CRS shift therefore also lowers R0 and raises neoadjuvant-only, and
  ``case_mix["r0_rate"]`` re-solves the R0 intercept (bisection on the expected rate).
* **Outcomes.** Death time T_D and latent recurrence time T_R are each *exactly* Cox
  proportional hazards given the covariates, with the paper's Table 2 multivariable
  log-HRs (:data:`TRUE_LOG_HR_OS`, :data:`TRUE_LOG_HR_RFS`, plus a small KRAS effect) and
  piecewise-linear baseline cumulative hazards. The RFS baseline cumulative hazard is bounded
  (no hazard after 96 months): a promotion-time cure model, so the cure probability
  exp(-H0(inf) exp(lp)) falls with the RFS linear predictor and the marginal cure fraction is
  about 20 %. T_D and T_R are linked by a Gaussian copula on their conditional survival
  probabilities (rho = :data:`_COPULA_RHO`), so death mostly follows recurrence; a recurrence
  is recorded only if it precedes death (recurrence <= death always). The marginal (over the
  case mix) baseline was fitted so the KM curves meet Table 3.
* **Follow-up.** Surgery dates have an exponential accrual density over the window (rate
  :data:`_ACCRUAL_RATE` = 0.0276 per month: the yearly case load rises ~40-fold from Dec 2009
  to Dec 2020, about two thirds of the patients are operated in 2018-2020), follow-up ends at the
  cut-off, and a Weibull loss to follow-up with a decreasing hazard (rate 0.0010 per month,
  shape 0.54: ~12 % lost by 2 years, ~20 % by 5 years) censors some patients earlier. Both
  were fitted to the death and recurrence counts and Table 1's observed OS / RFS quartiles.

How the constants were fitted: ``tools/calibrate_simulation.py fit`` (scipy.optimize on
common random numbers, 60,000-200,000 eligible patients); its printout was pasted into the
constants below. ``tools/calibrate_simulation.py cox`` refits the paper's multivariable
Cox models with lifelines on 50,000 synthetic patients. Over three seeds: OS hospital days
1.049-1.050 (true 1.050), R0 0.618-0.626 (0.620), RFA 2.30-2.36 (2.326), neoadjuvant only
2.71-2.83 (2.790), CRS 1.418-1.440 (1.424); RFS R0 0.667-0.672 (0.667), RFA 2.13-2.15
(2.160), CRS 1.447-1.468 (1.444): every estimate within about 2 standard errors of the truth.
The KRAS RFS effect (true 1.10) comes out ~1.07, slightly attenuated by the dependent
censoring of RFS by death.

Calibration targets and the ones that cannot all be met (see ``calibration_report``)
-----------------------------------------------------------------------------------
Table 3 rates and the median OS/RFS are calibrated to the *pooled* cohort (train and
validation rates weighted 273:116) because the pooled median RFS 11.7 months is
incompatible with the training set's 12-month RFS of 52.6 % (the median would be > 12).
Table 1 quantities use the training column. With 200,000 eligible patients every target is
within its tolerance (KM rates within 0.2 pp, median OS 70.1, median RFS 11.9, deaths 36.0 %,
recurrences 72.7 %, Table 1 lab medians within 1 %, category shares within 0.4 pp). Known
partial misses, each tested with its own wider, documented tolerance:

* ``os_obs_q1_months`` (21.7 vs 24.5): 36.5 % deaths together with a 5-year OS of 54 %, a
  median OS of 70 months, a median observed OS of only 34.6 months (IQR 24.5-51.2) and an
  observed RFS Q3 of 23.3 months pull against each other: the short observed times need late
  accrual and early loss to follow-up, which remove deaths and add short censored OS times.
  Tolerance 4 months for the observed OS quartiles (median and Q3 are met within 0.5).
* ``rfs_obs_q1_months`` / ``rfs_obs_median_months`` (3.4 / 10.1 vs 4.1 / 10.7) and
  ``recurrences_pct`` (72.7 vs 71.5 %): the same early loss to follow-up; tolerances 1.0 /
  1.5 months and 2 pp. The latent RFS curve has an extra knot at 24 months (S = 0.27, not a
  paper figure) so that the observed RFS Q3 is met.
* NLR/PLR/SII follow from NEUT, LYMPH and PLT (ratios of correlated lognormal-like labs), so
  they are met only approximately (SII median +8 %); tolerance 10 % (median) / 12 %
  (quartiles) relative. CRS 5 is 0.7 % vs 1.0 % (4 patients in the paper).

Cleaning code must know: eligibility in the order of EXCLUSION_REASONS; "missing required
data" patients have exactly one of the required labs/BMI/admission/discharge dates empty
and pass every other criterion; excluded patients otherwise look like eligible ones (their
metachronous ones have ``disease_free_interval_months`` > 0); absent dates are NaN.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from crlmflow.data.columns import DAYS_PER_MONTH, EXCLUSION_REASONS, RAW_COLUMNS
from crlmflow.survival.km import kaplan_meier

__all__ = [
    "simulate_cohort",
    "write_ground_truth",
    "calibration_report",
    "derive_for_calibration",
    "TRUE_LOG_HR_OS",
    "TRUE_LOG_HR_RFS",
    "CALIBRATION_TARGETS",
]

DEFAULT_SEED = 20250417
_Z75 = 0.6744897501960817  # standard-normal 75th percentile

# --------------------------------------------------------------------------------------
# True outcome model (Table 2 multivariable estimates; KRAS: supplementary Fig. 5, small)
# --------------------------------------------------------------------------------------
TRUE_LOG_HR_OS: dict[str, float] = {
    "hospital_days": float(np.log(1.050)),
    "r0_resection": float(np.log(0.620)),
    "rfa": float(np.log(2.326)),
    "chemo_neoadjuvant_only": float(np.log(2.790)),
    "crs_score": float(np.log(1.424)),
    "kras_mutant": float(np.log(1.20)),
}
TRUE_LOG_HR_RFS: dict[str, float] = {
    "r0_resection": float(np.log(0.667)),
    "rfa": float(np.log(2.160)),
    "crs_score": float(np.log(1.444)),
    "kras_mutant": float(np.log(1.10)),
}

# --------------------------------------------------------------------------------------
# Baseline covariates: Gaussian copula + split-normal margins
# --------------------------------------------------------------------------------------
LATENT: list[str] = [
    "sex", "age", "bmi", "ca19_9", "cea", "neut", "lymph", "other", "hgb", "plt", "alt",
    "ast", "dbil", "ibil", "alb", "d_dimer", "node", "multi", "size", "asa", "hosp",
]

# Correlations of the latent normals (unlisted pairs are 0). "sex" is high for men.
# neut-lymph, plt-lymph, plt-neut, other-* and dbil-ibil were fitted (WBC, TBIL, NLR, PLR,
# SII quartiles); the others are plausible clinical values.
_CORR_PAIRS: dict[tuple[str, str], float] = {
    ("sex", "hgb"): 0.40, ("sex", "alb"): 0.10, ("sex", "ibil"): 0.15, ("sex", "alt"): 0.15,
    ("age", "hgb"): -0.12, ("age", "alb"): -0.20, ("age", "d_dimer"): 0.20,
    ("age", "asa"): 0.30, ("age", "bmi"): 0.05,
    ("ca19_9", "cea"): 0.40, ("cea", "multi"): 0.20, ("cea", "size"): 0.25,
    ("cea", "node"): 0.10, ("ca19_9", "size"): 0.15, ("ca19_9", "node"): 0.05,
    ("neut", "lymph"): 0.14, ("plt", "lymph"): 0.33, ("plt", "neut"): 0.45,
    ("neut", "other"): 0.50, ("lymph", "other"): 0.50, ("plt", "other"): 0.20,
    ("hgb", "plt"): -0.15, ("hgb", "alb"): 0.35, ("alb", "neut"): -0.10,
    ("alt", "ast"): 0.75, ("alt", "dbil"): 0.10, ("ast", "dbil"): 0.10,
    ("dbil", "ibil"): 0.55, ("alb", "d_dimer"): -0.15, ("plt", "d_dimer"): 0.15,
    ("d_dimer", "size"): 0.15, ("node", "multi"): 0.10, ("multi", "size"): 0.10,
    ("hosp", "neut"): 0.30, ("hosp", "other"): 0.15, ("hosp", "age"): 0.10,
    ("hosp", "asa"): 0.10,
}

# Margins: name -> (median, Q1, Q3, scale). Table 1 training set for the measured ones;
# "other" leukocytes, indirect bilirubin and the hospital-stay latent were fitted.
_MARGINS: dict[str, tuple[float, float, float, str]] = {
    "age": (58.0, 51.0, 65.0, "lin"),
    "bmi": (23.83, 22.05, 26.01, "log"),
    "ca19_9": (19.11, 8.78, 45.00, "log"),
    "cea": (8.89, 3.90, 31.46, "log"),
    "neut": (3.45, 2.69, 4.50, "log"),
    "lymph": (1.76, 1.40, 2.17, "log"),
    "other": (0.55, 0.42, 0.72, "log"),  # monocytes + eosinophils + basophils
    "hgb": (133.0, 119.0, 145.0, "lin"),
    "plt": (225.0, 179.5, 276.0, "log"),
    "alt": (19.0, 13.0, 29.5, "log"),
    "ast": (22.0, 17.0, 28.0, "log"),
    "dbil": (3.50, 2.80, 4.55, "log"),
    "ibil": (5.622, 3.855, 7.820, "log"),
    "alb": (42.2, 39.6, 44.5, "lin"),
    "d_dimer": (0.39, 0.24, 0.75, "log"),
    "hosp": (5.9, 4.9, 9.6, "log"),  # hospital days - 4
}

# CRS items: latent thresholds (item present when latent + crs_high_shift > threshold);
# largest metastasis = lognormal(median, sigma) on its latent. Fitted to Table 1 CRS 1..5.
_CRS_NODE_THRESHOLD = -0.3898
_CRS_MULTI_THRESHOLD = -0.4847
_SIZE_MEDIAN_CM = 2.3446
_SIZE_LOG_SIGMA = 0.6080

_P_FEMALE = 250 / 389
_ASA_PROBS = (0.033, 0.838, 0.129)  # ASA 1, 2, 3
_P_KRAS_MUTANT = 221 / 389
_P_COLON = 223 / 389
_P_LAPAROSCOPIC = 0.442

# Treatment: probit models with fixed slopes. The intercepts were solved (bisection on the
# expected rate, 400,000 eligible patients of the reference case mix) for these rates and are
# fixed, so a case-mix shift propagates (more CRS-high => fewer R0, more neoadjuvant only);
# case_mix["r0_rate"] re-solves the R0 intercept on the simulated sample instead.
_R0_RATE = 0.766
_RFA_RATE = 0.095
_NEO_ONLY_RATE = 0.231
_FULL_COURSE_RATE = 0.427  # of all eligible; adjuvant only = the rest (34.2 %)
_R0_INTERCEPT = 1.0766
_RFA_INTERCEPT = -2.2687
_NEO_INTERCEPT = -0.7543
_FULL_INTERCEPT = 0.1403  # P(full course | not neoadjuvant only)
_R0_SLOPES = {"multi": -0.35, "size_gt5": -0.30, "node": -0.10}
_RFA_SLOPES = {"not_r0": 1.50, "multi": 0.40}
_NEO_SLOPE_CRS = 0.30
_FULL_SLOPE_CRS = 0.10

# --------------------------------------------------------------------------------------
# Outcome baselines (piecewise-linear cumulative hazards; months) and follow-up
# --------------------------------------------------------------------------------------
_OS_KNOTS = np.array([0.0, 12.0, 36.0, 60.0, 70.2, 600.0])
_OS_H0 = np.array([0.0, 0.0040, 0.0610, 0.1279, 0.1459, 1.0801])
_RFS_KNOTS = np.array([0.0, 4.14, 12.0, 24.0, 36.0, 60.0, 96.0])
_RFS_H0 = np.array([0.0, 0.1288, 0.3319, 0.6664, 0.7842, 0.8396, 0.8680])
_COPULA_RHO = 0.75
_ACCRUAL_RATE = 0.0276  # per month, density ~ exp(rate * months since accrual start)
_LTFU_RATE = 0.0010  # per month, Weibull loss to follow-up S_L(t) = exp(-(rate t)^shape)
_LTFU_SHAPE = 0.538

# --------------------------------------------------------------------------------------
# Excluded patients
# --------------------------------------------------------------------------------------
DEFAULT_EXCLUDED_FRACTION = 0.25  # excluded patients = round(0.25 * n_eligible): 97 for 389
EXCLUSION_MIX: dict[str, float] = {  # share of the excluded patients by reason
    "metachronous liver metastases": 0.30,
    "extrahepatic metastases": 0.25,
    "NED not achieved": 0.15,
    "no systemic chemotherapy": 0.18,
    "missing required data": 0.12,
}
# Columns one of which is left empty for a "missing required data" patient.
MISSABLE_COLUMNS: list[str] = [
    "bmi", "ca19_9", "cea", "wbc", "neut", "lymph", "hgb", "plt", "alt", "ast", "tbil",
    "dbil", "alb", "d_dimer", "admission_date", "discharge_date",
]


def _params() -> dict:
    """All tunable constants in one dict (the calibration script overrides entries)."""
    return dict(
        corr_pairs=dict(_CORR_PAIRS), margins=dict(_MARGINS),
        crs_node_threshold=_CRS_NODE_THRESHOLD, crs_multi_threshold=_CRS_MULTI_THRESHOLD,
        size_median_cm=_SIZE_MEDIAN_CM, size_log_sigma=_SIZE_LOG_SIGMA,
        os_knots=_OS_KNOTS.copy(), os_h0=_OS_H0.copy(),
        rfs_knots=_RFS_KNOTS.copy(), rfs_h0=_RFS_H0.copy(),
        copula_rho=_COPULA_RHO, accrual_rate=_ACCRUAL_RATE, ltfu_rate=_LTFU_RATE,
        ltfu_shape=_LTFU_SHAPE,
    )


def _corr_matrix(pairs: dict) -> np.ndarray:
    idx = {n: i for i, n in enumerate(LATENT)}
    c = np.eye(len(LATENT))
    for (a, b), r in pairs.items():
        c[idx[a], idx[b]] = c[idx[b], idx[a]] = r
    w, v = np.linalg.eigh(c)
    if w.min() < 1e-6:  # project to the nearest positive-definite correlation matrix
        c = (v * np.clip(w, 1e-6, None)) @ v.T
        d = np.sqrt(np.diag(c))
        c = c / np.outer(d, d)
    return c


def _split_normal(z: np.ndarray, med: float, q1: float, q3: float, scale: str) -> np.ndarray:
    """Monotone transform of a standard normal with the given median and quartiles."""
    if scale == "log":
        m, lo, hi = np.log(med), np.log(med) - np.log(q1), np.log(q3) - np.log(med)
    else:
        m, lo, hi = med, med - q1, q3 - med
    v = m + z * np.where(z < 0, lo, hi) / _Z75
    return np.exp(v) if scale == "log" else v


def _solve_intercept(lin: np.ndarray, target: float) -> float:
    """Intercept a with mean(Phi(a + lin)) == target (bisection; vectorised)."""
    vals, counts = np.unique(np.round(lin, 10), return_counts=True)  # few distinct values
    w = counts / counts.sum()
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if (w * ndtr(mid + vals)).sum() < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _case_mix(case_mix: dict | None) -> dict:
    cm = dict(case_mix or {})
    unknown = set(cm) - {"crs_high_shift", "r0_rate"}
    if unknown:
        raise ValueError(f"unknown case_mix keys {sorted(unknown)}; allowed: crs_high_shift, r0_rate")
    shift = float(cm.get("crs_high_shift", 0.0) or 0.0)
    r0 = cm.get("r0_rate")
    if r0 is not None:
        r0 = float(r0)
        if not 0.0 < r0 < 1.0:
            raise ValueError(f"case_mix r0_rate must be in (0, 1), got {r0}")
    return {"crs_high_shift": shift, "r0_rate": r0}


# --------------------------------------------------------------------------------------
# Covariates
# --------------------------------------------------------------------------------------
def _draw_covariates(n: int, rng: np.random.Generator, p: dict, cm: dict) -> dict:
    chol = np.linalg.cholesky(_corr_matrix(p["corr_pairs"]))
    z = rng.standard_normal((n, len(LATENT))) @ chol.T
    Z = {name: z[:, i] for i, name in enumerate(LATENT)}
    mg = p["margins"]
    shift = cm["crs_high_shift"]
    x: dict[str, np.ndarray] = {}

    male = Z["sex"] > ndtri(_P_FEMALE)
    x["sex"] = np.where(male, "M", "F")
    x["age"] = np.clip(np.round(_split_normal(Z["age"], *mg["age"])), 20, 88).astype(float)
    x["bmi"] = np.clip(np.round(_split_normal(Z["bmi"], *mg["bmi"]), 2), 14.0, 45.0)
    x["ca19_9"] = np.clip(np.round(_split_normal(Z["ca19_9"], *mg["ca19_9"]), 2), 0.6, 99999.0)
    # CEA is a CRS item: its latent is shifted by the case mix like the other items
    x["cea"] = np.clip(np.round(_split_normal(Z["cea"] + shift, *mg["cea"]), 2), 0.2, 99999.0)
    neut = np.clip(np.round(_split_normal(Z["neut"], *mg["neut"]), 2), 0.30, 60.0)
    lymph = np.clip(np.round(_split_normal(Z["lymph"], *mg["lymph"]), 2), 0.10, 20.0)
    other = np.clip(np.round(_split_normal(Z["other"], *mg["other"]), 2), 0.05, 10.0)
    x["neut"], x["lymph"] = neut, lymph
    x["wbc"] = np.round(neut + lymph + other, 2)  # NEUT < WBC by construction
    x["hgb"] = np.clip(np.round(_split_normal(Z["hgb"], *mg["hgb"])), 60, 190).astype(float)
    x["plt"] = np.clip(np.round(_split_normal(Z["plt"], *mg["plt"])), 30, 900).astype(float)
    x["alt"] = np.clip(np.round(_split_normal(Z["alt"], *mg["alt"])), 3, 800).astype(float)
    x["ast"] = np.clip(np.round(_split_normal(Z["ast"], *mg["ast"])), 5, 800).astype(float)
    dbil = np.clip(np.round(_split_normal(Z["dbil"], *mg["dbil"]), 1), 0.5, 200.0)
    ibil = np.clip(np.round(_split_normal(Z["ibil"], *mg["ibil"]), 1), 0.5, 200.0)
    x["dbil"], x["tbil"] = dbil, np.round(dbil + ibil, 1)  # DBIL < TBIL by construction
    x["alb"] = np.clip(np.round(_split_normal(Z["alb"], *mg["alb"]), 1), 22.0, 58.0)
    x["d_dimer"] = np.clip(np.round(_split_normal(Z["d_dimer"], *mg["d_dimer"]), 2), 0.02, 40.0)

    # ASA from a latent correlated with age
    a1, a2 = ndtri(_ASA_PROBS[0]), ndtri(_ASA_PROBS[0] + _ASA_PROBS[1])
    x["asa"] = np.where(Z["asa"] < a1, 1, np.where(Z["asa"] < a2, 2, 3)).astype(int)

    # Hospital stay (days, admission to discharge), skewed, correlated with the labs
    x["hospital_days"] = np.clip(np.round(4.0 + _split_normal(Z["hosp"], *mg["hosp"])), 5, 90).astype(int)

    # CRS items
    node = (Z["node"] + shift > p["crs_node_threshold"]).astype(int)
    multi = Z["multi"] + shift > p["crs_multi_threshold"]
    extra = np.floor(rng.exponential(1.8, n)).astype(int)
    x["n_liver_metastases"] = np.where(multi, np.minimum(2 + extra, 30), 1).astype(int)
    size = np.exp(np.log(p["size_median_cm"]) + p["size_log_sigma"] * (Z["size"] + shift))
    x["largest_metastasis_cm"] = np.clip(np.round(size, 1), 0.5, 25.0)
    x["primary_node_positive"] = node
    crs_items = (
        node + (x["n_liver_metastases"] > 1) + (x["cea"] > 200) + (x["largest_metastasis_cm"] > 5)
    )
    x["crs_score"] = (1 + crs_items).astype(int)  # synchronous: item 2 always present

    # Treatment
    multi_i = (x["n_liver_metastases"] > 1).astype(float)
    size_i = (x["largest_metastasis_cm"] > 5).astype(float)
    lin = (_R0_SLOPES["multi"] * multi_i + _R0_SLOPES["size_gt5"] * size_i
           + _R0_SLOPES["node"] * node)
    a_r0 = _R0_INTERCEPT if cm["r0_rate"] is None else _solve_intercept(lin, cm["r0_rate"])
    r0 = (rng.random(n) < ndtr(a_r0 + lin)).astype(int)
    lin = _RFA_SLOPES["not_r0"] * (1 - r0) + _RFA_SLOPES["multi"] * multi_i
    a_rfa = _RFA_INTERCEPT
    rfa = (rng.random(n) < ndtr(a_rfa + lin)).astype(int)
    lin = _NEO_SLOPE_CRS * (x["crs_score"] - 2.5)
    a_neo = _NEO_INTERCEPT
    neo = rng.random(n) < ndtr(a_neo + lin)
    lin = _FULL_SLOPE_CRS * (x["crs_score"] - 2.5)
    a_full = _FULL_INTERCEPT
    full = rng.random(n) < ndtr(a_full + lin)
    x["r0_resection"], x["rfa"] = r0, rfa
    x["chemotherapy"] = np.where(neo, "neoadjuvant_only", np.where(full, "full_course", "adjuvant_only"))

    x["kras"] = np.where(rng.random(n) < _P_KRAS_MUTANT, "mutant", "wild_type")
    x["primary_site"] = np.where(rng.random(n) < _P_COLON, "colon", "rectum")
    x["laparoscopic"] = (rng.random(n) < _P_LAPAROSCOPIC).astype(int)
    x["_intercepts"] = dict(r0=a_r0, rfa=a_rfa, neoadjuvant_only=a_neo, full_course_given_not_neo=a_full)
    return x


def _linear_predictors(x: dict) -> tuple[np.ndarray, np.ndarray]:
    kras = (x["kras"] == "mutant").astype(float)
    neo = (x["chemotherapy"] == "neoadjuvant_only").astype(float)
    b = TRUE_LOG_HR_OS
    lp_os = (b["hospital_days"] * x["hospital_days"] + b["r0_resection"] * x["r0_resection"]
             + b["rfa"] * x["rfa"] + b["chemo_neoadjuvant_only"] * neo
             + b["crs_score"] * x["crs_score"] + b["kras_mutant"] * kras)
    b = TRUE_LOG_HR_RFS
    lp_rfs = (b["r0_resection"] * x["r0_resection"] + b["rfa"] * x["rfa"]
              + b["crs_score"] * x["crs_score"] + b["kras_mutant"] * kras)
    return lp_os, lp_rfs


def _invert_h0(h: np.ndarray, knots: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """Time t with H0(t) = h for a piecewise-linear H0; linear extrapolation past the last
    knot when the last segment rises, +inf (cured) when H0 is flat there."""
    t = np.interp(h, h0, knots)
    slope = (h0[-1] - h0[-2]) / (knots[-1] - knots[-2])
    beyond = h > h0[-1]
    if slope > 0:
        t = np.where(beyond, knots[-1] + (h - h0[-1]) / slope, t)
    else:
        t = np.where(beyond, np.inf, t)
    return t


def _draw_latent_times(x: dict, rng: np.random.Generator, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Death and (net) recurrence times in months, each exactly Cox given the covariates."""
    n = len(x["age"])
    lp_os, lp_rfs = _linear_predictors(x)
    rho = p["copula_rho"]
    z1 = rng.standard_normal(n)
    z2 = rho * z1 + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    # conditional survival probabilities U = S(T | x); -log U = H0(T) exp(lp)
    e_d = -np.log(ndtr(z1))
    e_r = -np.log(ndtr(z2))
    t_death = _invert_h0(e_d * np.exp(-lp_os), p["os_knots"], p["os_h0"])
    t_rec = _invert_h0(e_r * np.exp(-lp_rfs), p["rfs_knots"], p["rfs_h0"])
    return t_death, t_rec


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def simulate_cohort(
    n_eligible: int = 389,
    seed: int = DEFAULT_SEED,
    *,
    accrual: tuple[str, str] = ("2009-12-01", "2020-12-31"),
    followup_cutoff: str = "2023-04-30",
    excluded_fraction: float = DEFAULT_EXCLUDED_FRACTION,
    case_mix: dict | None = None,
    _params_override: dict | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Simulate a raw hospital export and return ``(raw_export, ground_truth)``.

    ``n_eligible`` patients pass the eligibility criteria; ``round(excluded_fraction *
    n_eligible)`` more fail exactly one (shares :data:`EXCLUSION_MIX`). ``case_mix`` (a
    simulated external centre): ``crs_high_shift`` shifts the latent CRS items (and CEA) by
    that many standard deviations (positive = more CRS >= 3); ``r0_rate`` overrides the R0
    proportion (default 0.766). The conditional outcome model is the same for any case mix.
    """
    n_eligible = int(n_eligible)
    if n_eligible < 1:
        raise ValueError("n_eligible must be >= 1")
    if excluded_fraction < 0:
        raise ValueError("excluded_fraction must be >= 0")
    p = _params()
    if _params_override:
        p.update(_params_override)
    cm = _case_mix(case_mix)
    start, end = np.datetime64(accrual[0], "D"), np.datetime64(accrual[1], "D")
    cutoff = np.datetime64(followup_cutoff, "D")
    if not start <= end <= cutoff:
        raise ValueError("need accrual start <= accrual end <= follow-up cut-off")

    n_excl = int(round(excluded_fraction * n_eligible))
    n = n_eligible + n_excl
    rng = np.random.default_rng(seed)
    x = _draw_covariates(n, rng, p, cm)
    intercepts = x.pop("_intercepts")
    t_death, t_rec = _draw_latent_times(x, rng, p)

    # ---- dates (integer days) --------------------------------------------------------
    span = int((end - start).astype(int))
    k = p["accrual_rate"] / DAYS_PER_MONTH  # per day
    u = rng.random(n)
    if k > 0:
        off = np.log1p(u * np.expm1(k * (span + 1))) / k
    else:
        off = u * (span + 1)
    surg = start + np.minimum(np.floor(off).astype(int), span).astype("timedelta64[D]")
    hd = x["hospital_days"]
    preop = np.minimum(1 + rng.poisson(2.0, n), hd - 3)  # days from admission to surgery
    stay = hd - preop  # surgery to discharge, >= 3
    admission = surg - preop.astype("timedelta64[D]")
    discharge = admission + hd.astype("timedelta64[D]")

    d_death = np.maximum(np.ceil(t_death * DAYS_PER_MONTH), stay)  # dies after discharge
    has_rec = t_rec < t_death
    d_rec = np.where(has_rec, np.minimum(np.maximum(np.ceil(np.where(has_rec, t_rec, 0) * DAYS_PER_MONTH), stay + 1), d_death), np.inf)
    d_admin = (cutoff - surg).astype(int).astype(float)
    ltfu_rate = p["ltfu_rate"]  # Weibull loss to follow-up: S_L(t) = exp(-(rate * t) ** shape)
    e_ltfu = rng.exponential(1.0, n)
    t_ltfu = e_ltfu ** (1.0 / p["ltfu_shape"]) / ltfu_rate if ltfu_rate > 0 else np.full(n, np.inf)
    d_ltfu = np.maximum(np.ceil(t_ltfu * DAYS_PER_MONTH), stay)
    d_end = np.minimum(d_admin, d_ltfu)
    dead = d_death <= d_end
    d_last = np.where(dead, d_death, d_end)
    rec_obs = d_rec <= d_last

    def as_date(days, present):
        dd = surg + np.where(present, days, 0).astype(int).astype("timedelta64[D]")
        s = np.datetime_as_string(dd, unit="D").astype(object)
        s[~present] = np.nan
        return s

    # ---- eligibility: the first n_eligible rows are eligible, the rest excluded ---------
    reasons = np.array([""] * n, dtype=object)
    if n_excl:
        shares = np.array([EXCLUSION_MIX[r] for r in EXCLUSION_REASONS])
        counts = np.floor(shares / shares.sum() * n_excl).astype(int)
        for i in np.argsort(-(shares / shares.sum() * n_excl - counts))[: n_excl - counts.sum()]:
            counts[i] += 1
        reasons[n_eligible:] = np.repeat(np.array(EXCLUSION_REASONS, dtype=object), counts)
    timing = np.where(reasons == "metachronous liver metastases", "metachronous", "synchronous")
    dfi = np.where(timing == "metachronous", np.round(np.clip(rng.lognormal(np.log(15.0), 0.7, n), 3.0, 120.0), 1), 0.0)
    extrahep = (reasons == "extrahepatic metastases").astype(int)
    ned = (reasons != "NED not achieved").astype(int)
    chemo = np.where(reasons == "no systemic chemotherapy", "none", x["chemotherapy"])

    raw = {
        "patient_id": None,
        "sex": x["sex"], "age": x["age"], "bmi": x["bmi"],
        "admission_date": np.datetime_as_string(admission, unit="D").astype(object),
        "surgery_date": np.datetime_as_string(surg, unit="D").astype(object),
        "discharge_date": np.datetime_as_string(discharge, unit="D").astype(object),
        "recurrence_date": as_date(d_rec, rec_obs),
        "death_date": as_date(d_death, dead),
        "last_followup_date": as_date(d_last, np.ones(n, bool)),
        "ca19_9": x["ca19_9"], "cea": x["cea"], "wbc": x["wbc"], "neut": x["neut"],
        "lymph": x["lymph"], "hgb": x["hgb"], "plt": x["plt"], "alt": x["alt"],
        "ast": x["ast"], "tbil": x["tbil"], "dbil": x["dbil"], "alb": x["alb"],
        "d_dimer": x["d_dimer"],
        "r0_resection": x["r0_resection"], "rfa": x["rfa"], "chemotherapy": chemo,
        "asa": x["asa"], "primary_node_positive": x["primary_node_positive"],
        "metastasis_timing": timing, "disease_free_interval_months": dfi,
        "n_liver_metastases": x["n_liver_metastases"],
        "largest_metastasis_cm": x["largest_metastasis_cm"],
        "extrahepatic_metastases": extrahep, "ned_achieved": ned,
        "kras": x["kras"], "primary_site": x["primary_site"], "laparoscopic": x["laparoscopic"],
    }
    df = pd.DataFrame({k: v for k, v in raw.items() if v is not None})
    miss_rows = np.flatnonzero(reasons == "missing required data")
    miss_cols = rng.choice(len(MISSABLE_COLUMNS), size=len(miss_rows))
    for r, c in zip(miss_rows, miss_cols):  # at most a few dozen rows
        df.iat[r, df.columns.get_loc(MISSABLE_COLUMNS[c])] = np.nan

    order = rng.permutation(n)
    df = df.iloc[order].reset_index(drop=True)
    width = max(6, len(str(n)))
    df.insert(0, "patient_id", [f"P{i:0{width}d}" for i in range(1, n + 1)])
    df = df[list(RAW_COLUMNS)]

    lp_os, lp_rfs = _linear_predictors(x)
    elig = slice(0, n_eligible)
    cure = np.exp(-p["rfs_h0"][-1] * np.exp(lp_rfs[elig]))
    truth = {
        "description": (
            "Synthetic CRLM cohort (Xue et al., BMC Cancer 2025). Death time and latent "
            "recurrence time are each exactly Cox PH given the covariates, with the paper's "
            "Table 2 multivariable log-HRs (plus a small KRAS effect) and piecewise-linear "
            "baseline cumulative hazards; the RFS baseline is bounded (promotion-time cure "
            "model); the two times are linked by a Gaussian copula on their conditional "
            "survival probabilities and a recurrence is recorded only before death. Death "
            "without recurrence censors RFS. Exponential accrual, administrative censoring "
            "at the cut-off and exponential loss to follow-up. All other covariates have no "
            "direct effect (hospital days are correlated with NEUT/WBC, R0/RFA/chemotherapy "
            "with the CRS items)."
        ),
        "seed": int(seed),
        "n_eligible": n_eligible,
        "n_excluded": n_excl,
        "n_total": n,
        "excluded_by_reason": {r: int((reasons == r).sum()) for r in EXCLUSION_REASONS},
        "case_mix": {"crs_high_shift": cm["crs_high_shift"], "r0_rate": cm["r0_rate"],
                     "input": None if case_mix is None else dict(case_mix)},
        "time_unit": "months (days / 30.4375)",
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
        "dependence": {"type": "Gaussian copula on S_D(T_D|x), S_R(T_R|x)",
                       "rho": float(p["copula_rho"]),
                       "recurrence_recorded_only_if_before_death": True},
        "accrual": {"start": str(start), "end": str(end),
                    "density": "proportional to exp(rate * months since start)",
                    "rate_per_month": float(p["accrual_rate"])},
        "followup": {"cutoff": str(cutoff),
                     "loss_to_followup": "Weibull, S_L(t) = exp(-(rate * t) ** shape), t in months",
                     "ltfu_rate_per_month": float(p["ltfu_rate"]), "ltfu_shape": float(p["ltfu_shape"])},
        "treatment_model": {
            "r0": {"rate_reference": _R0_RATE, "rate_override": cm["r0_rate"], "probit_slopes": dict(_R0_SLOPES), "intercept": float(intercepts["r0"])},
            "rfa": {"rate_reference": _RFA_RATE, "probit_slopes": dict(_RFA_SLOPES), "intercept": float(intercepts["rfa"])},
            "neoadjuvant_only": {"rate_reference": _NEO_ONLY_RATE, "probit_slope_crs": _NEO_SLOPE_CRS,
                                 "intercept": float(intercepts["neoadjuvant_only"])},
            "full_course": {"rate_reference": _FULL_COURSE_RATE, "probit_slope_crs": _FULL_SLOPE_CRS,
                            "intercept_given_not_neoadjuvant": float(intercepts["full_course_given_not_neo"])},
        },
        "crs_items": {"node_threshold": float(p["crs_node_threshold"]),
                      "multi_threshold": float(p["crs_multi_threshold"]),
                      "size_median_cm": float(p["size_median_cm"]),
                      "size_log_sigma": float(p["size_log_sigma"])},
        "missable_columns": list(MISSABLE_COLUMNS),
    }
    return df, truth


def write_ground_truth(truth: dict, path) -> None:
    """Write the ground truth as indented JSON."""
    Path(path).write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------
# Derivation and calibration report
# --------------------------------------------------------------------------------------
_REQUIRED = [c for c, spec in RAW_COLUMNS.items() if spec.get("required")]


def _exclusion_reason(raw: pd.DataFrame) -> pd.Series:
    """First failing criterion per row (in EXCLUSION_REASONS order), '' when eligible."""
    reason = pd.Series("", index=raw.index, dtype=object)
    checks = [
        raw["metastasis_timing"] == "metachronous",
        raw["extrahepatic_metastases"] == 1,
        raw["ned_achieved"] == 0,
        raw["chemotherapy"] == "none",
        (raw[_REQUIRED].isna() | raw[_REQUIRED].eq("")).any(axis=1),
    ]
    for name, hit in zip(EXCLUSION_REASONS, checks):
        reason[(reason == "") & hit.to_numpy()] = name
    return reason


def derive_for_calibration(raw: pd.DataFrame, death_censors_rfs: bool = True) -> pd.DataFrame:
    """Minimal private derivation (not the workflow's cleaning): eligible rows with the
    analysis quantities used by :func:`calibration_report` and the tests."""
    df = raw.loc[_exclusion_reason(raw) == ""].copy()
    d = {c: pd.to_datetime(df[c], format="%Y-%m-%d") for c in
         ["admission_date", "surgery_date", "discharge_date", "recurrence_date", "death_date", "last_followup_date"]}
    end_os = d["death_date"].fillna(d["last_followup_date"])
    df["os_months"] = (end_os - d["surgery_date"]).dt.days / DAYS_PER_MONTH
    df["os_event"] = d["death_date"].notna().astype(int)
    end_rfs = d["recurrence_date"].fillna(end_os)
    df["rfs_months"] = (end_rfs - d["surgery_date"]).dt.days / DAYS_PER_MONTH
    df["rfs_event"] = d["recurrence_date"].notna().astype(int)
    if not death_censors_rfs:
        df["rfs_event"] = (df["rfs_event"] | df["os_event"]).astype(int)
    df["hospital_days"] = (d["discharge_date"] - d["admission_date"]).dt.days
    df["nlr"] = df["neut"] / df["lymph"]
    df["plr"] = df["plt"] / df["lymph"]
    df["sii"] = df["plt"] * df["neut"] / df["lymph"]
    df["crs_score"] = (
        df["primary_node_positive"]
        + ((df["metastasis_timing"] == "synchronous") | (df["disease_free_interval_months"] <= 12)).astype(int)
        + (df["n_liver_metastases"] > 1).astype(int)
        + (df["cea"] > 200).astype(int)
        + (df["largest_metastasis_cm"] > 5).astype(int)
    )
    for lvl in ["full_course", "neoadjuvant_only", "adjuvant_only"]:
        df[f"chemo_{lvl}"] = (df["chemotherapy"] == lvl).astype(int)
    df["male"] = (df["sex"] == "M").astype(int)
    df["kras_mutant"] = (df["kras"] == "mutant").astype(int)
    return df.reset_index(drop=True)


def _km(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier: distinct event times and S just after each."""
    km = kaplan_meier(np.asarray(time, float), np.asarray(event, float))
    keep = km.n_event > 0
    return km.time[keep], km.surv[keep]


def _km_at(time, event, t: float) -> float:
    ts, s = _km(time, event)
    i = np.searchsorted(ts, t, side="right")
    return 1.0 if i == 0 else float(s[i - 1])


def _km_median(time, event) -> float:
    ts, s = _km(time, event)
    below = np.flatnonzero(s <= 0.5)
    return float(ts[below[0]]) if len(below) else float("nan")


def _pooled(a: float, b: float) -> float:
    return (273 * a + 116 * b) / 389


# (quantity, paper value, tolerance, kind, note). kind: "abs" (absolute), "rel" (relative).
_TABLE1 = {
    "age": (58.00, 51.00, 65.00), "bmi": (23.83, 22.05, 26.01), "hospital_days": (10.0, 9.0, 14.0),
    "ca19_9": (19.11, 8.78, 45.00), "cea": (8.89, 3.90, 31.46), "wbc": (5.83, 4.76, 7.20),
    "neut": (3.45, 2.69, 4.50), "lymph": (1.76, 1.40, 2.17), "hgb": (133.0, 119.0, 145.0),
    "plt": (225.0, 179.5, 276.0), "alt": (19.0, 13.0, 29.5), "ast": (22.0, 17.0, 28.0),
    "tbil": (9.30, 7.00, 12.20), "dbil": (3.50, 2.80, 4.55), "alb": (42.20, 39.60, 44.50),
    "d_dimer": (0.39, 0.24, 0.75), "nlr": (1.94, 1.45, 2.82), "plr": (125.33, 96.90, 158.22),
    "sii": (411.46, 285.78, 664.90),
}
_RATIO_VARS = {"nlr", "plr", "sii"}


def _targets() -> list[tuple[str, float, float, str, str]]:
    t = []
    km = {("os", 12): (97.38, 97.52), ("os", 36): (71.18, 72.93), ("os", 60): (54.56, 51.56),
          ("rfs", 12): (52.57, 42.78), ("rfs", 36): (22.65, 20.96), ("rfs", 60): (21.12, 18.26)}
    for (ep, m), (tr, va) in km.items():
        t.append((f"km_{ep}_{m}m_pct", round(_pooled(tr, va), 2), 3.0, "abs",
                  f"Table 3, pooled 273:116 (train {tr})"))
    t.append(("median_os_months", 70.20, 6.0, "abs", "KM median, pooled (Table 3)"))
    t.append(("median_rfs_months", 11.70, 1.0, "abs", "KM median, pooled (Table 3)"))
    t.append(("deaths_pct", round(100 * 142 / 389, 2), 2.0, "abs", "142/389"))
    t.append(("recurrences_pct", round(100 * 278 / 389, 2), 2.0, "abs",
              "278/389; early loss to follow-up trades against observed OS times"))
    for q, v in zip(("median", "q1", "q3"), (34.60, 24.54, 51.19)):
        t.append((f"os_obs_{q}_months", v, 4.0, "abs",
                  "Table 1 train, observed OS months; documented wider tolerance (Q1 is a "
                  "known partial miss: deaths vs short observed times)"))
    for q, v, tol in zip(("median", "q1", "q3"), (10.67, 4.14, 23.34), (1.5, 1.0, 2.5)):
        t.append((f"rfs_obs_{q}_months", v, tol, "abs", "Table 1 train, observed RFS months"))
    for var, (med, q1, q3) in _TABLE1.items():
        tol_m, tol_q = (0.10, 0.12) if var in _RATIO_VARS else (0.05, 0.10)
        note = "Table 1 train" + ("; ratio of labs, documented wider tolerance" if var in _RATIO_VARS else "")
        t.append((f"{var}_median", med, tol_m, "rel", note))
        t.append((f"{var}_q1", q1, tol_q, "rel", note))
        t.append((f"{var}_q3", q3, tol_q, "rel", note))
    props = [
        ("female_pct", 100 * 250 / 389, "Table 1 pooled 250/389"),
        ("r0_pct", 100 * 298 / 389, "Table 1 pooled 298/389"),
        ("rfa_pct", 100 * 37 / 389, "Table 1 pooled 37/389"),
        ("chemo_full_course_pct", 100 * 166 / 389, "Table 1 pooled"),
        ("chemo_neoadjuvant_only_pct", 100 * 90 / 389, "Table 1 pooled"),
        ("chemo_adjuvant_only_pct", 100 * 133 / 389, "Table 1 pooled"),
        ("asa_1_pct", 100 * 13 / 389, "Table 1 pooled"),
        ("asa_2_pct", 100 * 326 / 389, "Table 1 pooled"),
        ("asa_3_pct", 100 * 50 / 389, "Table 1 pooled"),
        ("crs_1_pct", 100 * 44 / 389, "Table 1 pooled"),
        ("crs_2_pct", 100 * 144 / 389, "Table 1 pooled"),
        ("crs_3_pct", 100 * 170 / 389, "Table 1 pooled"),
        ("crs_4_pct", 100 * 27 / 389, "Table 1 pooled"),
        ("crs_5_pct", 100 * 4 / 389, "Table 1 pooled"),
        ("kras_mutant_pct", 100 * 221 / 389, "supplementary Table 4"),
        ("colon_pct", 100 * 223 / 389, "text"),
        ("laparoscopic_pct", 44.2, "text (denominator unclear)"),
    ]
    for name, v, note in props:
        t.append((name, round(v, 2), 2.0, "abs", note))
    return t


CALIBRATION_TARGETS = _targets()


def _synthetic_values(a: pd.DataFrame) -> dict[str, float]:
    v: dict[str, float] = {}
    for ep in ("os", "rfs"):
        for m in (12, 36, 60):
            v[f"km_{ep}_{m}m_pct"] = 100 * _km_at(a[f"{ep}_months"], a[f"{ep}_event"], m)
    v["median_os_months"] = _km_median(a["os_months"], a["os_event"])
    v["median_rfs_months"] = _km_median(a["rfs_months"], a["rfs_event"])
    v["deaths_pct"] = 100 * a["os_event"].mean()
    v["recurrences_pct"] = 100 * a["rfs_event"].mean()
    for ep in ("os", "rfs"):
        q1, med, q3 = np.percentile(a[f"{ep}_months"], [25, 50, 75])
        v[f"{ep}_obs_median_months"], v[f"{ep}_obs_q1_months"], v[f"{ep}_obs_q3_months"] = med, q1, q3
    for var in _TABLE1:
        q1, med, q3 = np.percentile(a[var].astype(float), [25, 50, 75])
        v[f"{var}_median"], v[f"{var}_q1"], v[f"{var}_q3"] = med, q1, q3
    v["female_pct"] = 100 * (a["sex"] == "F").mean()
    v["r0_pct"] = 100 * a["r0_resection"].mean()
    v["rfa_pct"] = 100 * a["rfa"].mean()
    for lvl in ("full_course", "neoadjuvant_only", "adjuvant_only"):
        v[f"chemo_{lvl}_pct"] = 100 * a[f"chemo_{lvl}"].mean()
    for k in (1, 2, 3):
        v[f"asa_{k}_pct"] = 100 * (a["asa"] == k).mean()
    for k in range(1, 6):
        v[f"crs_{k}_pct"] = 100 * (a["crs_score"] == k).mean()
    v["kras_mutant_pct"] = 100 * a["kras_mutant"].mean()
    v["colon_pct"] = 100 * (a["primary_site"] == "colon").mean()
    v["laparoscopic_pct"] = 100 * a["laparoscopic"].mean()
    return v


def calibration_report(n_eligible: int = 200_000, seed: int = 1, **simulate_kwargs) -> pd.DataFrame:
    """Simulate a large cohort and compare it with the paper, one row per target.

    Columns: ``quantity, paper, synthetic, difference, tolerance, within_tolerance`` plus
    ``tolerance_kind`` ("abs": |difference| <= tolerance in the quantity's unit; "rel":
    |difference| / paper <= tolerance) and ``note`` (source, and why a tolerance is wider).
    """
    raw, _ = simulate_cohort(n_eligible, seed, **simulate_kwargs)
    a = derive_for_calibration(raw)
    syn = _synthetic_values(a)
    rows = []
    for name, paper, tol, kind, note in CALIBRATION_TARGETS:
        s = float(syn[name])
        diff = s - paper
        ok = abs(diff) <= tol if kind == "abs" else abs(diff) <= tol * abs(paper)
        rows.append(dict(quantity=name, paper=paper, synthetic=round(s, 4), difference=round(diff, 4),
                         tolerance=tol, within_tolerance=bool(ok), tolerance_kind=kind, note=note))
    return pd.DataFrame(rows)
