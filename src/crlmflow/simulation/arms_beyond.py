"""Simulation-study arms beyond the paper: penalised Cox, the uniformly shrunk stepwise model
and restricted cubic splines, each through the package's own implementation.

Registered here (in :data:`crlmflow.simulation.arms.ARMS`, after the paper's arms):

``lasso``, ``ridge``     penalised Cox on every candidate of the multivariable pool, all
                         patients, the penalty by cross-validated partial likelihood
                         (:func:`crlmflow.model.alternatives.fit_penalised_model`; folds, grid
                         and rule from ``alternative_models``: ``cv_folds``, ``n_alphas``,
                         ``penalty_rule``); the folds from the named stream
                         ``penalty_cv_folds`` on the replicate's bootstrap seed, so LASSO and
                         ridge share them.  Validated by Harrell's bootstrap with the whole
                         strategy, penalty cross-validation included, repeated in each of
                         ``simulation_study.penalised_bootstrap_B`` resamples (the same
                         resamples as the other arms' first ones; 0 = no optimism correction:
                         each refit costs a full cross-validation).  A "kept" predictor is one
                         with a non-zero coefficient (all of them for ridge); the log-HR bias
                         is that of the penalised coefficients.
``shrunk_stepwise``      the paper's screening + stepwise model on all patients, every
                         coefficient times the selection-aware bootstrap calibration slope
                         (:func:`crlmflow.model.alternatives.shrink_coefficients`; van
                         Houwelingen & le Cessie, Stat Med 1990; Steyerberg, *Clinical Prediction
                         Models* §13.2), the heuristic (LR - p)/LR when ``bootstrap_B`` is 0
                         (:func:`crlmflow.validation.alternatives.stepwise_shrinkage`).  Its
                         bootstrap is ``paper_all_data``'s (same resamples); C is unchanged by a
                         uniform shrinkage, so its corrected C is the stepwise one, and its
                         corrected slope is not reported (the slope was used to shrink).
``full_splines``         the pre-specified full model with every continuous candidate (numeric,
                         without an ``allowed`` list of scores) as a restricted cubic spline with
                         ``simulation_study.spline_knots`` knots at Harrell's default quantiles
                         (:class:`crlmflow.pipeline.options.SplineOptions`,
                         :mod:`crlmflow.survival.splines`), bootstrap as ``full``.
``paper_splines``        the paper's screening + stepwise selection on all patients with the same
                         spline candidates (each spline one multi-df term), bootstrap as
                         ``paper_all_data``.
``paper_mi``             the ``paper_all_data`` procedure (screening + the configured stepwise
                         selection, all patients) by multiple imputation: the cohort cleaned with
                         ``missing_predictors: multiple_imputation`` (incomplete patients kept),
                         ``simulation_study.mi_m`` imputations by chained equations with the
                         outcome, selection in each, the majority rule, Rubin's rules
                         (:func:`crlmflow.model.imputed.fit_with_multiple_imputation`); imputation i
                         of endpoint k draws from ``stream(seed, "multiple_imputation", k, i)`` on
                         the replicate's bootstrap seed (independent of batching).  Compared with
                         ``paper_all_data`` (complete case, all patients, same selection) under the
                         ``mar`` scenario.  Apparent C is the pooled model's C averaged over the
                         imputed datasets; with ``simulation_study.mi_bootstrap_B`` > 0 the
                         optimism comes from Harrell's bootstrap repeated within each imputed
                         dataset and averaged (impute then bootstrap, Wahl et al. 2016; m times
                         the resamples' cost); 0 (default) = no optimism correction.  "Screened"
                         means selected in at least one imputation.

A spline has no single log-HR: the spline arms report no coefficient for a spline's columns
(its selection is reported; HR bias is over linear terms only); how well they recover a
non-linear truth shows in the true calibration slope and ICI on the truth cohort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crlmflow.model.alternatives import LinearCoxModel, fit_full_model, fit_penalised_model, shrink_coefficients
from crlmflow.model.imputed import fit_with_multiple_imputation
from crlmflow.model.penalised import fold_ids
from crlmflow.pipeline.options import SplineOptions
from crlmflow.pipeline.streams import stream
from crlmflow.simulation.arms import (
    Arm,
    ArmFit,
    develop_full,
    develop_selection,
    register_arm,
    validate_full,
    validate_selection,
)
from crlmflow.survival.cox import baseline_survival_at
from crlmflow.survival.design import normalise_candidates
from crlmflow.validation.alternatives import stepwise_shrinkage
from crlmflow.validation.calibration import calibration_slope
from crlmflow.validation.concordance import concordance_index
from crlmflow.validation.optimism import bootstrap_indices

__all__ = [
    "linear_arm_fit",
    "penalised_optimism",
    "spline_candidates",
    "imputed_arm_fit",
    "SPLINE_KNOTS",
    "PENALISED_ARMS",
    "MI_M",
]

#: Default imputations of the ``paper_mi`` arm (``simulation_study.mi_m``): a pilot-level choice
#: for cost; von Hippel's rule would ask for more when many patients are incomplete.
MI_M = 5
#: Default knots of the spline arms (``simulation_study.spline_knots``; Harrell's usual choice).
SPLINE_KNOTS = 4
#: Penalised arms and their L1 ratio.
PENALISED_ARMS = {"lasso": 1.0, "ridge": 0.0}
_TERM_COLUMNS = ("coef", "se", "hr", "hr_lower", "hr_upper", "p")


# ---------------------------------------------------------------------------------------
# a fixed-coefficient model (penalised, shrunk) as an arm's fit
# ---------------------------------------------------------------------------------------


def linear_arm_fit(model: LinearCoxModel, candidates, exclude=()) -> ArmFit:
    """:class:`~crlmflow.simulation.arms.ArmFit` of a fixed-coefficient Cox model: a candidate is
    selected when any of its columns has a non-zero coefficient; coef/hr of its columns, no SE
    (a penalised or shrunk estimate has no Wald interval)."""
    beta = dict(zip(model.columns, model.coef))
    excluded = set(exclude)
    rows = []
    for cand in normalise_candidates(candidates):
        names = cand.term_names()
        sel = any(beta.get(t, 0.0) != 0.0 for t in names)
        for t in names:
            b = float(beta[t]) if sel and t in beta else np.nan
            rows.append(
                dict(term=t, variable=cand.name, screened=cand.name not in excluded, selected=sel, coef=b, se=np.nan)
            )
    terms = pd.DataFrame(rows, columns=["term", "variable", "screened", "selected", "coef", "se"])
    terms = terms.assign(hr=np.exp(terms["coef"]), hr_lower=np.nan, hr_upper=np.nan, p=np.nan)
    selected = list(dict.fromkeys(terms.loc[terms["selected"], "variable"]))

    def lp(df: pd.DataFrame) -> np.ndarray:
        return model.design(df) @ model.coef if model.columns else np.zeros(len(df))

    def risk(df: pd.DataFrame, t: float) -> np.ndarray:
        return 1.0 - baseline_survival_at(model.baseline, [float(t)], lp=lp(df))[:, 0]

    return ArmFit(selected, terms, lp, risk)


# ---------------------------------------------------------------------------------------
# LASSO and ridge
# ---------------------------------------------------------------------------------------


def _penalty_options(config: dict) -> dict:
    alt = config.get("alternative_models") or {}
    return {
        "folds": int(alt.get("cv_folds", 10)),
        "n_alphas": int(alt.get("n_alphas", 100)),
        "rule": str(alt.get("penalty_rule", "min")),
    }


def _fit_penalised(data, config, spec, kw, l1_ratio: float, seed: int, endpoint_index: int) -> LinearCoxModel:
    opts = _penalty_options(config)
    foldid = fold_ids(len(data), opts["folds"], stream(seed, "penalty_cv_folds", endpoint_index))
    return fit_penalised_model(
        data,
        config["candidates"],
        spec["time"],
        spec["event"],
        l1_ratio=l1_ratio,
        foldid=foldid,
        exclude=kw.get("exclude") or (),
        n_alphas=opts["n_alphas"],
        rule=opts["rule"],
    )


def penalised_optimism(data, fit_model, time_col: str, event_col: str, B: int, seed: int, endpoint_index: int) -> dict:
    """Harrell's bootstrap optimism of C and of the calibration slope for a strategy
    ``fit_model(df) -> LinearCoxModel`` refitted (penalty cross-validation included) in each
    resample (Harrell, Lee & Mark, Stat Med 1996): optimism = mean over b of
    (performance on resample b - performance on the original data) of the model fitted on b;
    corrected = apparent - optimism.  Resamples: :func:`crlmflow.validation.optimism.bootstrap_indices`,
    the same as the other arms'.  A resample whose model is empty adds C optimism only; one
    the penalised fit cannot use (a column constant in it) is skipped (``n_bootstrap`` counts
    the resamples used)."""
    t, e = data[time_col].to_numpy(float), data[event_col].to_numpy(float)

    def perf(model, df, tt, ee):
        lp = model.design(df) @ model.coef if model.columns else np.zeros(len(df))
        c = concordance_index(tt, ee, lp).c_index
        slope = calibration_slope(tt, ee, lp).slope if np.ptp(lp) > 0 else np.nan
        return c, slope

    c_app, slope_app = perf(fit_model(data), data, t, e)
    out = {"c_apparent": float(c_app), "n_bootstrap": 0}
    if B <= 0:
        return out
    c_opt, s_opt = [], []
    for b in range(B):
        boot = data.iloc[bootstrap_indices(len(data), seed, endpoint_index, b)].reset_index(drop=True)
        try:
            model = fit_model(boot)
        except ValueError:  # a column constant in the resample cannot be standardised: skipped, counted
            continue
        c_b, s_b = perf(model, boot, boot[time_col].to_numpy(float), boot[event_col].to_numpy(float))
        c_o, s_o = perf(model, data, t, e)
        c_opt.append(c_b - c_o)
        s_opt.append(s_b - s_o)
    if not c_opt:
        return out
    c_optimism = float(np.mean(c_opt))
    s = np.asarray(s_opt, float)
    slope_corr = float(slope_app - s[np.isfinite(s)].mean()) if np.isfinite(s).any() else np.nan
    return {
        **out,
        "c_optimism": c_optimism,
        "c_corrected": float(c_app - c_optimism),
        "slope_corrected": slope_corr,
        "n_bootstrap": len(c_opt),
    }


def _penalised_arm(name: str, label: str, l1_ratio: float) -> Arm:
    def develop(data, config, spec, kw, *, seed, endpoint_index):
        model = _fit_penalised(data, config, spec, kw, l1_ratio, seed, endpoint_index)
        return linear_arm_fit(model, config["candidates"], kw.get("exclude") or ())

    def validate(data, config, spec, kw, fit, B, seed, endpoint_index):
        Bp = min(int(B), int(config["simulation_study"].get("penalised_bootstrap_B", 0)))

        def refit(df):
            return _fit_penalised(df, config, spec, kw, l1_ratio, seed, endpoint_index)

        return penalised_optimism(data, refit, spec["time"], spec["event"], Bp, seed, endpoint_index)

    what = "L1 (LASSO)" if l1_ratio == 1.0 else "L2 (ridge)"
    return Arm(
        name,
        label,
        f"{what}-penalised Cox on every candidate of the pool, penalty by cross-validated partial likelihood; "
        "all patients; bootstrap with the cross-validation repeated (penalised_bootstrap_B resamples)",
        split_sample=False,
        develop=develop,
        validate=validate,
        seeded=True,
    )


# ---------------------------------------------------------------------------------------
# uniform shrinkage of the stepwise model
# ---------------------------------------------------------------------------------------


def _shrink(data, config, spec, kw, fit: ArmFit, validation: dict):
    """The stepwise ``fit`` times the bootstrap calibration slope (heuristic without bootstrap)."""
    t = fit.terms[fit.terms["selected"].astype(bool)]
    if t.empty:
        return fit, validation
    s = validation.get("slope_corrected", np.nan)
    opt = pd.DataFrame({"measure": ["slope"], "corrected": [s], "n_replicates": [validation.get("n_bootstrap", 0)]})
    if not np.isfinite(s):
        opt = None
    exclude = kw.get("exclude") or ()
    lr = fit_full_model(data, config["candidates"], spec["time"], spec["event"], exclude=exclude).details["lr_chisq"]
    pool = [c for c in normalise_candidates(config["candidates"]) if c.name not in set(exclude)]
    s, _ = stepwise_shrinkage(opt, lr_chisq=lr, parameters=sum(len(c.term_names()) for c in pool))
    model = shrink_coefficients(
        data, config["candidates"], spec["time"], spec["event"], terms=t["term"], coef=t["coef"], shrinkage=s
    )
    shrunk = linear_arm_fit(model, config["candidates"], exclude)
    # the stepwise model's screening flags (shrinkage changes no selection)
    shrunk.terms["screened"] = fit.terms["screened"].to_numpy()
    return shrunk, {**validation, "slope_corrected": np.nan}


# ---------------------------------------------------------------------------------------
# restricted cubic splines
# ---------------------------------------------------------------------------------------


def spline_candidates(config: dict) -> list[dict]:
    """The config's candidates with ``simulation_study.spline_variables`` (``all``: every
    continuous one, numeric without ``allowed`` scores; or a pre-specified list) as restricted
    cubic splines with ``simulation_study.spline_knots`` knots (``SplineOptions``; one with too
    few distinct values stays linear)."""
    study = config["simulation_study"]
    k = int(study.get("spline_knots", SPLINE_KNOTS))
    variables = study.get("spline_variables", "all")
    return SplineOptions(knots=k, variables=variables if isinstance(variables, str) else tuple(variables)).apply(
        config["candidates"]
    )


def _splined(config: dict) -> dict:
    return {**config, "candidates": spline_candidates(config)}


def _no_spline_coefficients(fit: ArmFit) -> ArmFit:
    """No single log-HR for a spline: its columns' estimates are blanked (selection kept).  A
    spline is a variable with non-linear columns (rcs names x', x'', ...); one kept linear on
    the data (too few distinct values) keeps its coefficient."""
    t = fit.terms.copy()
    splines = set(t.loc[t["term"].str.endswith("'"), "variable"])
    t.loc[t["variable"].isin(splines), list(_TERM_COLUMNS)] = np.nan
    return ArmFit(fit.selected, t, fit.linear_predictor, fit.risk)


def _spline_arm(name: str, label: str, description: str, develop, validate) -> Arm:
    return Arm(
        name,
        label,
        description,
        split_sample=False,
        develop=lambda data, config, spec, kw: _no_spline_coefficients(develop(data, _splined(config), spec, kw)),
        validate=lambda data, config, spec, kw, fit, B, seed, k: validate(
            data, _splined(config), spec, kw, fit, B, seed, k
        ),
    )


# ---------------------------------------------------------------------------------------
# multiple imputation
# ---------------------------------------------------------------------------------------


@dataclass
class _ImputedArmFit(ArmFit):
    """An arm's fit with the pooled model's validation (apparent C averaged over the imputed
    datasets; with ``simulation_study.mi_bootstrap_B`` also the optimism-corrected C and slope)."""

    validation: dict | None = None


def imputed_arm_fit(data, config, spec, kw, *, seed: int, endpoint_index: int) -> ArmFit:
    """The paper's selection on incomplete ``data`` by multiple imputation
    (:func:`crlmflow.model.imputed.fit_with_multiple_imputation`: chained equations with the
    outcome, selection per imputed dataset, majority rule, Rubin's rules) with
    ``simulation_study.mi_m`` imputations, as an :class:`~crlmflow.simulation.arms.ArmFit`
    (pooled coefficients; predictions from the pooled model, for complete rows such as the
    truth cohort).  With ``simulation_study.mi_bootstrap_B`` > 0 (at most ``bootstrap_B``) the
    optimism is Harrell's bootstrap with the whole selection repeated within each imputed
    dataset, averaged over the imputations ("impute then bootstrap", Wahl et al. 2016, the
    package's ``impute_then_bootstrap`` order)."""
    study = config["simulation_study"]
    m = int(study.get("mi_m", MI_M))
    B = min(int(study.get("mi_bootstrap_B", 0)), int(study["bootstrap_B"]))
    res = fit_with_multiple_imputation(
        data,
        config["candidates"],
        spec["time"],
        spec["event"],
        seed=seed,
        endpoint_index=endpoint_index,
        m=m,
        bootstrap_B=B,
        bootstrap_order="impute_then_bootstrap",
        **kw,
    )
    perf = res.performance.set_index("measure")
    validation = {"c_apparent": float(perf.loc["c_index", "apparent"]), "n_bootstrap": B}
    if B > 0:
        validation.update(
            c_optimism=float(perf.loc["c_index", "optimism"]),
            c_corrected=float(perf.loc["c_index", "corrected"]),
            slope_corrected=float(perf.loc["slope", "corrected"]),
        )
    return _ImputedArmFit(list(res.terms), res.terms_table(), res.linear_predictor, res.risk, validation=validation)


def _validate_imputed(data, config, spec, kw, fit, B, seed, endpoint_index) -> dict:
    """What the development computed (the bootstrap runs inside each imputed dataset there)."""
    return dict(fit.validation)


for _name, _l1 in PENALISED_ARMS.items():
    register_arm(_penalised_arm(_name, f"{'LASSO' if _l1 else 'Ridge'} Cox, all patients", _l1))
register_arm(
    Arm(
        "shrunk_stepwise",
        "Paper's selection shrunk by the bootstrap slope, all patients",
        "the paper's screening and stepwise selection on all patients, coefficients times the selection-aware "
        "bootstrap calibration slope (van Houwelingen & le Cessie 1990)",
        split_sample=False,
        develop=develop_selection,
        validate=validate_selection,
        finalise=_shrink,
    )
)
register_arm(
    _spline_arm(
        "full_splines",
        "Full model with splines, all patients + bootstrap",
        "every candidate of the pool, continuous ones as restricted cubic splines; no selection; all patients; "
        "bootstrap",
        develop_full,
        validate_full,
    )
)
register_arm(
    _spline_arm(
        "paper_splines",
        "Paper's selection with splines, all patients + bootstrap",
        "the paper's screening and stepwise selection with continuous candidates as restricted cubic splines; "
        "all patients; bootstrap",
        develop_selection,
        validate_selection,
    )
)
register_arm(
    Arm(
        "paper_mi",
        "Paper's selection by multiple imputation, all patients",
        "the paper's screening and stepwise selection on all patients, incomplete ones kept: mi_m imputations by "
        "chained equations, selection in each, majority rule, Rubin's rules; optimism within each imputed dataset "
        "with mi_bootstrap_B resamples (none by default)",
        split_sample=False,
        develop=imputed_arm_fit,
        validate=_validate_imputed,
        seeded=True,
        missing_data="multiple_imputation",
    )
)
