"""Performance measures of the simulation study, their Monte Carlo SEs, the tables and the report.

Measures and Monte Carlo standard errors as in Morris, White & Crowther, "Using simulation
studies to evaluate statistical methods", *Stat Med* 2019;38:2074-2102, Table 6: bias,
empirical SE, coverage and RMSE, each with its MCSE.  Inputs are the replicate tables of
:func:`crlmflow.simulation.study.run_replicate` (stacked) and the truth table of
:func:`crlmflow.simulation.study.truth_reference`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crlmflow.simulation.study import TRUE

__all__ = [
    "bias_mcse",
    "proportion_mcse",
    "coverage_mcse",
    "rmse_mcse",
    "summarise_predictors",
    "summarise_models",
    "summarise_c",
    "summarise",
    "report_markdown",
]

Z95 = 1.959963984540054


# ---------------------------------------------------------------------------------------
# performance measures with Monte Carlo SEs (Morris, White & Crowther 2019, Table 6)
# ---------------------------------------------------------------------------------------


def bias_mcse(estimates, true: float) -> tuple[float, float]:
    """Bias = mean(estimate) - true; MCSE = sqrt(sum((estimate - mean)^2) / (n (n - 1)))."""
    x = np.asarray(estimates, float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return float("nan"), float("nan")
    bias = float(x.mean() - true)
    mcse = float(np.sqrt(((x - x.mean()) ** 2).sum() / (n * (n - 1)))) if n > 1 else float("nan")
    return bias, mcse


def proportion_mcse(k: int, n: int) -> tuple[float, float]:
    """Proportion k / n and its MCSE sqrt(p (1 - p) / n) (NaN, NaN when n = 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    p = k / n
    return float(p), float(math.sqrt(p * (1.0 - p) / n))


def coverage_mcse(lower, upper, true: float) -> tuple[float, float]:
    """Share of intervals [lower, upper] containing ``true``, and its MCSE."""
    lo = np.asarray(lower, float)
    hi = np.asarray(upper, float)
    ok = np.isfinite(lo) & np.isfinite(hi)
    return proportion_mcse(int(((lo[ok] <= true) & (true <= hi[ok])).sum()), int(ok.sum()))


def rmse_mcse(errors) -> tuple[float, float]:
    """Root mean squared error and its MCSE: MCSE(MSE) = sqrt(sum((e^2 - MSE)^2) / (n (n - 1)))
    (Morris et al. Table 6), carried to the RMSE by the delta method, MCSE(MSE) / (2 RMSE)."""
    e = np.asarray(errors, float)
    e = e[np.isfinite(e)]
    n = e.size
    if n == 0:
        return float("nan"), float("nan")
    mse = float((e**2).mean())
    rmse = math.sqrt(mse)
    if n < 2 or rmse == 0.0:
        return rmse, float("nan")
    mcse_mse = math.sqrt(((e**2 - mse) ** 2).sum() / (n * (n - 1)))
    return rmse, mcse_mse / (2.0 * rmse)


def _sd(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.std(ddof=1)) if x.size > 1 else float("nan")


# ---------------------------------------------------------------------------------------
# summaries over replicates
# ---------------------------------------------------------------------------------------


def _true_sets(reference: pd.DataFrame) -> dict[str, set]:
    """Estimable true candidate predictors (variables) per endpoint."""
    ref = reference[(reference["role"] == TRUE) & reference["estimable"].astype(bool)]
    return {ep: set(g["variable"]) for ep, g in ref.groupby("endpoint", sort=False)}


def _selected_sets(replicates: pd.DataFrame) -> dict[tuple, frozenset]:
    """Selected variables per (endpoint, rep)."""
    return {
        key: frozenset(g.loc[g["selected"].astype(bool), "variable"])
        for key, g in replicates.groupby(["endpoint", "rep"], sort=False)
    }


def summarise_predictors(replicates: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Per endpoint and candidate term: selection frequency; bias, SEs and CI coverage of the
    selected log-HR (conditional on selection), overall and over the replicates whose
    selected model contains every true predictor (``*_given_all_true``).  Rows follow
    ``reference`` (true predictors that are not candidates are kept, without statistics)."""
    true_sets = _true_sets(reference)
    sets = _selected_sets(replicates)
    all_true = {key: true_sets.get(key[0], set()) <= s for key, s in sets.items()}
    reps = replicates.assign(all_true=[all_true[(e, r)] for e, r in zip(replicates["endpoint"], replicates["rep"])])
    R = reps.groupby("endpoint")["rep"].nunique()
    rows = []
    for ref in reference.itertuples(index=False):
        row = {
            "endpoint": ref.endpoint,
            "term": ref.term,
            "variable": ref.variable,
            "label": ref.label,
            "role": ref.role,
            "estimable": bool(ref.estimable),
            "log_hr_true": ref.log_hr_true,
            "hr_true": ref.hr_true,
            "log_hr_large_sample": ref.log_hr_large_sample,
        }
        n_rep = int(R.get(ref.endpoint, 0))
        mine = reps[(reps["endpoint"] == ref.endpoint) & (reps["term"] == ref.term)]
        sel = mine[mine["selected"].astype(bool)]
        freq, freq_se = proportion_mcse(len(sel), n_rep) if len(mine) else (np.nan, np.nan)
        bias, bias_se = bias_mcse(sel["coef"], ref.log_hr_true)
        cov, cov_se = coverage_mcse(sel["hr_lower"], sel["hr_upper"], ref.hr_true)
        nested = sel[sel["all_true"]]
        bias_n, bias_n_se = bias_mcse(nested["coef"], ref.log_hr_true)
        cov_n, cov_n_se = coverage_mcse(nested["hr_lower"], nested["hr_upper"], ref.hr_true)
        row.update(
            replicates=n_rep,
            n_selected=len(sel),
            selection_freq=freq,
            selection_freq_mcse=freq_se,
            mean_log_hr=float(sel["coef"].mean()) if len(sel) else np.nan,
            bias=bias,
            bias_mcse=bias_se,
            bias_vs_large_sample=(bias + ref.log_hr_true - ref.log_hr_large_sample) if len(sel) else np.nan,
            empirical_se=_sd(sel["coef"]),
            model_se=float(sel["se"].mean()) if len(sel) else np.nan,
            coverage=cov,
            coverage_mcse=cov_se,
            n_selected_given_all_true=len(nested),
            bias_given_all_true=bias_n,
            bias_given_all_true_mcse=bias_n_se,
            coverage_given_all_true=cov_n,
            coverage_given_all_true_mcse=cov_n_se,
            estimand=ref.estimand,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def summarise_models(replicates: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Per endpoint: model size, true and null predictors kept, and how often the selected
    model contains every true predictor / is exactly the true model / is empty."""
    true_sets = _true_sets(reference)
    sets = _selected_sets(replicates)
    rows = []
    for ep in dict.fromkeys(replicates["endpoint"]):
        truth = true_sets.get(ep, set())
        s = [v for (e, _), v in sets.items() if e == ep]
        n = len(s)
        first = replicates[replicates["endpoint"] == ep].drop_duplicates("rep")
        row = {
            "endpoint": ep,
            "replicates": n,
            "n_true_predictors": len(truth),
            "true_predictors": ";".join(sorted(truth)),
            "mean_events_train": float(first["events_train"].mean()),
            "mean_selected": float(np.mean([len(x) for x in s])),
            "mean_true_selected": float(np.mean([len(x & truth) for x in s])),
            "mean_null_selected": float(np.mean([len(x - truth) for x in s])),
        }
        for name, hits in (
            ("all_true_selected", sum(truth <= x for x in s)),
            ("exact_true_model", sum(x == truth for x in s)),
            ("no_null_selected", sum(not (x - truth) for x in s)),
            ("empty_model", sum(not x for x in s)),
        ):
            row[f"p_{name}"], row[f"p_{name}_mcse"] = proportion_mcse(int(hits), n)
        rows.append(row)
    return pd.DataFrame(rows)


_ESTIMATORS = {
    "apparent": ("c_apparent", "training-set C of the selected model (no correction)"),
    "split_sample": ("c_split", "Harrell's C on the 30 % validation set"),
    "optimism_corrected": ("c_corrected", "Harrell's bootstrap optimism-corrected C on the training set"),
}


def summarise_c(replicates: pd.DataFrame) -> pd.DataFrame:
    """Per endpoint and C estimator (apparent, split-sample, optimism-corrected): mean
    estimate and mean true C, error = estimate - true C (mean = bias, with MCSE; SD; RMSE
    with MCSE), and for the split-sample C the coverage of its 95 % IJ CI for the true C."""
    per_rep = replicates.drop_duplicates(["endpoint", "rep"])
    rows = []
    for ep, g in per_rep.groupby("endpoint", sort=False):
        true_c = g["c_true"].to_numpy(float)
        for name, (col, what) in _ESTIMATORS.items():
            est = g[col].to_numpy(float)
            ok = np.isfinite(est) & np.isfinite(true_c)
            err = est[ok] - true_c[ok]
            bias, bias_se = bias_mcse(err, 0.0)
            rmse, rmse_se = rmse_mcse(err)
            cov, cov_se = (np.nan, np.nan)
            if name == "split_sample":
                se = g["c_split_se"].to_numpy(float)[ok]
                inside = np.abs(err) <= Z95 * se
                cov, cov_se = proportion_mcse(int(inside.sum()), int(ok.sum()))
            rows.append(
                {
                    "endpoint": ep,
                    "estimator": name,
                    "replicates": int(ok.sum()),
                    "mean_estimate": float(est[ok].mean()) if ok.any() else np.nan,
                    "mean_true_c": float(true_c[ok].mean()) if ok.any() else np.nan,
                    "mean_error": bias,
                    "mean_error_mcse": bias_se,
                    "sd_error": _sd(err),
                    "rmse": rmse,
                    "rmse_mcse": rmse_se,
                    "ci_coverage": cov,
                    "ci_coverage_mcse": cov_se,
                    "description": what,
                }
            )
    return pd.DataFrame(rows)


def summarise(replicates: pd.DataFrame, reference: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three result tables: ``predictors``, ``models`` and ``c_index``."""
    replicates = replicates.sort_values(["rep", "endpoint", "term"], kind="stable", ignore_index=True)
    return {
        "predictors": summarise_predictors(replicates, reference),
        "models": summarise_models(replicates, reference),
        "c_index": summarise_c(replicates),
    }


# ---------------------------------------------------------------------------------------
# the markdown report
# ---------------------------------------------------------------------------------------


def _pm(est: float, se: float, digits: int = 3, pct: bool = False) -> str:
    if not np.isfinite(est):
        return "NA"
    f = 100.0 if pct else 1.0
    text = f"{f * est:.{1 if pct else digits}f}"
    if np.isfinite(se):
        text += f" ({f * se:.{1 if pct else digits}f})"
    return text


def _num(v: float, fmt: str = ".3f") -> str:
    return format(v, fmt) if np.isfinite(v) else "NA"


def report_markdown(tables: dict[str, pd.DataFrame], settings: dict) -> str:
    """A readable report of the three tables (estimates with their MCSE in brackets)."""
    from crlmflow.report.exhibits import to_markdown

    s = settings
    head = [
        "# Simulation study of the paper's procedure",
        "",
        f"{s['replicates']} replicates of {s['n_eligible']} eligible patients (study seed {s['seed']}); "
        f"optimism correction with B = {s['bootstrap_B']} bootstrap replicates; true C on an independent "
        f"cohort of {s['truth_n']} patients. Monte Carlo SEs in brackets (Morris, White & Crowther 2019).",
        "",
    ]
    pred = tables["predictors"]
    p = pd.DataFrame(
        {
            "Endpoint": pred["endpoint"].str.upper(),
            "Predictor": pred["label"],
            "Role": pred["role"],
            "True HR": [_num(v) for v in pred["hr_true"]],
            "Selected, %": [_pm(a, b, pct=True) for a, b in zip(pred["selection_freq"], pred["selection_freq_mcse"])],
            "Bias log-HR | selected": [_pm(a, b) for a, b in zip(pred["bias"], pred["bias_mcse"])],
            "Coverage, % | selected": [_pm(a, b, pct=True) for a, b in zip(pred["coverage"], pred["coverage_mcse"])],
            "Bias log-HR | all true in": [
                _pm(a, b) for a, b in zip(pred["bias_given_all_true"], pred["bias_given_all_true_mcse"])
            ],
            "Coverage, % | all true in": [
                _pm(a, b, pct=True)
                for a, b in zip(pred["coverage_given_all_true"], pred["coverage_given_all_true_mcse"])
            ],
            "Estimand": pred["estimand"],
        }
    )
    notes_p = [
        "Selected: share of replicates whose final model contains the predictor. Bias and coverage are "
        "conditional on selection (NA when never selected): log-HR of the final model minus the true "
        "log-HR; coverage of its 95 % Wald CI. 'all true in': only the replicates whose selected model "
        "contains every true predictor (there the true conditional HR is the fitted model's estimand).",
    ]
    mod = tables["models"]
    m = pd.DataFrame(
        {
            "Endpoint": mod["endpoint"].str.upper(),
            "True predictors": mod["true_predictors"].str.replace(";", ", "),
            "Mean events (training)": [_num(v, ".1f") for v in mod["mean_events_train"]],
            "Mean selected": [_num(v, ".2f") for v in mod["mean_selected"]],
            "Mean true kept": [_num(v, ".2f") for v in mod["mean_true_selected"]],
            "Mean null kept": [_num(v, ".2f") for v in mod["mean_null_selected"]],
            "All true kept, %": [
                _pm(a, b, pct=True) for a, b in zip(mod["p_all_true_selected"], mod["p_all_true_selected_mcse"])
            ],
            "Exactly the true model, %": [
                _pm(a, b, pct=True) for a, b in zip(mod["p_exact_true_model"], mod["p_exact_true_model_mcse"])
            ],
            "No null kept, %": [
                _pm(a, b, pct=True) for a, b in zip(mod["p_no_null_selected"], mod["p_no_null_selected_mcse"])
            ],
        }
    )
    cix = tables["c_index"]
    c = pd.DataFrame(
        {
            "Endpoint": cix["endpoint"].str.upper(),
            "Estimator": cix["estimator"].str.replace("_", " "),
            "Mean estimate": [_num(v) for v in cix["mean_estimate"]],
            "Mean true C": [_num(v) for v in cix["mean_true_c"]],
            "Mean error": [_pm(a, b) for a, b in zip(cix["mean_error"], cix["mean_error_mcse"])],
            "SD of error": [_num(v) for v in cix["sd_error"]],
            "RMSE": [_pm(a, b) for a, b in zip(cix["rmse"], cix["rmse_mcse"])],
            "95% CI coverage, %": [_pm(a, b, pct=True) for a, b in zip(cix["ci_coverage"], cix["ci_coverage_mcse"])],
        }
    )
    notes_c = [
        "Error = estimate − true C of the same fitted model (Harrell's C of its linear predictor on the "
        "large independent cohort). CI coverage: the split-sample C's 95 % CI from the "
        "infinitesimal-jackknife SE (survival::concordance) covering the true C."
    ]
    return (
        "\n".join(head)
        + "\n"
        + to_markdown(m, "Selected models")
        + "\n"
        + to_markdown(c, "C-index: estimate minus the model's true C", notes_c)
        + "\n"
        + to_markdown(p, "Predictors: selection, bias and coverage", notes_p)
    )
