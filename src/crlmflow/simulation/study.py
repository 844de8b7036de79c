"""Simulation study: how reliable is the paper's modelling procedure?

Designed and reported as recommended by Morris, White & Crowther, "Using simulation studies
to evaluate statistical methods", *Stat Med* 2019;38:2074-2102 (the ADEMP structure; bias,
coverage and their Monte Carlo standard errors as in their Table 6).

* **Aims.** How often does univariable screening (p < ``selection.screen_p``) + stepwise Cox
  keep the true predictors and drop the null ones; how biased are the hazard ratios it
  reports and how often do their 95 % CIs cover the truth; how close are the split-sample
  and the bootstrap optimism-corrected C-index to the C the fitted model really has.
* **Data-generating mechanism.** :func:`crlmflow.simulation.generator.simulate_cohort` (the paper's
  Table 2 multivariable model as the truth, see its docstring): ``replicates`` independent
  raw exports of ``n_eligible`` eligible patients each, plus one large cohort of ``truth_n``
  patients for the true C.  Every replicate has its own seeds (:func:`replicate_seeds`).
  ``simulation_study.scenario`` swaps the truth (shrunken, many small or non-linear effects,
  another n; :mod:`crlmflow.simulation.scenarios`), for the replicates and the truth cohort alike.
* **Estimands.** (i) Per candidate term and endpoint, the true conditional log-HR of the
  simulator's Cox model, on the scale on which the workflow models the variable (the
  simulator's linear predictor uses hospital days per day, the CRS score per point and 0/1
  indicators, exactly the workflow's coding, so the true coefficient of every candidate is
  well defined); 0 for candidates without a direct effect (a *null* predictor).  The
  conditional HR changes with the adjustment set, so a selected model that misses a true
  predictor estimates something else; bias and coverage are therefore also reported over
  the replicates whose selected model contains every true predictor.  Two caveats, both
  quantified by ``log_hr_large_sample`` (the full-pool Cox fit on the large cohort): KRAS has
  a small true effect but is not a candidate, so every fitted HR is slightly attenuated
  (non-collapsibility of the HR); the RFS truth is the hazard of the *latent* recurrence
  time, while observed RFS is censored by death, which depends on recurrence through the
  simulator's copula.  (ii) The true C of a replicate's fitted model: Harrell's C of its
  linear predictor on the large independent cohort, with that cohort's observed (censored)
  outcomes, i.e. the population value of the quantity the split-sample C estimates.
* **Methods.** The workflow's procedure, unchanged, through its own functions: simulate ->
  write the raw export -> :func:`crlmflow.data.cohort.clean_cohort_file` ->
  :func:`crlmflow.data.indices.derive_indices` -> seeded stratified 7:3 split
  (:func:`crlmflow.data.cohort.assign_sets`) -> :func:`crlmflow.model.modelling.develop_model` ->
  Harrell's C on the validation set (:func:`crlmflow.validation.concordance.concordance_index`)
  -> Harrell's optimism correction with selection repeated in each bootstrap replicate
  (:func:`crlmflow.validation.optimism.run_replicates`, ``apparent_performance``,
  ``summarise_optimism``).
* **Performance measures** (:mod:`crlmflow.simulation.performance`). Selection frequency;
  conditional on selection: bias of the log-HR, empirical and mean model SE, coverage of the
  95 % Wald CI; for C: mean error (estimate - true C), its SD and RMSE, and the coverage of
  the split-sample C's 95 % CI (infinitesimal-jackknife SE) for the true C.  Each with its
  Monte Carlo SE.

Randomness: replicate ``r`` draws its integer seeds from the named stream
``simstudy_replicate`` with key ``r`` and the truth cohort from ``simstudy_truth``
(:mod:`crlmflow.pipeline.streams`), so every replicate depends only on the study seed and
``r``, whatever the number or order of the jobs.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from crlmflow.data.cleaning import MISSING_PREDICTOR_PREFIX
from crlmflow.data.cohort import assign_sets, clean_cohort_file
from crlmflow.data.columns import EXCLUSION_REASONS
from crlmflow.data.indices import derive_indices
from crlmflow.data.io import atomic_write_csv
from crlmflow.pipeline.options import SelectionOptions
from crlmflow.pipeline.streams import integer_seed, seed_sequence, stream
from crlmflow.simulation import arms_beyond  # noqa: F401 - registers the arms beyond the paper
from crlmflow.simulation.arms import arms_named
from crlmflow.simulation.generator import simulate_cohort
from crlmflow.simulation.missingness import impose_missingness
from crlmflow.simulation.true_performance import true_performance, true_risk_column
from crlmflow.survival.design import normalise_candidates
from crlmflow.survival.selection import fit_terms, prepare
from crlmflow.validation.concordance import concordance_index

__all__ = [
    "replicate_seeds",
    "truth_cohort_seed",
    "simulate_analysis_cohort",
    "truth_key",
    "analysis_columns",
    "truth_reference",
    "run_replicate",
    "replicate_cohort",
    "selection_kwargs",
    "REPLICATE_COLUMNS",
    "PAPER_ARM",
    "study_arms",
    "TRUE",
    "NULL",
    "TRUE_NOT_CANDIDATE",
]

#: Roles of a candidate in the truth (``truth_reference``'s ``role`` column).
TRUE, NULL, TRUE_NOT_CANDIDATE = "true predictor", "null predictor", "true predictor, not a candidate"

#: Simulator endpoint (key of the ground truth) of each time column of the simulated cohort.
_TRUTH_ENDPOINT = {"os_months": "os", "rfs_months": "rfs"}

#: How a null candidate is nevertheless related to the truth, per simulator endpoint
#: (reading aid for the table; see the generative model in crlmflow.simulation.generator).
_NULL_NOTES = {
    "os": {
        "cea": "enters the truth only through the CRS item CEA > 200 (in crs_score)",
        "wbc": "correlated with hospital days",
        "neut": "correlated with hospital days",
        "nlr": "a function of NEUT (correlated with hospital days)",
        "sii": "a function of NEUT (correlated with hospital days)",
        "chemo_adjuvant_only": "shares the truth's reference category with full course",
    },
    "rfs": {
        "cea": "enters the truth only through the CRS item CEA > 200 (in crs_score)",
        "hospital_days": "a true OS predictor, no effect on recurrence",
        "chemo_neoadjuvant_only": "a true OS predictor, no effect on recurrence; more frequent at high CRS",
    },
}
_NOT_CANDIDATE_LABELS = {"kras_mutant": "KRAS mutant"}


# ---------------------------------------------------------------------------------------
# seeds and data
# ---------------------------------------------------------------------------------------


def replicate_seeds(seed: int, rep: int) -> dict[str, int]:
    """Integer seeds of replicate ``rep``: simulation, split and bootstrap.

    The first three 32-bit words of the named stream ``simstudy_replicate`` with key ``rep``
    (``seed_sequence(seed, "simstudy_replicate", rep)``): they depend on nothing but the
    study seed and ``rep``, so any order or number of parallel jobs gives the same replicate.
    Each is then the seed of that step's own named stream (``simulate_cohort``, ``split``,
    the optimism bootstrap)."""
    s = seed_sequence(seed, "simstudy_replicate", rep).generate_state(3)
    return {"simulate": int(s[0]), "split": int(s[1]), "bootstrap": int(s[2])}


def truth_cohort_seed(seed: int) -> int:
    """Seed of the large truth cohort: ``integer_seed(seed, "simstudy_truth")``, a stream
    independent of every replicate's."""
    return integer_seed(seed, "simstudy_truth")


