"""Method arms of the simulation study: a registry of modelling strategies judged on the same
replicate cohorts.

An arm is one way to develop and internally validate a prognostic Cox model.  Each entry of
:data:`ARMS` names the data it develops on (the paper's 7:3 training part, or all patients)
and two functions:

* ``develop(data, config, spec, kw) -> ArmFit``: the model (selected variables, the table of
  term estimates, the linear predictor and predicted risk for new rows);
* ``validate(data, config, spec, kw, fit, B, seed, endpoint_index) -> dict``: Harrell's
  bootstrap optimism correction of C and of the calibration slope with the *whole* strategy
  repeated in each replicate (Harrell, Lee & Mark, Stat Med 1996; Steyerberg, *Clinical
  Prediction Models*, 2nd ed., ch. 17): keys c_apparent, c_optimism, c_corrected,
  slope_corrected, n_bootstrap.

Optional parts of an arm: ``seeded`` (``develop`` also receives ``seed=`` and
``endpoint_index=``, e.g. for the folds of a cross-validated penalty), ``finalise(data, config,
spec, kw, fit, validation) -> (ArmFit, validation)`` (a model that needs its own bootstrap
result, e.g. uniform shrinkage by the bootstrap calibration slope) and ``missing_data``: the
``data.missing_predictors`` policy the arm's cohort is cleaned with (``complete_case`` for
every arm here; an arm for multiple imputation registers with its own policy and receives
the cohort with the incomplete patients kept — the hook of :func:`crlmflow.simulation.study.run_replicate`).

Adding a method is one :func:`register_arm` call with its two functions
(:mod:`crlmflow.simulation.arms_beyond` registers LASSO, ridge, the shrunk stepwise model and
spline arms); the simulation study runs every arm named
in ``simulation_study.arms`` on the same cohorts, with the same bootstrap resamples (the
replicate's ``bootstrap`` seed), so differences between arms are not Monte Carlo noise of
different data (common random numbers; Morris, White & Crowther, Stat Med 2019, §5.2).

Registered here:

``paper``            univariable screening + the configured stepwise selection (``selection``)
                     on the training part of the paper's random split; split-sample C on the
                     validation part, optimism correction on the training part.
``paper_all_data``   the same procedure developed on all patients, validated by the
                     selection-aware bootstrap only (the analysis recommended over a split
                     sample: Steyerberg et al., J Clin Epidemiol 2001; Riley et al., BMJ 2020).
``stepaic``          the configured screening, then ``MASS::stepAIC(direction = "both")`` from
                     the screened model, all patients, selection-aware bootstrap (without
                     screening, stepAIC from all 26 candidates costs ~10x more per replicate).
``full``             the pre-specified full model (every candidate of the multivariable pool,
                     no selection), all patients, bootstrap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crlmflow.model.modelling import DevelopedModel, Selection, develop_model, model_matrix, multivariable_table
from crlmflow.survival.cox import baseline_hazard, baseline_survival_at
from crlmflow.survival.design import spline_knots_of
from crlmflow.survival.selection import prepare, univariable_cox
from crlmflow.validation.optimism import ReplicateEngine, apparent_performance, summarise_optimism
from crlmflow.validation.replicate_models import ReplicateModels

__all__ = [
    "ArmFit",
    "Arm",
    "ARMS",
    "register_arm",
    "arms_named",
    "selection_arm",
    "full_model_arm",
    "develop_selection",
    "validate_selection",
    "develop_full",
    "validate_full",
]


@dataclass
class ArmFit:
    """A developed model as the simulation study needs it.

    ``selected``: variables in the model (selection order); ``terms``: one row per candidate
    term with columns term, variable, screened, selected (bool), coef, se, hr, hr_lower,
    hr_upper, p (NaN for terms not in the model); ``linear_predictor(df)`` and
    ``risk(df, t)`` = 1 - S(t | x) for new rows.
    """

    selected: list[str]
    terms: pd.DataFrame
    linear_predictor: Callable[[pd.DataFrame], np.ndarray]
    risk: Callable[[pd.DataFrame, float], np.ndarray]


@dataclass(frozen=True)
class Arm:
    """One modelling strategy: see the module docstring."""

    name: str
    label: str
    description: str
    split_sample: bool
    develop: Callable
    validate: Callable
    seeded: bool = False
    finalise: Callable | None = None
    missing_data: str = "complete_case"


#: The registry, in the order the tables list the arms.
ARMS: dict[str, Arm] = {}


def register_arm(arm: Arm) -> Arm:
    """Add ``arm`` to :data:`ARMS` (a name may be registered once)."""
    if arm.name in ARMS:
        raise ValueError(f"simulation-study arm {arm.name!r} is already registered")
    ARMS[arm.name] = arm
    return arm


def arms_named(names) -> list[Arm]:
    """The registered arms called ``names`` (in that order); unknown names are an error listing the known ones."""
    unknown = [n for n in names if n not in ARMS]
    if unknown:
        raise ValueError(f"unknown simulation-study arm(s) {unknown}; registered: {', '.join(ARMS)}")
    return [ARMS[n] for n in names]


# ---------------------------------------------------------------------------------------
# models developed through the workflow's own functions
# ---------------------------------------------------------------------------------------


def _from_developed(model: DevelopedModel) -> ArmFit:
    def lp(df: pd.DataFrame) -> np.ndarray:
        if model.fit is None:
            return np.zeros(len(df))
        return model_matrix(model, df) @ model.fit.coef

    def risk(df: pd.DataFrame, t: float) -> np.ndarray:
        return 1.0 - baseline_survival_at(model.baseline, [float(t)], lp=lp(df))[:, 0]

    m = model.multivariable
    terms = pd.DataFrame(
        {
            "term": m["term"],
            "variable": m["variable"],
            "screened": m["screened"].astype(bool),
            "selected": m["selected"].astype(bool),
            **{c: m[c] for c in ("coef", "se", "hr", "hr_lower", "hr_upper", "p")},
        }
    )
    return ArmFit(list(model.selected), terms, lp, risk)


def develop_selection(data, config, spec, kw, overrides=None) -> ArmFit:
    """The screening + stepwise model (``develop_model``), selection options replaced by ``overrides``."""
    kw = {**kw, **(overrides or {})}
    return _from_developed(develop_model(data, config["candidates"], "ep", spec["time"], spec["event"], **kw))


def _engine_optimism(engine: ReplicateEngine, data, config, spec, kw, fit: ArmFit, B: int) -> dict:
    apparent = apparent_performance(
        data, config["candidates"], spec["time"], spec["event"], [], terms=fit.selected, **kw
    )
    if B <= 0:
        return {"c_apparent": float(apparent["c_index"]), "n_bootstrap": 0}
    reps = pd.DataFrame([engine.run(b) for b in range(B)])
    opt = summarise_optimism(apparent, reps)
    return {
        "c_apparent": float(apparent["c_index"]),
        "c_optimism": float(opt.loc["c_index", "optimism"]),
        "c_corrected": float(opt.loc["c_index", "corrected"]),
        "slope_corrected": float(opt.loc["slope", "corrected"]),
        "n_bootstrap": int(opt.loc["c_index", "n_replicates"]),
    }


def _validate_with(engine_cls, data, config, spec, kw, fit, B, seed, endpoint_index) -> dict:
    """Harrell's optimism of an arm whose replicates ``engine_cls`` develops."""
    engine = engine_cls(
        data,
        list(config["candidates"]),
        spec["time"],
        spec["event"],
        [],
        seed=seed,
        endpoint_index=endpoint_index,
        **kw,
    )
    return _engine_optimism(engine, data, config, spec, kw, fit, B)


