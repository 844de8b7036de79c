"""Rule split: seeded 7:3 train/validation split (or none, or an external cohort)."""

from crlmflow.data.cohort import assign_sets, read_cohort_csv
from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    cohorts = {name: read_cohort_csv(path) for name, path in zip(snakemake.params.cohorts, snakemake.input.cohorts)}
    combined, summary = assign_sets(
        cohorts, snakemake.params.split, seed=snakemake.params.seed, event_columns=snakemake.params.event_columns
    )
    atomic_write_csv(combined, snakemake.output.cohort)
    atomic_write_json(snakemake.output.summary, summary)
    log.info("split %s", summary)