def simulate_analysis_cohort(n_eligible: int, seed: int, config: dict) -> tuple[pd.DataFrame, dict]:
    """Simulate a raw export and take it through the workflow's own data steps.

    As the rules ``simulate_cohort``, ``clean`` and ``derive_indices`` do: the raw export is
    written as CSV (``atomic_write_csv``) to a temporary folder, read back and cleaned by
    :func:`crlmflow.data.cohort.clean_cohort_file` with the config's ``data`` options, and the
    indices derived; ``config["effects"]`` (optional) is the scenario's override of the true
    outcome model (:mod:`crlmflow.simulation.scenarios`); ``config["missing"]`` (optional) a
    scenario's MAR missingness imposed on the raw export before cleaning
    (:func:`crlmflow.simulation.missingness.impose_missingness`, named stream
    ``simstudy_missingness`` on ``seed``), so the cleaner's missing-data policy
    (``data.missing_predictors``) applies as on real data.  Returns ``(analysis cohort, ground
    truth)``; ``cohort.attrs["excluded_missing"]`` counts the patients the cleaner excluded for a
    missing value (missing required data or a missing candidate predictor).
    """
    data = config["data"]
    kwargs = {"case_mix": (data.get("synthetic") or {}).get("case_mix")}
    if data.get("followup_cutoff"):
        kwargs["followup_cutoff"] = data["followup_cutoff"]
    if config.get("effects"):  # a simulation-study scenario's truth (simulation_study.scenario)
        kwargs["effects"] = config["effects"]
    raw, truth = simulate_cohort(int(n_eligible), int(seed), **kwargs)
    if config.get("missing"):
        raw = impose_missingness(raw, config["missing"], stream(int(seed), "simstudy_missingness"))
    with tempfile.TemporaryDirectory(prefix="crlm-simstudy-") as tmp:
        path = Path(tmp) / "raw_cohort.csv"
        atomic_write_csv(raw, path)
        result = clean_cohort_file(
            path,
            file_options={},
            source="synthetic",
            data_options=data,
            candidates=config["candidates"],
            endpoints=config["endpoints"],
        )
    reasons = result.exclusions["reason"].astype(str)
    missing = (reasons == EXCLUSION_REASONS[4]) | reasons.str.startswith(MISSING_PREDICTOR_PREFIX)
    cohort = derive_indices(result.cohort)
    cohort.attrs["excluded_missing"] = int(missing.sum())
    return cohort, truth


