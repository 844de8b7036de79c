"""The method comparison of the simulation study: every arm on the same replicate cohorts.

Per arm and endpoint, over replicates, each with its Monte Carlo SE (Morris, White &
Crowther, Stat Med 2019;38:2074-2102, Table 6):

* selection: mean share of the true predictors kept and of the null (noise) predictors kept
  (per-replicate shares averaged; MCSE = SD / sqrt(R));
* HR bias: per replicate, the mean of (estimated - true) log-HR over the true predictors in
  the model, averaged over replicates (conditional on selection, as a reader of the model
  would see it; penalised and shrunk arms: their shrunken coefficients; spline arms: linear
  terms only, a spline has no single log-HR);
* patients analysed (``mean_n_train``) and excluded for a missing value
  (``mean_n_excluded_missing``: complete-case analysis);
* true performance on the independent truth cohort
  (:mod:`crlmflow.simulation.true_performance`): C, calibration slope, ICI at the horizon;
* the C the arm reports (the optimism-corrected C; for split-sample arms also the
  split-sample C) minus the model's true C: mean error and RMSE; and the Pearson
  correlation between estimated and true C, and between the bootstrap-corrected and the true
  calibration slope, across replicates (SE (1 - r^2) / sqrt(R - 1));
* the replicates needed for a target MCSE of the mean C error: R = SD(error)^2 / target^2
  (Morris et al. 2019, §5.3), from this run's SD.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crlmflow.simulation.performance import bias_mcse, rmse_mcse, summarise_predictors
from crlmflow.simulation.study import NULL, TRUE

__all__ = ["correlation_se", "summarise_methods", "summarise_methods_predictors", "methods_markdown"]


def correlation_se(x, y) -> tuple[float, float, int]:
    """Pearson r over the pairs where both are finite, its large-sample SE (1 - r^2) / sqrt(n - 1)
    and n (NaN when n < 3 or either is constant)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    n = int(ok.sum())
    if n < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return float("nan"), float("nan"), n
    r = float(np.corrcoef(x[ok], y[ok])[0, 1])
    return r, (1.0 - r * r) / math.sqrt(n - 1), n


def _mean_mcse(values) -> tuple[float, float]:
    return bias_mcse(values, 0.0)


