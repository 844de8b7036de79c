"""The paper's modelling procedure for one endpoint, and predictions from its final model.

Procedure (Xue et al. 2025, Statistical analysis): univariable Cox screening at
p < ``screen_p``, then stepwise multivariable Cox on the screened candidates
(``stepaic_both`` = MASS::stepAIC both ways from the full model, or SPSS ``forward_lr``).
The screening and the stepwise procedures (``crlmflow.survival.selection``) are the same
code that runs inside every replicate of the optimism bootstrap, there on batched fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from crlmflow.report.formats import horizon_key
from crlmflow.survival.cox import BaselineHazard, baseline_hazard, baseline_survival_at, cumhaz_at
from crlmflow.survival.cox_result import CoxResult
from crlmflow.survival.design import design_matrix, spline_knots_of, with_knots
from crlmflow.survival.diagnostics import binned_residuals, cox_zph, events_per_parameter, scaled_schoenfeld
from crlmflow.survival.prediction_ci import HazardVarianceTerms, hazard_variance_terms, prediction_variance_at
from crlmflow.survival.selection import (
    CoxProblem,
    check_method,
    not_in_model_score_tests,
    prepare,
    screen,
    select_terms,
    univariable_cox,
)

Z95 = special.ndtri(0.975)


@dataclass
class Selection:
    """Screened pool, the selection path and the selected terms of one run."""

    screened: list[str]
    pool: list[str]
    selected: list[str]
    path: pd.DataFrame
    fit: CoxResult | None


def select_model(
    problem: CoxProblem,
    univariable: pd.DataFrame,
    *,
    screen_p: float,
    exclude=(),
    method: str = "stepaic_both",
    entry_p: float = 0.05,
    removal_p: float = 0.10,
    entry_test: str = "lr",
) -> Selection:
    """Screen by univariable p, then select stepwise among the screened candidates."""
    check_method(method)
    screened = screen(univariable, screen_p)
    pool = [v for v in screened if v not in set(exclude)]
    if not pool:
        return Selection(screened, pool, [], pd.DataFrame(), None)
    res = select_terms(problem, pool, method, entry_p=entry_p, removal_p=removal_p, entry_test=entry_test)
    return Selection(screened, pool, list(res.selected), res.path, res.fit)


@dataclass
class DevelopedModel:
    """Everything the paper reports about one endpoint's model, plus its diagnostics."""

    endpoint: str
    time_col: str
    event_col: str
    candidates: list[dict]
    univariable: pd.DataFrame
    selection: Selection
    multivariable: pd.DataFrame
    ph_test: pd.DataFrame
    baseline: BaselineHazard | None
    fit: CoxResult | None
    n: int
    events: int
    knots: dict = field(default_factory=dict)  # spline knots placed on the training data
    #: binned scaled Schoenfeld residuals of the final model (``ph_residuals``)
    ph_residuals: pd.DataFrame | None = None
    #: Tsiatis's variance terms of predicted survival (``hazard_variance_terms``), when a term is selected
    variance_terms: HazardVarianceTerms | None = None

    @property
    def selected(self) -> list[str]:
        return self.selection.selected


def develop_model(
    train: pd.DataFrame,
    candidates: list[dict],
    endpoint: str,
    time_col: str,
    event_col: str,
    *,
    screen_p: float = 0.10,
    exclude=(),
    method: str = "stepaic_both",
    entry_p: float = 0.05,
    removal_p: float = 0.10,
    entry_test: str = "lr",
) -> DevelopedModel:
    """Univariable screening, stepwise selection, final fit, score tests and PH test."""
    problem = prepare(train, candidates, time_col, event_col)
    univ = univariable_cox(train, candidates, time_col, event_col, problem=problem)
    sel = select_model(
        problem,
        univ,
        screen_p=screen_p,
        exclude=exclude,
        method=method,
        entry_p=entry_p,
        removal_p=removal_p,
        entry_test=entry_test,
    )
    fit = sel.fit
    events = int(train[event_col].sum())
    multi = multivariable_table(problem, sel, candidates, univ, events, exclude)
    ph = ph_table(problem, sel)
    bh = baseline_hazard(problem.data, fit) if fit is not None else _null_baseline(problem)
    return DevelopedModel(
        endpoint,
        time_col,
        event_col,
        list(candidates),
        univ,
        sel,
        multi,
        ph,
        bh,
        fit,
        len(train),
        events,
        spline_knots_of(problem.design.candidates),
        ph_residuals(problem, sel),
        hazard_variance_terms(problem.data, fit) if fit is not None and fit.coef.size else None,
    )