def truth_key(endpoint: dict) -> str:
    """The simulator's endpoint (``os`` / ``rfs``) behind a configured endpoint."""
    key = _TRUTH_ENDPOINT.get(endpoint["time"])
    if key is None:
        raise ValueError(
            f"endpoint time column {endpoint['time']!r} is not simulated; the simulation "
            f"study needs endpoints on {sorted(_TRUTH_ENDPOINT)}"
        )
    return key


def selection_kwargs(config: dict) -> dict:
    """Keyword arguments of :func:`crlmflow.model.modelling.develop_model` from the
    config's ``selection`` and ``exclude_from_multivariable``."""
    sel = SelectionOptions.from_config(config)
    return dict(
        screen_p=sel.screen_p,
        exclude=tuple(config.get("exclude_from_multivariable") or ()),
        method=sel.method,
        entry_p=sel.entry_p,
        removal_p=sel.removal_p,
        entry_test=sel.entry_test,
    )


def analysis_columns(config: dict) -> list[str]:
    """Columns a replicate needs from the truth cohort: id, endpoints and candidates."""
    cols = ["patient_id"]
    for ep in config["endpoints"].values():
        cols += [ep["time"], ep["event"]]
    cols += [c["name"] for c in config["candidates"]]
    return list(dict.fromkeys(cols))


# ---------------------------------------------------------------------------------------
# the truth table
# ---------------------------------------------------------------------------------------


