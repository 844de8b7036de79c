"""The synthetic CRLM cohort as a raw hospital export with a known ground truth.

``simulate_cohort`` writes one row per patient with exactly the columns of
:data:`crlmflow.data.columns.RAW_COLUMNS`, shaped like a hospital export (ISO dates, lab values
rounded as a laboratory reports them, rows in a seeded random order). It contains exactly
``n_eligible`` patients who pass the paper's eligibility criteria plus excluded patients,
each failing exactly one criterion of :data:`crlmflow.data.columns.EXCLUSION_REASONS`.

Covariates, treatment and outcome times come from the data-generating mechanism
(:mod:`crlmflow.simulation.mechanism`); this module adds what makes them an export:

* **Randomness.** One named stream, ``stream(seed, "simulate_cohort")``
  (:mod:`crlmflow.pipeline.streams`), in a fixed order of draws.
* **Follow-up.** Surgery dates have an exponential accrual density over the window (rate
  ``accrual_rate`` = 0.0276 per month: the yearly case load rises ~40-fold from Dec 2009
  to Dec 2020, about two thirds of the patients are operated in 2018-2020), follow-up ends at the
  cut-off, and a Weibull loss to follow-up with a decreasing hazard (rate 0.0010 per month,
  shape 0.54: ~12 % lost by 2 years, ~20 % by 5 years) censors some patients earlier. Both
  were fitted to the death and recurrence counts and Table 1's observed OS / RFS quartiles.
* **Dates.** Admission 1 + Poisson(2) days before surgery (at most hospital days - 3),
  discharge = admission + hospital days; a death or recurrence falls after discharge.
* **Excluded patients.** ``round(excluded_fraction * n_eligible)`` patients, shared among
  the reasons by :data:`EXCLUSION_MIX` (largest remainder).

The rules a cleaner must apply to it (:func:`crlmflow.data.cleaning.clean` does): eligibility
in the order of EXCLUSION_REASONS; "missing required data" patients have exactly one of
:data:`MISSABLE_COLUMNS` empty and pass every other criterion; excluded patients otherwise
look like eligible ones (their metachronous ones have ``disease_free_interval_months`` > 0);
absent dates are NaN.  How close the result is to the paper: :mod:`crlmflow.simulation.calibration`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.data.columns import DAYS_PER_MONTH, EXCLUSION_REASONS, RAW_COLUMNS
from crlmflow.data.io import write_json
from crlmflow.pipeline.streams import stream
from crlmflow.simulation.mechanism import (
    default_params,
    draw_covariates,
    draw_latent_times,
    linear_predictors,
    parse_case_mix,
)
from crlmflow.simulation.scenarios import parse_effects
from crlmflow.simulation.truth import mechanism_truth

__all__ = [
    "simulate_cohort",
    "write_ground_truth",
    "DEFAULT_SEED",
    "DEFAULT_EXCLUDED_FRACTION",
    "EXCLUSION_MIX",
    "MISSABLE_COLUMNS",
]

DEFAULT_SEED = 20250417

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
    "bmi",
    "ca19_9",
    "cea",
    "wbc",
    "neut",
    "lymph",
    "hgb",
    "plt",
    "alt",
    "ast",
    "tbil",
    "dbil",
    "alb",
    "d_dimer",
    "admission_date",
    "discharge_date",
]


def simulate_cohort(
    n_eligible: int = 389,
    seed: int = DEFAULT_SEED,
    *,
    accrual: tuple[str, str] = ("2009-12-01", "2020-12-31"),
    followup_cutoff: str = "2023-04-30",
    excluded_fraction: float = DEFAULT_EXCLUDED_FRACTION,
    case_mix: dict | None = None,
    params: dict | None = None,
    id_prefix: str = "P",
    effects: dict | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Simulate a raw hospital export and return ``(raw_export, ground_truth)``.

    Parameters
    ----------
    n_eligible : int
        Patients who pass the eligibility criteria; ``round(excluded_fraction * n_eligible)``
        more fail exactly one (shares :data:`EXCLUSION_MIX`).
    seed : int
        Study seed; the draws come from ``stream(seed, "simulate_cohort")``.
    accrual, followup_cutoff : str
        ISO dates: the window of surgery dates and the end of follow-up.
    case_mix : dict, optional
        A simulated external centre: ``crs_high_shift`` shifts the latent CRS items (and CEA)
        by that many standard deviations (positive = more CRS >= 3); ``r0_rate`` overrides
        the R0 proportion (default 0.766). The conditional outcome model is the same for
        any case mix.
    params : dict, optional
        Entries replacing those of :func:`crlmflow.simulation.mechanism.default_params`
        (used by ``tools/calibrate_simulation.py`` while fitting them).
    effects : dict, optional
        A simulation-study scenario's override of the true outcome model (``effect_scale``,
        ``extra_log_hr``, ``nonlinear``; :mod:`crlmflow.simulation.scenarios`). The covariate
        and treatment draws are unchanged; ``None`` (default) is the paper-calibrated truth.
    id_prefix : str
        First characters of the patient identifiers (``P000001``...); a simulated external
        centre uses another prefix so its identifiers never clash with the development cohort's.

    Returns
    -------
    raw_export : pandas.DataFrame
        Columns :data:`crlmflow.data.columns.RAW_COLUMNS`, rows in random order.
    ground_truth : dict
        JSON-ready description of the truth (true log-HRs, baselines, counts, settings).
    """
    n_eligible = int(n_eligible)
    if n_eligible < 1:
        raise ValueError(f"n_eligible must be >= 1, got {n_eligible}")
    if excluded_fraction < 0:
        raise ValueError(f"excluded_fraction must be >= 0, got {excluded_fraction}")
    p = default_params()
    p.update(params or {})
    cm = parse_case_mix(case_mix)
    eff = parse_effects(effects)
    start, end = np.datetime64(accrual[0], "D"), np.datetime64(accrual[1], "D")
    cutoff = np.datetime64(followup_cutoff, "D")
    if not start <= end <= cutoff:
        raise ValueError(f"need accrual start <= accrual end <= follow-up cut-off, got {start}, {end}, {cutoff}")

    n_excl = int(round(excluded_fraction * n_eligible))
    n = n_eligible + n_excl
    # The order of the draws below is part of the stream's definition: changing it changes
    # every simulated cohort.
    rng = stream(seed, "simulate_cohort")
    x, intercepts = draw_covariates(n, rng, p, cm)
    t_death, t_rec = draw_latent_times(x, rng, p, eff)
    dates = _dates(x["hospital_days"], t_death, t_rec, rng, p, start, end, cutoff)
    reasons = _exclusion_reasons(n_eligible, n_excl)
    df = _export(x, dates, reasons, rng, id_prefix)

    _, lp_rfs = linear_predictors(x, eff)
    truth = {
        "description": _DESCRIPTION,
        "seed": int(seed),
        "random_stream": "simulate_cohort",
        "n_eligible": n_eligible,
        "n_excluded": n_excl,
        "n_total": n,
        "excluded_by_reason": {r: int((reasons == r).sum()) for r in EXCLUSION_REASONS},
        "case_mix": {
            "crs_high_shift": cm["crs_high_shift"],
            "r0_rate": cm["r0_rate"],
            "input": None if case_mix is None else dict(case_mix),
        },
        "time_unit": "months (days / 30.4375)",
        **mechanism_truth(p, cm, intercepts, lp_rfs[:n_eligible], eff),
        "accrual": {
            "start": str(start),
            "end": str(end),
            "density": "proportional to exp(rate * months since start)",
            "rate_per_month": float(p["accrual_rate"]),
        },
        "followup": {
            "cutoff": str(cutoff),
            "loss_to_followup": "Weibull, S_L(t) = exp(-(rate * t) ** shape), t in months",
            "ltfu_rate_per_month": float(p["ltfu_rate"]),
            "ltfu_shape": float(p["ltfu_shape"]),
        },
        "missable_columns": list(MISSABLE_COLUMNS),
    }
    return df, truth