def _per_replicate(g: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    """Per replicate: share of true / null predictors kept, mean log-HR error of true predictors kept."""
    roles = dict(zip(ref["term"], ref["role"]))
    truth = dict(zip(ref["term"], ref["log_hr_true"]))
    estimable = dict(zip(ref["term"], ref["estimable"].astype(bool)))
    g = g[g["term"].map(lambda t: estimable.get(t, False))]
    rows = []
    for rep, r in g.groupby("rep", sort=True):
        role = r["term"].map(roles)
        sel = r["selected"].astype(bool)
        t, n = role == TRUE, role == NULL
        err = (r.loc[t & sel, "coef"] - r.loc[t & sel, "term"].map(truth)).to_numpy(float)
        err = err[np.isfinite(err)]  # a spline's columns have no single log-HR
        rows.append(
            {
                "rep": rep,
                "true_kept": float(sel[t].mean()) if t.any() else np.nan,
                "null_kept": float(sel[n].mean()) if n.any() else np.nan,
                "log_hr_error": float(err.mean()) if err.size else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _c_error_row(prefix: str, est, true, target: float) -> dict:
    err = np.asarray(est, float) - np.asarray(true, float)
    err = err[np.isfinite(err)]
    bias, bias_se = _mean_mcse(err)
    rmse, rmse_se = rmse_mcse(err)
    r, r_se, _ = correlation_se(est, true)
    sd = float(err.std(ddof=1)) if err.size > 1 else float("nan")
    need = math.ceil(sd**2 / target**2) if np.isfinite(sd) else np.nan
    return {
        f"{prefix}_mean_error": bias,
        f"{prefix}_mean_error_mcse": bias_se,
        f"{prefix}_rmse": rmse,
        f"{prefix}_rmse_mcse": rmse_se,
        f"{prefix}_corr_true": r,
        f"{prefix}_corr_true_se": r_se,
        f"{prefix}_replicates_for_target": need,
    }


def summarise_methods(replicates: pd.DataFrame, reference: pd.DataFrame, target_mcse: float = 0.0025) -> pd.DataFrame:
    """One row per arm and endpoint (arms and endpoints in order of appearance); see the module
    docstring.  ``target_mcse``: the target Monte Carlo SE of the mean error of the C the arm
    reports, for ``*_replicates_for_target``."""
    rows = []
    for (arm, ep), g in replicates.groupby(["arm", "endpoint"], sort=False):
        ref = reference[reference["endpoint"] == ep]
        per = _per_replicate(g, ref)
        first = g.drop_duplicates("rep")
        row = {"arm": arm, "endpoint": ep, "replicates": int(first["rep"].nunique())}
        row["mean_selected"] = float(first["n_selected"].mean())
        for col in ("n_train", "n_excluded_missing"):
            row[f"mean_{col}"] = float(first[col].mean()) if col in first else np.nan
        for col in ("true_kept", "null_kept", "log_hr_error"):
            row[col], row[f"{col}_mcse"] = _mean_mcse(per[col]) if len(per) else (np.nan, np.nan)
        for col in ("c_true", "slope_true", "ici_true", "c_corrected", "slope_corrected"):
            row[f"mean_{col}"], row[f"mean_{col}_mcse"] = _mean_mcse(first[col])
        row.update(_c_error_row("c_corrected", first["c_corrected"], first["c_true"], target_mcse))
        row.update(_c_error_row("c_split", first["c_split"], first["c_true"], target_mcse))
        r, r_se, _ = correlation_se(first["slope_corrected"], first["slope_true"])
        row["slope_corrected_corr_true"], row["slope_corrected_corr_true_se"] = r, r_se
        rows.append(row)
    return pd.DataFrame(rows)


def summarise_methods_predictors(replicates: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """:func:`crlmflow.simulation.performance.summarise_predictors` for every arm (column ``arm`` first)."""
    parts = [summarise_predictors(g, reference).assign(arm=arm) for arm, g in replicates.groupby("arm", sort=False)]
    out = pd.concat(parts, ignore_index=True)
    return out[["arm", *[c for c in out.columns if c != "arm"]]]


def _pm(est: float, se: float, digits: int = 3, pct: bool = False) -> str:
    if not np.isfinite(est):
        return "NA"
    f = 100.0 if pct else 1.0
    d = 1 if pct else digits
    return f"{f * est:.{d}f}" + (f" ({f * se:.{d}f})" if np.isfinite(se) else "")


def _scenario_notes(settings: dict) -> list[str]:
    """What the table means under a non-linear truth or MAR missingness (none for the default)."""
    scen = settings.get("scenario") or {}
    notes = []
    hinges = ((scen.get("effects") or {}).get("nonlinear")) or []
    if hinges:
        what = ", ".join(f"{h['variable']} ({h['endpoint'].upper()}, hinge at {h['knot']:g})" for h in hinges)
        notes.append(
            f"Non-linear truth: {what}. True calibration slope and ICI compare each model with the true, "
            "non-linear risk: how well an arm recovers it (linear arms can only approximate a hinge; spline arms "
            "model it). The log-HR bias of a hinge variable is against its linear part only."
        )
    missing = scen.get("missing") or []
    if missing:
        what = ", ".join(f"{m['variable']} {100 * m['fraction']:.0f}%" for m in missing)
        notes.append(
            f"Missing at random in the replicate cohorts (never the truth cohort): {what}, depending on observed "
            "variables including the outcome. Complete-case arms analyse only the complete patients (the count "
            "excluded for a missing value in brackets)."
        )
    return notes


def _spline_notes(settings: dict) -> list[str]:
    """Which candidates the spline arms model as splines (only when a spline arm ran)."""
    variables = settings.get("spline_variables")
    if variables is None:
        return []
    which = (
        "every continuous candidate"
        if variables == "all"
        else "the pre-specified " + ", ".join(variables) + " (the other candidates linear)"
    )
    return [f"Spline arms: restricted cubic splines with {settings['spline_knots']} knots for {which}."]


def methods_markdown(methods: pd.DataFrame, labels: dict, settings: dict) -> str:
    """The method-comparison table as markdown (MCSE in brackets), with its notes."""
    from crlmflow.report.exhibits import to_markdown

    m = methods
    tab = pd.DataFrame(
        {
            "Endpoint": m["endpoint"].str.upper(),
            "Method": [labels.get(a, a) for a in m["arm"]],
            "Patients analysed (excluded for a missing value)": [
                "NA" if not np.isfinite(n) else f"{n:.0f}" + (f" ({x:.0f})" if np.isfinite(x) else "")
                for n, x in zip(m["mean_n_train"], m["mean_n_excluded_missing"])
            ],
            "True predictors kept, %": [_pm(a, b, pct=True) for a, b in zip(m["true_kept"], m["true_kept_mcse"])],
            "Noise predictors kept, %": [_pm(a, b, pct=True) for a, b in zip(m["null_kept"], m["null_kept_mcse"])],
            "log-HR bias (true, kept)": [_pm(a, b) for a, b in zip(m["log_hr_error"], m["log_hr_error_mcse"])],
            "True C": [_pm(a, b) for a, b in zip(m["mean_c_true"], m["mean_c_true_mcse"])],
            "True calibration slope": [_pm(a, b) for a, b in zip(m["mean_slope_true"], m["mean_slope_true_mcse"])],
            f"True ICI at {settings['horizon']:g} mo": [
                _pm(a, b) for a, b in zip(m["mean_ici_true"], m["mean_ici_true_mcse"])
            ],
            "Corrected C − true C": [
                _pm(a, b) for a, b in zip(m["c_corrected_mean_error"], m["c_corrected_mean_error_mcse"])
            ],
            "RMSE corrected C": [_pm(a, b) for a, b in zip(m["c_corrected_rmse"], m["c_corrected_rmse_mcse"])],
            "RMSE split C": [_pm(a, b) for a, b in zip(m["c_split_rmse"], m["c_split_rmse_mcse"])],
            "r(corrected C, true C)": [
                _pm(a, b, 2) for a, b in zip(m["c_corrected_corr_true"], m["c_corrected_corr_true_se"])
            ],
            "r(corrected slope, true slope)": [
                _pm(a, b, 2) for a, b in zip(m["slope_corrected_corr_true"], m["slope_corrected_corr_true_se"])
            ],
        }
    )
    need = pd.to_numeric(m["c_corrected_replicates_for_target"], errors="coerce").max()
    notes = [
        "All methods on the same simulated cohorts (same split and bootstrap resamples). True C, slope and ICI: "
        "the fitted model on an independent cohort of "
        f"{settings['truth_n']} patients; the ICI is against the simulator's true risk (for RFS the latent "
        "recurrence risk, while observed RFS is censored by death). Corrected: Harrell's bootstrap with the "
        "whole strategy repeated in each replicate (B = "
        f"{settings['bootstrap_B']}). Split C: the 30% validation part (split-sample arms only). r: Pearson "
        "correlation across replicates between the estimate and the model's true value (SE in brackets).",
        f"Replicates: {settings['replicates']}; for a Monte Carlo SE of {settings['target_mcse']} on the mean "
        f"error of the corrected C the largest SD of error here needs {need:.0f} replicates (R = SD² / MCSE², "
        "Morris, White & Crowther 2019, §5.3).",
        *_scenario_notes(settings),
        *_spline_notes(settings),
    ]
    return to_markdown(tab, "Method comparison (Monte Carlo SE in brackets)", notes)