def _estimand_note(ep_key: str, cand: dict, role: str, excluded: bool, death_censors_rfs: bool = True) -> str:
    name = cand["name"]
    if excluded:
        return "not estimable: excluded from the multivariable pool (exclude_from_multivariable)"
    if role == TRUE:
        unit = cand.get("unit")
        scale = (
            f"per {unit.rstrip('s') if unit == 'days' else unit}"
            if unit
            else ("per point" if cand.get("type") == "numeric" else "1 vs 0")
        )
        note = f"true conditional log-HR of the simulator, same scale as modelled ({scale})"
    else:
        note = "null: no direct effect given the true predictors"
        if name in _NULL_NOTES.get(ep_key, {}):
            note += f"; {_NULL_NOTES[ep_key][name]}"
    if ep_key == "rfs" and death_censors_rfs:
        note += "; RFS truth: latent recurrence hazard, observed RFS is censored by death (see log_hr_large_sample)"
    elif ep_key == "rfs":
        note += (
            "; RFS events include deaths (data.death_censors_rfs false): the recurrence log-HR is not "
            "this model's estimand, compare with log_hr_large_sample"
        )
    return note


def _hinge_note(h: dict) -> str:
    return (
        f"; plus a non-linear (hinge) true effect: {h['log_hr_below']:g} per unit below {h['knot']:g}, "
        f"{h['log_hr_above']:g} per unit above (log_hr_true is only its linear part)"
    )


def truth_reference(truth: dict, cohort: pd.DataFrame, config: dict) -> pd.DataFrame:
    """One row per endpoint and candidate term: the true log-HR and the large-sample value.

    Columns: endpoint, term, variable, label, role (:data:`TRUE`: nonzero true log-HR /
    :data:`NULL`),
    estimable (in the multivariable pool), log_hr_true, hr_true, log_hr_large_sample and
    se_large_sample (a Cox model with every candidate of the pool fitted to ``cohort``, the
    large truth cohort), estimand (what the true value means and its caveats).  True
    predictors that are not candidates (KRAS) get a row with role ``true predictor, not a candidate``.
    (Roles are spelled out: a bare "null" would be read back from CSV as a missing value.)
    """
    excluded = set(config.get("exclude_from_multivariable") or ())
    dcr = bool(config["data"].get("death_censors_rfs", True))
    cands = config["candidates"]
    specs = {c.name: c for c in normalise_candidates(cands)}
    pool = [c["name"] for c in cands if c["name"] not in excluded]
    rows = []
    for ep, spec in config["endpoints"].items():
        key = truth_key(spec)
        log_hr = truth[key]["log_hr"]
        hinged = {h["variable"]: h for h in truth[key].get("nonlinear", [])}
        pb = prepare(cohort, [c for c in cands if c["name"] in pool], spec["time"], spec["event"])
        fit = fit_terms(pb, pool)
        big = {n: (float(b), float(s)) for n, b, s in zip(fit.names, fit.coef, fit.se)}
        for cand in cands:
            name = cand["name"]
            beta = float(log_hr.get(name, 0.0))
            role = TRUE if beta != 0.0 or name in hinged else NULL
            for term in specs[name].term_names():
                b, s = big.get(term, (np.nan, np.nan))
                rows.append(
                    dict(
                        endpoint=ep,
                        term=term,
                        variable=name,
                        label=cand.get("label", name),
                        role=role,
                        estimable=name not in excluded,
                        log_hr_true=beta,
                        hr_true=math.exp(beta),
                        log_hr_large_sample=b,
                        se_large_sample=s,
                        estimand=_estimand_note(key, cand, role, name in excluded, dcr)
                        + (_hinge_note(hinged[name]) if name in hinged else ""),
                    )
                )
        for name, beta in log_hr.items():
            if name not in specs and beta != 0.0:
                rows.append(
                    dict(
                        endpoint=ep,
                        term=name,
                        variable=name,
                        label=_NOT_CANDIDATE_LABELS.get(name, name),
                        role=TRUE_NOT_CANDIDATE,
                        estimable=False,
                        log_hr_true=float(beta),
                        hr_true=math.exp(beta),
                        log_hr_large_sample=np.nan,
                        se_large_sample=np.nan,
                        estimand="not a candidate: omitted from every fitted model (its omission "
                        "slightly attenuates the other HRs: non-collapsibility)",
                    )
                )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# one replicate