def _null_baseline(problem: CoxProblem) -> BaselineHazard:
    """Nelson–Aalen cumulative hazard: the 'model' when nothing is selected."""
    d = problem.data
    fit = d.fit(cols=[])
    return baseline_hazard(d, fit)


def multivariable_table(
    problem: CoxProblem, sel: Selection, candidates, univ: pd.DataFrame, events: int, exclude=()
) -> pd.DataFrame:
    """One row per term of every candidate: selected terms carry the final-model estimates,
    the others the score-test p of adding them ("variables not in the equation")."""
    rows = []
    fit = sel.fit
    est = {}
    if fit is not None:
        for j, term in enumerate(fit.names):
            b, se = float(fit.coef[j]), float(fit.se[j])
            est[term] = dict(
                coef=b,
                se=se,
                z=b / se,
                hr=np.exp(b),
                hr_lower=np.exp(b - Z95 * se),
                hr_upper=np.exp(b + Z95 * se),
                p=2 * special.ndtr(-abs(b / se)),
            )
    not_in = not_in_model_score_tests(problem, sel.selected, candidates).set_index("variable")
    for cand in problem.design.candidates:  # knots placed: a spline's own column names
        for term in cand.term_names():
            row = {
                "term": term,
                "variable": cand.name,
                "screened": cand.name in sel.screened,
                "in_pool": cand.name in sel.pool,
                "selected": cand.name in sel.selected,
            }
            row.update(
                est.get(
                    term, dict(coef=np.nan, se=np.nan, z=np.nan, hr=np.nan, hr_lower=np.nan, hr_upper=np.nan, p=np.nan)
                )
            )
            if cand.name in not_in.index:
                row["score_p_not_in_model"] = float(not_in.loc[cand.name, "p"])
                row["score_chisq_not_in_model"] = float(not_in.loc[cand.name, "chisq"])
            else:
                row["score_p_not_in_model"] = np.nan
                row["score_chisq_not_in_model"] = np.nan
            rows.append(row)
    table = pd.DataFrame(rows)
    # Screening is part of fitting: every candidate eligible for the model spends its
    # degrees of freedom, whether or not it survives the univariable screen (Harrell, RMS
    # sec. 4.3; Riley et al. 2019), so the denominator is the eligible candidates'
    # parameters, not the screened pool's.
    n_params = candidate_parameters(problem, exclude)
    table.attrs["candidate_parameters"] = n_params
    table.attrs["events_per_candidate_parameter"] = events_per_parameter(events, n_params) if n_params else None
    return table


def candidate_parameters(problem: CoxProblem, exclude=()) -> int:
    """Number of design columns of every candidate eligible for the multivariable model."""
    return int(sum(len(cols) for name, cols in problem.design.groups.items() if name not in set(exclude)))


def ph_table(problem: CoxProblem, sel: Selection) -> pd.DataFrame:
    """Schoenfeld-residual (score) test of proportional hazards per term and globally."""
    if sel.fit is None:
        return pd.DataFrame(columns=["term", "chisq", "df", "p"])
    groups, pos = {}, 0
    for t in sel.selected:
        k = len(problem.design.groups[t])
        groups[t] = list(range(pos, pos + k))
        pos += k
    sub = problem.data
    return cox_zph(sub, sel.fit, groups=groups, transform="km").table


def ph_residuals(problem: CoxProblem, sel: Selection, bins: int = 8) -> pd.DataFrame:
    """Binned scaled Schoenfeld residuals of the final model per design column (the
    proportional-hazards figure; group-level, no row of a patient)."""
    if sel.fit is None:
        return binned_residuals(pd.DataFrame(columns=["time"]), [], [], bins)
    res = scaled_schoenfeld(problem.data, sel.fit)
    return binned_residuals(res, list(sel.fit.names), sel.fit.coef, bins)