def validate_selection(data, config, spec, kw, fit, B, seed, endpoint_index, overrides=None) -> dict:
    """Harrell's optimism of the screening + stepwise procedure (``ReplicateEngine``), the
    config's selection options replaced by ``overrides``."""
    overrides = overrides or {}
    return _validate_with(ReplicateEngine, data, config, spec, {**kw, **overrides}, fit, B, seed, endpoint_index)


def selection_arm(name: str, label: str, description: str, *, split_sample: bool, **overrides) -> Arm:
    """An arm running the workflow's screening + stepwise procedure (``develop_model``; its
    bootstrap ``ReplicateEngine``) with the config's selection options replaced by ``overrides``
    (``screen_p``, ``method``, ``entry_p``, ``removal_p``, ``entry_test``)."""
    return Arm(
        name,
        label,
        description,
        split_sample,
        develop=lambda data, config, spec, kw: develop_selection(data, config, spec, kw, overrides),
        validate=lambda data, config, spec, kw, fit, B, seed, k: validate_selection(
            data, config, spec, kw, fit, B, seed, k, overrides
        ),
    )


# ---------------------------------------------------------------------------------------
# the pre-specified full model
# ---------------------------------------------------------------------------------------


def _pool(config: dict, kw: dict) -> list[str]:
    excluded = set(kw.get("exclude") or ())
    return [c["name"] for c in config["candidates"] if c["name"] not in excluded]


