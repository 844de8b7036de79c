"""Rule simstudy_truth_cohort: the large independent cohort for the true C, and the true HRs."""

from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.pipeline.snakeio import logged
from crlmflow.simulation.study import analysis_columns, simulate_analysis_cohort, truth_cohort_seed, truth_reference

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    seed = truth_cohort_seed(p.seed)
    cohort, truth = simulate_analysis_cohort(p.truth_n, seed, p.config)
    cohort = cohort[analysis_columns(p.config)]
    reference = truth_reference(truth, cohort, p.config)
    atomic_write_csv(cohort, snakemake.output.cohort)
    atomic_write_json(snakemake.output.truth, truth)
    atomic_write_csv(reference, snakemake.output.reference)
    log.info("truth cohort: %d patients (seed %d); %d reference rows", len(cohort), seed, len(reference))