# ---------------------------------------------------------------------------------------

#: Columns of a replicate's table (one row per arm, endpoint and candidate term).
REPLICATE_COLUMNS = [
    "rep",
    "arm",
    "endpoint",
    "term",
    "variable",
    "screened",
    "selected",
    "coef",
    "se",
    "hr",
    "hr_lower",
    "hr_upper",
    "p",
    "n_excluded_missing",
    "n_train",
    "events_train",
    "n_validation",
    "events_validation",
    "n_selected",
    "selected_terms",
    "c_apparent",
    "c_split",
    "c_split_se",
    "c_optimism",
    "c_corrected",
    "slope_corrected",
    "n_bootstrap",
    "c_true",
    "slope_true",
    "ici_true",
    "seed_simulate",
    "seed_split",
    "seed_bootstrap",
]

#: The paper's procedure (split sample), the arm of the original study's tables.
PAPER_ARM = "paper"


def study_arms(config: dict) -> list[str]:
    """Arms of the study (``simulation_study.arms``; the paper's procedure alone if unset)."""
    return list(config["simulation_study"].get("arms") or [PAPER_ARM])


def _arm_endpoint(arm, ep, spec, k, data, valid, truth_cohort, config, kw, seeds) -> pd.DataFrame:
    """One arm on one endpoint: develop, split-sample C (split arms), bootstrap, true performance."""
    sim = config["simulation_study"]
    time, event = spec["time"], spec["event"]
    seeded = {"seed": seeds["bootstrap"], "endpoint_index": k} if arm.seeded else {}
    fit = arm.develop(data, config, spec, kw, **seeded)
    val = arm.validate(data, config, spec, kw, fit, int(sim["bootstrap_B"]), seeds["bootstrap"], k)
    if arm.finalise is not None:  # a model built from its own bootstrap (e.g. uniform shrinkage)
        fit, val = arm.finalise(data, config, spec, kw, fit, val)
    c_split = concordance_index(valid[time], valid[event], fit.linear_predictor(valid)) if arm.split_sample else None
    horizon = float(sim.get("horizon", 36))
    risk_col = true_risk_column(truth_key(spec))
    true_risk_t = truth_cohort[risk_col] if risk_col in truth_cohort else np.full(len(truth_cohort), np.nan)
    truth = true_performance(
        fit.linear_predictor(truth_cohort),
        fit.risk(truth_cohort, horizon),
        truth_cohort[time],
        truth_cohort[event],
        true_risk_t,
    )
    t = fit.terms
    table = pd.DataFrame(
        {
            "rep": 0,
            "arm": arm.name,
            "endpoint": ep,
            "term": t["term"],
            "variable": t["variable"],
            "screened": t["screened"].astype(int),
            "selected": t["selected"].astype(int),
            **{c: t[c] for c in ("coef", "se", "hr", "hr_lower", "hr_upper", "p")},
        }
    )
    return table.assign(
        n_train=len(data),
        events_train=int(data[event].sum()),
        n_validation=len(valid) if arm.split_sample else 0,
        events_validation=int(valid[event].sum()) if arm.split_sample else 0,
        n_selected=len(fit.selected),
        selected_terms=";".join(fit.selected),
        c_apparent=val["c_apparent"],
        c_split=c_split.c_index if c_split else np.nan,
        c_split_se=c_split.std_err if c_split else np.nan,
        c_optimism=val.get("c_optimism", np.nan),
        c_corrected=val.get("c_corrected", np.nan),
        slope_corrected=val.get("slope_corrected", np.nan),
        n_bootstrap=val["n_bootstrap"],
        **truth,
    )


