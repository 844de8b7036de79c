"""Rule simstudy_truth_cohort: the large independent cohort (true C, calibration slope and
risk at the horizon) and the true HRs."""

from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.pipeline.snakeio import logged
from crlmflow.simulation.study import (
    analysis_columns,
    simulate_analysis_cohort,
    truth_cohort_seed,
    truth_key,
    truth_reference,
)
from crlmflow.simulation.true_performance import true_risk, true_risk_column

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    seed = truth_cohort_seed(p.seed)
    cohort, truth = simulate_analysis_cohort(p.truth_n, seed, p.config)
    keys = list(dict.fromkeys(truth_key(spec) for spec in p.config["endpoints"].values()))
    risks = {true_risk_column(k): true_risk(truth, k, cohort, p.horizon) for k in keys}
    cohort = cohort[analysis_columns(p.config)].assign(**risks)
    reference = truth_reference(truth, cohort, p.config)
    atomic_write_csv(cohort, snakemake.output.cohort)
    atomic_write_json(snakemake.output.truth, truth)
    atomic_write_csv(reference, snakemake.output.reference)
    log.info("truth cohort: %d patients (seed %d); %d reference rows", len(cohort), seed, len(reference))
    for col, r in risks.items():
        log.info("%s at %g months: mean %.3f", col, p.horizon, r.mean())
