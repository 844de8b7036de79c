"""Rule time_varying: the final model refitted with a time-varying coefficient for the flagged term."""

import json

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.model.time_varying import time_varying_table
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    with open(snakemake.input.fit, encoding="utf-8") as fh:
        fit = json.load(fh)
    train = cohort[cohort["set"] == "train"]
    table = time_varying_table(fit, p.candidates, train, p.term, p.form, p.step_at, p.horizons)
    atomic_write_csv(table, snakemake.output[0])
    log.info(
        "%s: time-varying coefficient of %s (%s): %d rows", snakemake.wildcards.endpoint, p.term, p.form, len(table)
    )