def develop_full(data, config, spec, kw) -> ArmFit:
    cands = config["candidates"]
    problem = prepare(data, cands, spec["time"], spec["event"])
    univ = univariable_cox(data, cands, spec["time"], spec["event"], problem=problem)
    pool = _pool(config, kw)
    fit = problem.fit(pool, on_separation="ignore")  # R coxph: warn, keep the last iterate
    sel = Selection(list(pool), list(pool), list(pool), pd.DataFrame(), fit)
    events = int(data[spec["event"]].sum())
    multi = multivariable_table(problem, sel, cands, univ, events, kw.get("exclude") or ())
    model = DevelopedModel(
        "ep", spec["time"], spec["event"], list(cands), univ, sel, multi, pd.DataFrame(),
        baseline_hazard(problem.data, fit), fit, len(data), events, spline_knots_of(problem.design.candidates),
    )  # fmt: skip
    return _from_developed(model)


class FullModelEngine(ReplicateEngine):
    """The optimism bootstrap's engine with the strategy "fit every candidate of the pool"
    (no screening, no selection) in each replicate."""

    def select(self, w: np.ndarray):
        rm = ReplicateModels(self, w)
        pool = [v for v in self.cand_names if v not in set(self.exclude)]
        return pool, pool, rm


def validate_full(data, config, spec, kw, fit, B, seed, endpoint_index) -> dict:
    return _validate_with(FullModelEngine, data, config, spec, kw, fit, B, seed, endpoint_index)


def full_model_arm(name: str, label: str, description: str, *, split_sample: bool) -> Arm:
    """The pre-specified full model (every candidate of the multivariable pool)."""
    return Arm(name, label, description, split_sample, develop=develop_full, validate=validate_full)


register_arm(
    selection_arm(
        "paper",
        "Paper: screening + stepwise, split sample",
        "univariable screening and the configured stepwise selection on the 70% training part; "
        "split-sample C on the 30% validation part",
        split_sample=True,
    )
)
register_arm(
    selection_arm(
        "paper_all_data",
        "Paper's selection, all patients + bootstrap",
        "the paper's screening and stepwise selection developed on all patients; selection-aware bootstrap validation",
        split_sample=False,
    )
)
register_arm(
    selection_arm(
        "stepaic",
        "Screening + stepAIC, all patients + bootstrap",
        "univariable screening, then MASS::stepAIC(direction = 'both') from the screened model; all patients; "
        "bootstrap",
        split_sample=False,
        method="stepaic_both",
    )
)
register_arm(
    full_model_arm(
        "full",
        "Full model, all patients + bootstrap",
        "every candidate of the multivariable pool, no selection; all patients; bootstrap",
        split_sample=False,
    )
)
