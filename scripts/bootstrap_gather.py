"""Rule bootstrap_gather: apparent, optimism and corrected performance; selection stability."""

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.model.modelling import develop_model
from crlmflow.pipeline.options import SelectionOptions
from crlmflow.pipeline.snakeio import logged
from crlmflow.survival.selection import prepare
from crlmflow.validation.optimism import apparent_performance, summarise_optimism
from crlmflow.validation.optimism_measures import (
    NO_INTERVAL,
    corrected_measure_names,
    evaluation_measures,
    measure_horizon,
)
from crlmflow.validation.performance import horizon_support
from crlmflow.validation.stability import (
    coefficient_stability,
    inclusion_frequency,
    model_frequency,
    pairwise_inclusion,
)

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    train = cohort[cohort["set"] == "train"].reset_index(drop=True)
    sel = SelectionOptions(**p.selection)
    reps = pd.concat([pd.read_csv(f) for f in snakemake.input.chunks], ignore_index=True).sort_values("b")
    apparent = apparent_performance(
        train,
        p.candidates,
        p.endpoint["time"],
        p.endpoint["event"],
        p.horizons,
        screen_p=sel.screen_p,
        exclude=p.exclude,
        method=sel.method,
        entry_p=sel.entry_p,
        removal_p=sel.removal_p,
        entry_test=sel.entry_test,
    )
    atomic_write_csv(reps, snakemake.output.replicates)
    optimism = summarise_optimism(apparent, reps).reset_index()
    # AUC(t), ICI/E50/E90 and net benefit corrected in the same replicates (optimism_measures)
    more = corrected_measure_names(reps)
    if more:
        ep_t, ep_e = train[p.endpoint["time"]], train[p.endpoint["event"]]
        app_more = evaluation_measures(ep_t, ep_e, apparent["lp"], apparent["surv"], p.horizons, p.nb_thresholds or ())
        optimism = pd.concat([optimism, summarise_optimism(app_more, reps, measures=more).reset_index()])
        optimism = optimism.reset_index(drop=True)
    optimism["interval"] = NO_INTERVAL
    # horizon measures carry the training set's support, as performance.csv does
    flags = []
    for m in optimism["measure"]:
        h = m.split("_")[-1] if m.startswith(("brier_", "ipa_")) else measure_horizon(m)
        if h is None:
            flags.append((pd.NA, pd.NA, True))
            continue
        cases, controls = horizon_support(train[p.endpoint["time"]], train[p.endpoint["event"]], float(h))
        flags.append((cases, controls, cases >= p.min_events and controls >= p.min_at_risk))
    optimism[["cases", "controls", "estimable"]] = pd.DataFrame(flags, index=optimism.index)
    atomic_write_csv(optimism, snakemake.output.optimism)
    # the model selected on the training data, and the global model of every eligible
    # candidate, against which the replicates' coefficients are measured
    ep = p.endpoint
    developed = develop_model(
        train,
        p.candidates,
        snakemake.wildcards.endpoint,
        ep["time"],
        ep["event"],
        screen_p=sel.screen_p,
        exclude=p.exclude,
        method=sel.method,
        entry_p=sel.entry_p,
        removal_p=sel.removal_p,
    )
    final = developed.selected
    uni = developed.univariable
    separated = set(uni.loc[uni["separated"].astype(bool), "variable"])
    problem = prepare(train, p.candidates, ep["time"], ep["event"])
    eligible = [v for v in problem.design.groups if v not in set(p.exclude)]
    # a candidate with an infinite univariable coefficient (separation) has none in the
    # global model either: it is left out of that fit and its row says NaN
    full = problem.fit([v for v in eligible if v not in separated])
    variable_of = {problem.design.columns[j]: v for v, cols in problem.design.groups.items() for j in cols}
    global_coef = pd.DataFrame({"term": full.names, "coef": full.coef, "se": full.se})
    if separated:
        terms = [problem.design.columns[j] for v in eligible if v in separated for j in problem.design.groups[v]]
        global_coef = pd.concat([global_coef, pd.DataFrame({"term": terms, "coef": float("nan"), "se": float("nan")})])
        log.warning(
            "%s: %d candidate(s) not estimable (separation), left out of the global model: %s",
            snakemake.wildcards.endpoint,
            len(separated),
            ", ".join(v for v in eligible if v in separated),
        )
    n_sep = int((reps["n_separated"] > 0).sum()) if "n_separated" in reps else 0
    if n_sep:
        log.warning(
            "%s: in %d of %d bootstrap replicates a candidate was left unscreened for separation",
            snakemake.wildcards.endpoint,
            n_sep,
            len(reps),
        )
    atomic_write_csv(
        inclusion_frequency(reps, p.candidates, exclude=p.exclude, final=final), snakemake.output.stability
    )
    atomic_write_csv(model_frequency(reps, final), snakemake.output.models)
    atomic_write_csv(pairwise_inclusion(reps, eligible), snakemake.output.pairs)
    atomic_write_csv(coefficient_stability(reps, global_coef, variable_of), snakemake.output.coefficients)
    log.info("%s: %d bootstrap replicates gathered", snakemake.wildcards.endpoint, len(reps))
