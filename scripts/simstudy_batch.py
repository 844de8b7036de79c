"""Rule simstudy_batch: the simulation study's replicates of one batch (one Python process)."""

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.pipeline.snakeio import logged
from crlmflow.simulation.batches import run_batch
from crlmflow.simulation.study import run_replicate

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    truth_cohort = read_cohort_csv(snakemake.input.truth_cohort)

    def report(table):
        for ep, g in table.groupby("endpoint", sort=False):
            r = g.iloc[0]
            log.info(
                "replicate %d %s: selected %s; C apparent %.3f, split %.3f, corrected %.3f, true %.3f",
                r["rep"],
                ep,
                r["selected_terms"] if isinstance(r["selected_terms"], str) and r["selected_terms"] else "nothing",
                r["c_apparent"],
                r["c_split"],
                r["c_corrected"],
                r["c_true"],
            )

    table = run_batch(p.config, p.reps, p.seed, truth_cohort, run_replicate, log=report)
    atomic_write_csv(table, snakemake.output[0])
    log.info("batch of %d replicates (%d..%d) done", len(p.reps), p.reps[0], p.reps[-1])