def model_matrix(model: DevelopedModel, df: pd.DataFrame) -> np.ndarray:
    """Design columns of the selected terms for new rows (factor levels from the spec)."""
    if model.fit is None:
        return np.zeros((len(df), 0))
    fit = {"selected": model.selected, "terms": model.fit.names, "knots": model.knots}
    return model_matrix_from_fit(fit, model.candidates, df)


def model_matrix_from_fit(fit: dict, candidates: list, df: pd.DataFrame) -> np.ndarray:
    """Design columns of a stored fit summary's terms (as ``fit_summary`` writes them);
    spline terms on the fit's training knots (``fit["knots"]``)."""
    candidates = with_knots(candidates, fit.get("knots"))
    chosen = [c for c in candidates if (c if isinstance(c, str) else c["name"]) in fit["selected"]]
    des = design_matrix(df, chosen)
    return des.X[:, [des.columns.index(name) for name in fit["terms"]]]


def predict(model: DevelopedModel, df: pd.DataFrame, horizons) -> pd.DataFrame:
    """Linear predictor (centred at the training means) and survival at the horizons.

    Survival is the step function exp(−H0(t)·exp(xβ)) with the Efron-type baseline, as
    R's ``survfit.coxph`` gives for an Efron-ties fit.
    """
    X = model_matrix(model, df)
    if model.fit is None:
        lp_raw = np.zeros(len(df))
        center = 0.0
    else:
        lp_raw = X @ model.fit.coef
        center = float(model.fit.means @ model.fit.coef)
    out = pd.DataFrame({"lp": lp_raw - center}, index=df.index)
    surv = baseline_survival_at(model.baseline, horizons, lp=lp_raw)
    for j, h in enumerate(horizons):
        out[f"surv_{horizon_key(h)}"] = surv[:, j]
    return out


def baseline_at_mean(model: DevelopedModel, horizons) -> np.ndarray:
    """S0(t) for a patient at the training means (lp = 0 on the centred scale)."""
    center = float(model.fit.means @ model.fit.coef) if model.fit is not None else 0.0
    return np.exp(-cumhaz_at(model.baseline, horizons) * np.exp(center))


def fit_summary(model: DevelopedModel, horizons) -> dict:
    """Plain-JSON summary of the final model (coefficients, centring, baseline)."""
    fit = model.fit
    out = {
        "endpoint": model.endpoint,
        "time": model.time_col,
        "event": model.event_col,
        "n": model.n,
        "events": model.events,
        "screened": model.selection.screened,
        "pool": model.selection.pool,
        "selected": model.selected,
        "candidate_parameters": model.multivariable.attrs.get("candidate_parameters"),
        "events_per_candidate_parameter": model.multivariable.attrs.get("events_per_candidate_parameter"),
        "horizons": list(horizons),
    }
    if model.knots:  # only with splines: the linear default's summary is unchanged
        out["knots"] = {k: list(v) for k, v in model.knots.items()}
    if fit is not None:
        out.update(
            {
                "terms": list(fit.names),
                "coef": fit.coef.tolist(),
                "se": fit.se.tolist(),
                "var": fit.var.tolist(),
                "means": fit.means.tolist(),
                "center_lp": float(fit.means @ fit.coef),
                "loglik": fit.loglik,
                "loglik_null": fit.loglik_null,
                "aic": fit.aic,
                "converged": bool(fit.converged),
                "iterations": int(fit.iterations),
                "lr_test": {"chisq": fit.lr_test.chisq, "df": fit.lr_test.df, "p": fit.lr_test.p},
            }
        )
    out["baseline_cumhaz"] = {
        "time": model.baseline.time.tolist(),
        "cumhaz": model.baseline.cumhaz.tolist(),
        "type": "efron" if model.baseline.ctype == 2 else "breslow",
    }
    if model.variance_terms is not None:
        out["prediction_variance"] = prediction_variance_at(model.variance_terms, horizons)
    out["baseline_survival_at_means"] = dict(
        zip(map(horizon_key, horizons), baseline_at_mean(model, horizons).tolist())
    )
    return out
