"""Rule bootstrap_chunk: one chunk of optimism-correction replicates (selection inside each)."""

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.pipeline.options import SelectionOptions
from crlmflow.pipeline.snakeio import logged
from crlmflow.validation.optimism import run_replicates

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    train = cohort[cohort["set"] == "train"].reset_index(drop=True)
    sel = SelectionOptions(**p.selection)
    reps = run_replicates(
        train,
        p.candidates,
        p.endpoint["time"],
        p.endpoint["event"],
        p.horizons,
        range(p.first, p.last),
        seed=p.seed,
        endpoint_index=p.endpoint_index,
        screen_p=sel.screen_p,
        exclude=p.exclude,
        method=sel.method,
        entry_p=sel.entry_p,
        removal_p=sel.removal_p,
        entry_test=sel.entry_test,
        nb_thresholds=p.nb_thresholds,
    )
    atomic_write_csv(reps, snakemake.output[0])
    log.info("%s replicates %d..%d done", snakemake.wildcards.endpoint, p.first, p.last - 1)
