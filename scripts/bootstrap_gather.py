"""Rule bootstrap_gather: apparent, optimism and corrected performance; selection stability."""

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.pipeline.options import SelectionOptions
from crlmflow.pipeline.snakeio import logged
from crlmflow.validation.optimism import apparent_performance, selection_frequency, summarise_optimism

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
    atomic_write_csv(summarise_optimism(apparent, reps).reset_index(), snakemake.output.optimism)
    atomic_write_csv(selection_frequency(reps, p.candidates), snakemake.output.stability)
    log.info("%s: %d bootstrap replicates gathered", snakemake.wildcards.endpoint, len(reps))
