"""Rule reference_analysis: the reference study's analysis (e.g. the paper's) re-run on this run's patients."""

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_json
from crlmflow.pipeline.snakeio import logged
from crlmflow.survival.competing import event_from_status
from crlmflow.validation.split_sample import split_sample_validation

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    ep = p.endpoint
    event = ep["event"]
    if p.recode_rfs and event == "rfs_event":
        # the reference codes deaths without recurrence otherwise: recode from the status
        event = "reference_event"
        cohort[event] = pd.Series(
            event_from_status(cohort["rfs_status"], death_is_event=not p.death_censors_rfs), index=cohort.index
        )
    result = split_sample_validation(
        cohort,
        p.candidates,
        snakemake.wildcards.endpoint,
        ep["time"],
        event,
        split=p.split,
        seed=p.seed,
        selection=p.selection,
        exclude=p.exclude,
    )
    result["death_censors_rfs"] = p.death_censors_rfs
    result["train_fraction"] = p.split["train_fraction"]
    atomic_write_json(snakemake.output[0], result)
    log.info(
        "%s: reference analysis, training n=%d (%d events), selected %s; validation C %.3f",
        snakemake.wildcards.endpoint,
        result["fit"]["n"],
        result["fit"]["events"],
        result["fit"]["selected"],
        result["c_index"],
    )