def write_ground_truth(truth: dict, path) -> None:
    """Write the ground truth as indented JSON."""
    write_json(truth, path)


_DESCRIPTION = (
    "Synthetic CRLM cohort (Xue et al., BMC Cancer 2025). Death time and latent "
    "recurrence time are each exactly Cox PH given the covariates, with the paper's "
    "Table 2 multivariable log-HRs (plus a small KRAS effect) and piecewise-linear "
    "baseline cumulative hazards; the RFS baseline is bounded (promotion-time cure "
    "model); the two times are linked by a Gaussian copula on their conditional "
    "survival probabilities and a recurrence is recorded only before death. Death "
    "without recurrence censors RFS. Exponential accrual, administrative censoring "
    "at the cut-off and Weibull loss to follow-up. All other covariates have no "
    "direct effect (hospital days are correlated with NEUT/WBC, R0/RFA/chemotherapy "
    "with the CRS items)."
)


def _dates(hospital_days, t_death, t_rec, rng, p, start, end, cutoff) -> dict[str, np.ndarray]:
    """ISO date strings of admission, surgery, discharge, recurrence, death, last follow-up."""
    n = len(hospital_days)
    span = int((end - start).astype(int))
    k = p["accrual_rate"] / DAYS_PER_MONTH  # per day
    u = rng.random(n)
    # inverse CDF of the truncated exponential accrual density on [0, span + 1) days
    off = np.log1p(u * np.expm1(k * (span + 1))) / k if k > 0 else u * (span + 1)
    surg = start + np.minimum(np.floor(off).astype(int), span).astype("timedelta64[D]")
    hd = hospital_days
    preop = np.minimum(1 + rng.poisson(2.0, n), hd - 3)  # days from admission to surgery
    stay = hd - preop  # surgery to discharge, >= 3
    admission = surg - preop.astype("timedelta64[D]")
    discharge = admission + hd.astype("timedelta64[D]")

    d_death = np.maximum(np.ceil(t_death * DAYS_PER_MONTH), stay)  # dies after discharge
    has_rec = t_rec < t_death
    d_rec_days = np.maximum(np.ceil(np.where(has_rec, t_rec, 0) * DAYS_PER_MONTH), stay + 1)
    d_rec = np.where(has_rec, np.minimum(d_rec_days, d_death), np.inf)
    d_admin = (cutoff - surg).astype(int).astype(float)
    ltfu_rate = p["ltfu_rate"]
    e_ltfu = rng.exponential(1.0, n)
    # Weibull by inversion: S_L(t) = exp(-(rate t)^shape)  <=>  t = E^(1/shape) / rate, E ~ Exp(1)
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

    return {
        "admission_date": np.datetime_as_string(admission, unit="D").astype(object),
        "surgery_date": np.datetime_as_string(surg, unit="D").astype(object),
        "discharge_date": np.datetime_as_string(discharge, unit="D").astype(object),
        "recurrence_date": as_date(d_rec, rec_obs),
        "death_date": as_date(d_death, dead),
        "last_followup_date": as_date(d_last, np.ones(n, bool)),
    }