def replicate_cohort(config: dict, seeds: dict, missing_data: str) -> tuple:
    """(training part, validation part, all patients, patients excluded for a missing value)
    of the replicate's cohort cleaned with ``data.missing_predictors = missing_data``."""
    cfg = {**config, "data": {**config["data"], "missing_predictors": missing_data}}
    cohort, _ = simulate_analysis_cohort(config["simulation_study"]["n_eligible"], seeds["simulate"], cfg)
    excluded = cohort.attrs.get("excluded_missing", 0)
    split = {
        "method": "random",
        "train_fraction": config["split"]["train_fraction"],
        "stratify": config["split"].get("stratify"),
    }
    cohort, _ = assign_sets({"development": cohort}, split, seed=seeds["split"])
    train = cohort[cohort["set"] == "train"].reset_index(drop=True)
    valid = cohort[cohort["set"] == "validation"].reset_index(drop=True)
    return train, valid, cohort.reset_index(drop=True), excluded


def run_replicate(config: dict, rep: int, seed: int, truth_cohort: pd.DataFrame) -> pd.DataFrame:
    """Every arm of the study on replicate ``rep``; one row per arm, endpoint and candidate term.

    ``config``: the workflow config's ``data``, ``split`` (``train_fraction``, ``stratify``;
    the split is always the paper's random one), ``endpoints``, ``candidates``,
    ``exclude_from_multivariable``, ``selection`` and ``simulation_study`` (``n_eligible``,
    ``bootstrap_B``, ``arms``, ``horizon``).  ``seed``: the study seed (see
    :func:`replicate_seeds`).  ``truth_cohort``: the large independent cohort, with the true
    risk at the horizon in ``true_risk_<os|rfs>`` (:func:`crlmflow.simulation.true_performance.true_risk`).

    Every arm (:mod:`crlmflow.simulation.arms`) sees the same cohort, the same split and the
    same bootstrap resamples.  An arm's cohort is cleaned with its ``missing_data`` policy
    (``data.missing_predictors``; the hook for multiple imputation: such an arm receives the
    same simulated export cleaned with its own policy, its split and resamples drawn from the
    same seeds); ``n_excluded_missing`` counts the patients its cleaning excluded for a missing
    value (complete-case analysis under a ``missing`` scenario).  Term columns: screened, selected, and for terms in the model
    coef, se, hr, hr_lower, hr_upper, p.  Endpoint columns (repeated on its rows): sizes and
    events of the development data (``n_train``; all patients for arms that do not split) and
    of the validation part, n_selected, selected_terms (";"-joined), c_apparent, c_split
    (Harrell's C on the validation part, split arms only) and its IJ SE c_split_se,
    c_optimism, c_corrected and slope_corrected (Harrell's bootstrap, ``n_bootstrap``
    replicates; NaN when B = 0), and the true c_true, slope_true, ici_true
    (:func:`crlmflow.simulation.true_performance.true_performance`).
    """
    seeds = replicate_seeds(seed, rep)
    kw = selection_kwargs(config)
    cohorts: dict[str, tuple] = {}  # one cleaning per missing-data policy, in order of first use
    out = []
    for arm in arms_named(study_arms(config)):
        if arm.missing_data not in cohorts:
            cohorts[arm.missing_data] = replicate_cohort(config, seeds, arm.missing_data)
        train, valid, everyone, excluded = cohorts[arm.missing_data]
        data = train if arm.split_sample else everyone
        for k, (ep, spec) in enumerate(config["endpoints"].items()):
            truth_key(spec)
            table = _arm_endpoint(arm, ep, spec, k, data, valid, truth_cohort, config, kw, seeds)
            out.append(table.assign(n_excluded_missing=excluded))
    table = pd.concat(out, ignore_index=True).assign(
        rep=int(rep), seed_simulate=seeds["simulate"], seed_split=seeds["split"], seed_bootstrap=seeds["bootstrap"]
    )
    return table[REPLICATE_COLUMNS]
