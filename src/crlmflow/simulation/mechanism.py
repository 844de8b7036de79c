"""The data-generating mechanism of the synthetic CRLM cohort: covariates, treatment and outcome times.

Every function works on arrays (vectorised NumPy) and takes its random numbers from the
``numpy.random.Generator`` it is given; :func:`crlmflow.simulation.generator.simulate_cohort`
passes the named stream ``stream(seed, "simulate_cohort")`` and turns the draws into a raw
hospital export.

Model
-----
* **Baseline.** A 21-dimensional Gaussian copula (:data:`LATENT`, correlation pairs in
  ``_CORR_PAIRS``) drives sex, age, BMI, the labs, the latent CRS items, ASA and the
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
  probabilities (rho = ``_COPULA_RHO``), so death mostly follows recurrence; a recurrence
  is recorded only if it precedes death (recurrence <= death always). The marginal (over the
  case mix) baseline was fitted so the KM curves meet Table 3.
* **Follow-up** (accrual density and Weibull loss to follow-up) is drawn by the generator;
  its constants (``accrual_rate``, ``ltfu_rate``, ``ltfu_shape``) live in
  :func:`default_params` with the others because they were fitted together.

How the constants were fitted: ``tools/calibrate_simulation.py fit`` (scipy.optimize on
common random numbers, 60,000-200,000 eligible patients); its printout was pasted into the
constants below (the calibration targets are in
:mod:`crlmflow.simulation.calibration`). ``tools/calibrate_simulation.py cox`` refits the paper's multivariable
Cox models with lifelines on 50,000 synthetic patients. Over three seeds: OS hospital days
1.049-1.050 (true 1.050), R0 0.618-0.626 (0.620), RFA 2.30-2.36 (2.326), neoadjuvant only
2.71-2.83 (2.790), CRS 1.418-1.440 (1.424); RFS R0 0.667-0.672 (0.667), RFA 2.13-2.15
(2.160), CRS 1.447-1.468 (1.444): every estimate within about 2 standard errors of the truth.
The KRAS RFS effect (true 1.10) comes out ~1.07, slightly attenuated by the dependent
censoring of RFS by death.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from crlmflow.simulation.scenarios import effective_log_hr, hinge_contribution

__all__ = [
    "TRUE_LOG_HR_OS",
    "TRUE_LOG_HR_RFS",
    "LATENT",
    "default_params",
    "parse_case_mix",
    "corr_matrix",
    "split_normal",
    "draw_covariates",
    "linear_predictors",
    "draw_latent_times",
]

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
    "sex",
    "age",
    "bmi",
    "ca19_9",
    "cea",
    "neut",
    "lymph",
    "other",
    "hgb",
    "plt",
    "alt",
    "ast",
    "dbil",
    "ibil",
    "alb",
    "d_dimer",
    "node",
    "multi",
    "size",
    "asa",
    "hosp",
]

# Correlations of the latent normals (unlisted pairs are 0). "sex" is high for men.
# neut-lymph, plt-lymph, plt-neut, other-* and dbil-ibil were fitted (WBC, TBIL, NLR, PLR,
# SII quartiles); the others are plausible clinical values.
_CORR_PAIRS: dict[tuple[str, str], float] = {
    ("sex", "hgb"): 0.40,
    ("sex", "alb"): 0.10,
    ("sex", "ibil"): 0.15,
    ("sex", "alt"): 0.15,
    ("age", "hgb"): -0.12,
    ("age", "alb"): -0.20,
    ("age", "d_dimer"): 0.20,
    ("age", "asa"): 0.30,
    ("age", "bmi"): 0.05,
    ("ca19_9", "cea"): 0.40,
    ("cea", "multi"): 0.20,
    ("cea", "size"): 0.25,
    ("cea", "node"): 0.10,
    ("ca19_9", "size"): 0.15,
    ("ca19_9", "node"): 0.05,
    ("neut", "lymph"): 0.14,
    ("plt", "lymph"): 0.33,
    ("plt", "neut"): 0.45,
    ("neut", "other"): 0.50,
    ("lymph", "other"): 0.50,
    ("plt", "other"): 0.20,
    ("hgb", "plt"): -0.15,
    ("hgb", "alb"): 0.35,
    ("alb", "neut"): -0.10,
    ("alt", "ast"): 0.75,
    ("alt", "dbil"): 0.10,
    ("ast", "dbil"): 0.10,
    ("dbil", "ibil"): 0.55,
    ("alb", "d_dimer"): -0.15,
    ("plt", "d_dimer"): 0.15,
    ("d_dimer", "size"): 0.15,
    ("node", "multi"): 0.10,
    ("multi", "size"): 0.10,
    ("hosp", "neut"): 0.30,
    ("hosp", "other"): 0.15,
    ("hosp", "age"): 0.10,
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
R0_RATE = 0.766
RFA_RATE = 0.095
NEO_ONLY_RATE = 0.231
FULL_COURSE_RATE = 0.427  # of all eligible; adjuvant only = the rest (34.2 %)
_R0_INTERCEPT = 1.0766
_RFA_INTERCEPT = -2.2687
_NEO_INTERCEPT = -0.7543
_FULL_INTERCEPT = 0.1403  # P(full course | not neoadjuvant only)
R0_SLOPES = {"multi": -0.35, "size_gt5": -0.30, "node": -0.10}
RFA_SLOPES = {"not_r0": 1.50, "multi": 0.40}
NEO_SLOPE_CRS = 0.30
FULL_SLOPE_CRS = 0.10

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


def default_params() -> dict:
    """All fitted constants in one dict (a fresh copy; ``tools/calibrate_simulation.py`` refits entries).

    Keys: ``corr_pairs``, ``margins``, ``crs_node_threshold``, ``crs_multi_threshold``,
    ``size_median_cm``, ``size_log_sigma``, ``os_knots``, ``os_h0``, ``rfs_knots``,
    ``rfs_h0`` (piecewise-linear baseline cumulative hazards, months), ``copula_rho``,
    ``accrual_rate``, ``ltfu_rate`` and ``ltfu_shape``.
    """
    return dict(
        corr_pairs=dict(_CORR_PAIRS),
        margins=dict(_MARGINS),
        crs_node_threshold=_CRS_NODE_THRESHOLD,
        crs_multi_threshold=_CRS_MULTI_THRESHOLD,
        size_median_cm=_SIZE_MEDIAN_CM,
        size_log_sigma=_SIZE_LOG_SIGMA,
        os_knots=_OS_KNOTS.copy(),
        os_h0=_OS_H0.copy(),
        rfs_knots=_RFS_KNOTS.copy(),
        rfs_h0=_RFS_H0.copy(),
        copula_rho=_COPULA_RHO,
        accrual_rate=_ACCRUAL_RATE,
        ltfu_rate=_LTFU_RATE,
        ltfu_shape=_LTFU_SHAPE,
    )


def corr_matrix(pairs: dict) -> np.ndarray:
    """Correlation matrix of the :data:`LATENT` normals from ``{(a, b): r}`` (unlisted pairs 0).

    A matrix that is not positive definite is projected to the nearest one by clipping its
    eigenvalues at 1e-6 and rescaling to unit diagonal (Higham 2002, one step).
    """
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


def split_normal(z: np.ndarray, med: float, q1: float, q3: float, scale: str) -> np.ndarray:
    """Split-normal quantile transform of standard normals ``z``: median ``med`` and quartiles ``q1``/``q3``.

    On the ``"log"`` or ``"lin"`` scale, ``v = m + z * (lower or upper half-width) / z_0.75``,
    so the 25th, 50th and 75th percentiles are exactly ``q1``, ``med`` and ``q3``.
    """
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


def parse_case_mix(case_mix: dict | None) -> dict:
    """Checked case mix ``{"crs_high_shift": float, "r0_rate": float | None}`` (see the generator)."""
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
def draw_covariates(n: int, rng: np.random.Generator, p: dict, cm: dict) -> tuple[dict, dict]:
    """Draw ``n`` patients' covariates and treatment; returns ``(x, probit intercepts)``.

    ``x`` maps column names of the raw export (and ``crs_score``) to arrays; ``p`` is
    :func:`default_params`, ``cm`` :func:`parse_case_mix`.  Every patient is synchronous
    here; the generator turns some into excluded patients afterwards.
    """
    chol = np.linalg.cholesky(corr_matrix(p["corr_pairs"]))
    z = rng.standard_normal((n, len(LATENT))) @ chol.T
    Z = {name: z[:, i] for i, name in enumerate(LATENT)}
    mg = p["margins"]
    shift = cm["crs_high_shift"]
    x: dict[str, np.ndarray] = {}

    male = Z["sex"] > ndtri(_P_FEMALE)
    x["sex"] = np.where(male, "M", "F")
    x["age"] = np.clip(np.round(split_normal(Z["age"], *mg["age"])), 20, 88).astype(float)
    x["bmi"] = np.clip(np.round(split_normal(Z["bmi"], *mg["bmi"]), 2), 14.0, 45.0)
    x["ca19_9"] = np.clip(np.round(split_normal(Z["ca19_9"], *mg["ca19_9"]), 2), 0.6, 99999.0)
    # CEA is a CRS item: its latent is shifted by the case mix like the other items
    x["cea"] = np.clip(np.round(split_normal(Z["cea"] + shift, *mg["cea"]), 2), 0.2, 99999.0)
    neut = np.clip(np.round(split_normal(Z["neut"], *mg["neut"]), 2), 0.30, 60.0)
    lymph = np.clip(np.round(split_normal(Z["lymph"], *mg["lymph"]), 2), 0.10, 20.0)
    other = np.clip(np.round(split_normal(Z["other"], *mg["other"]), 2), 0.05, 10.0)
    x["neut"], x["lymph"] = neut, lymph
    x["wbc"] = np.round(neut + lymph + other, 2)  # NEUT < WBC by construction
    x["hgb"] = np.clip(np.round(split_normal(Z["hgb"], *mg["hgb"])), 60, 190).astype(float)
    x["plt"] = np.clip(np.round(split_normal(Z["plt"], *mg["plt"])), 30, 900).astype(float)
    x["alt"] = np.clip(np.round(split_normal(Z["alt"], *mg["alt"])), 3, 800).astype(float)
    x["ast"] = np.clip(np.round(split_normal(Z["ast"], *mg["ast"])), 5, 800).astype(float)
    dbil = np.clip(np.round(split_normal(Z["dbil"], *mg["dbil"]), 1), 0.5, 200.0)
    ibil = np.clip(np.round(split_normal(Z["ibil"], *mg["ibil"]), 1), 0.5, 200.0)
    x["dbil"], x["tbil"] = dbil, np.round(dbil + ibil, 1)  # DBIL < TBIL by construction
    x["alb"] = np.clip(np.round(split_normal(Z["alb"], *mg["alb"]), 1), 22.0, 58.0)
    x["d_dimer"] = np.clip(np.round(split_normal(Z["d_dimer"], *mg["d_dimer"]), 2), 0.02, 40.0)

    # ASA from a latent correlated with age
    a1, a2 = ndtri(_ASA_PROBS[0]), ndtri(_ASA_PROBS[0] + _ASA_PROBS[1])
    x["asa"] = np.where(Z["asa"] < a1, 1, np.where(Z["asa"] < a2, 2, 3)).astype(int)

    # Hospital stay (days, admission to discharge), skewed, correlated with the labs
    x["hospital_days"] = np.clip(np.round(4.0 + split_normal(Z["hosp"], *mg["hosp"])), 5, 90).astype(int)

    # CRS items
    node = (Z["node"] + shift > p["crs_node_threshold"]).astype(int)
    multi = Z["multi"] + shift > p["crs_multi_threshold"]
    extra = np.floor(rng.exponential(1.8, n)).astype(int)
    x["n_liver_metastases"] = np.where(multi, np.minimum(2 + extra, 30), 1).astype(int)
    size = np.exp(np.log(p["size_median_cm"]) + p["size_log_sigma"] * (Z["size"] + shift))
    x["largest_metastasis_cm"] = np.clip(np.round(size, 1), 0.5, 25.0)
    x["primary_node_positive"] = node
    crs_items = node + (x["n_liver_metastases"] > 1) + (x["cea"] > 200) + (x["largest_metastasis_cm"] > 5)
    x["crs_score"] = (1 + crs_items).astype(int)  # synchronous: item 2 always present

    # Treatment
    multi_i = (x["n_liver_metastases"] > 1).astype(float)
    size_i = (x["largest_metastasis_cm"] > 5).astype(float)
    lin = R0_SLOPES["multi"] * multi_i + R0_SLOPES["size_gt5"] * size_i + R0_SLOPES["node"] * node
    a_r0 = _R0_INTERCEPT if cm["r0_rate"] is None else _solve_intercept(lin, cm["r0_rate"])
    r0 = (rng.random(n) < ndtr(a_r0 + lin)).astype(int)
    lin = RFA_SLOPES["not_r0"] * (1 - r0) + RFA_SLOPES["multi"] * multi_i
    a_rfa = _RFA_INTERCEPT
    rfa = (rng.random(n) < ndtr(a_rfa + lin)).astype(int)
    lin = NEO_SLOPE_CRS * (x["crs_score"] - 2.5)
    a_neo = _NEO_INTERCEPT
    neo = rng.random(n) < ndtr(a_neo + lin)
    lin = FULL_SLOPE_CRS * (x["crs_score"] - 2.5)
    a_full = _FULL_INTERCEPT
    full = rng.random(n) < ndtr(a_full + lin)
    x["r0_resection"], x["rfa"] = r0, rfa
    x["chemotherapy"] = np.where(neo, "neoadjuvant_only", np.where(full, "full_course", "adjuvant_only"))

    x["kras"] = np.where(rng.random(n) < _P_KRAS_MUTANT, "mutant", "wild_type")
    x["primary_site"] = np.where(rng.random(n) < _P_COLON, "colon", "rectum")
    x["laparoscopic"] = (rng.random(n) < _P_LAPAROSCOPIC).astype(int)
    intercepts = dict(r0=a_r0, rfa=a_rfa, neoadjuvant_only=a_neo, full_course_given_not_neo=a_full)
    return x, intercepts


def linear_predictors(x: dict, effects: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """True Cox linear predictors ``(lp_os, lp_rfs)``: sum of :data:`TRUE_LOG_HR_OS` / ``_RFS`` times covariates.

    ``effects``: a scenario's checked effects (:func:`crlmflow.simulation.scenarios.parse_effects`);
    ``None`` is the default mechanism, computed exactly as before scenarios existed.
    """
    if effects is not None:
        return _scenario_lp(x, effects, "os"), _scenario_lp(x, effects, "rfs")
    kras = (x["kras"] == "mutant").astype(float)
    neo = (x["chemotherapy"] == "neoadjuvant_only").astype(float)
    b = TRUE_LOG_HR_OS
    lp_os = (
        b["hospital_days"] * x["hospital_days"]
        + b["r0_resection"] * x["r0_resection"]
        + b["rfa"] * x["rfa"]
        + b["chemo_neoadjuvant_only"] * neo
        + b["crs_score"] * x["crs_score"]
        + b["kras_mutant"] * kras
    )
    b = TRUE_LOG_HR_RFS
    lp_rfs = (
        b["r0_resection"] * x["r0_resection"]
        + b["rfa"] * x["rfa"]
        + b["crs_score"] * x["crs_score"]
        + b["kras_mutant"] * kras
    )
    return lp_os, lp_rfs


def _scenario_lp(x: dict, effects: dict, key: str) -> np.ndarray:
    """A scenario's linear predictor of endpoint ``key``: its linear log-HRs plus its hinge terms."""
    base = TRUE_LOG_HR_OS if key == "os" else TRUE_LOG_HR_RFS
    cols = dict(x)
    cols["kras_mutant"] = (x["kras"] == "mutant").astype(float)
    cols["chemo_neoadjuvant_only"] = (x["chemotherapy"] == "neoadjuvant_only").astype(float)
    n = len(x["age"])
    lp = np.zeros(n)
    for name, beta in effective_log_hr(base, effects, key).items():
        if name not in cols:
            raise ValueError(f"scenario log-HR for {name!r} ({key}): no such simulated column; known: {sorted(cols)}")
        lp += beta * np.asarray(cols[name], float)
    return lp + hinge_contribution(cols, effects["nonlinear"], key, n)


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


def draw_latent_times(
    x: dict, rng: np.random.Generator, p: dict, effects: dict | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Death and latent recurrence times in months, each exactly Cox PH given the covariates.

    Inverse-transform sampling (Bender, Augustin & Blettner, Stat Med 2005;24:1713): with
    U = S(T | x), T = H0^-1(-log U * exp(-lp)); the two U are linked by a Gaussian copula
    with correlation ``p["copula_rho"]``.  A recurrence time beyond the bounded RFS baseline
    is +inf (cured).  ``effects``: a scenario's checked effects (None: the default truth).
    """
    n = len(x["age"])
    lp_os, lp_rfs = linear_predictors(x, effects)
    rho = p["copula_rho"]
    z1 = rng.standard_normal(n)
    z2 = rho * z1 + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    # conditional survival probabilities U = S(T | x); -log U = H0(T) exp(lp)
    e_d = -np.log(ndtr(z1))
    e_r = -np.log(ndtr(z2))
    t_death = _invert_h0(e_d * np.exp(-lp_os), p["os_knots"], p["os_h0"])
    t_rec = _invert_h0(e_r * np.exp(-lp_rfs), p["rfs_knots"], p["rfs_h0"])
    return t_death, t_rec