def _exclusion_reasons(n_eligible: int, n_excl: int) -> np.ndarray:
    """'' for the first ``n_eligible`` rows, then each excluded row's reason (largest remainder)."""
    reasons = np.array([""] * (n_eligible + n_excl), dtype=object)
    if n_excl:
        shares = np.array([EXCLUSION_MIX[r] for r in EXCLUSION_REASONS])
        counts = np.floor(shares / shares.sum() * n_excl).astype(int)
        for i in np.argsort(-(shares / shares.sum() * n_excl - counts))[: n_excl - counts.sum()]:
            counts[i] += 1
        reasons[n_eligible:] = np.repeat(np.array(EXCLUSION_REASONS, dtype=object), counts)
    return reasons


def _export(x: dict, dates: dict, reasons: np.ndarray, rng: np.random.Generator, id_prefix: str = "P") -> pd.DataFrame:
    """The raw export: eligibility columns set from ``reasons``, one gap per "missing required
    data" row, rows shuffled and numbered, columns in RAW_COLUMNS order."""
    n = len(reasons)
    timing = np.where(reasons == "metachronous liver metastases", "metachronous", "synchronous")
    dfi = np.where(timing == "metachronous", np.round(np.clip(rng.lognormal(np.log(15.0), 0.7, n), 3.0, 120.0), 1), 0.0)
    derived = {
        "chemotherapy": np.where(reasons == "no systemic chemotherapy", "none", x["chemotherapy"]),
        "metastasis_timing": timing,
        "disease_free_interval_months": dfi,
        "extrahepatic_metastases": (reasons == "extrahepatic metastases").astype(int),
        "ned_achieved": (reasons != "NED not achieved").astype(int),
    }
    cols = [c for c in RAW_COLUMNS if c != "patient_id"]
    df = pd.DataFrame({c: derived[c] if c in derived else dates[c] if c in dates else x[c] for c in cols})
    miss_rows = np.flatnonzero(reasons == "missing required data")
    miss_cols = rng.choice(len(MISSABLE_COLUMNS), size=len(miss_rows))
    for r, c in zip(miss_rows, miss_cols):  # at most a few dozen rows
        df.iat[r, df.columns.get_loc(MISSABLE_COLUMNS[c])] = np.nan

    df = df.iloc[rng.permutation(n)].reset_index(drop=True)
    width = max(6, len(str(n)))
    df.insert(0, "patient_id", [f"{id_prefix}{i:0{width}d}" for i in range(1, n + 1)])
    return df
