"""Rule sample_size: Riley et al.'s minimum sample size beside the actual n and events."""

import json

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.model.alternatives import fit_full_model
from crlmflow.model.sample_size import study_sample_size
from crlmflow.pipeline.options import SampleSizeOptions
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    opts = SampleSizeOptions(**p.sample_size)
    cohort = read_cohort_csv(snakemake.input.cohort)
    train = cohort[cohort["set"] == "train"]
    with open(snakemake.input.fit, encoding="utf-8") as fh:
        fit = json.load(fh)
    time, event = p.endpoint["time"], p.endpoint["event"]
    # every eligible candidate parameter, as the EPV of fit.json counts them
    full = fit_full_model(train, p.candidates, time, event, exclude=p.exclude)
    if len(full.coef) != fit["candidate_parameters"]:
        raise ValueError(
            f"{snakemake.input.fit}: {fit['candidate_parameters']} candidate parameters, "
            f"but the full model has {len(full.coef)} columns"
        )
    rows = study_sample_size(
        train[time],
        train[event],
        parameters=fit["candidate_parameters"],
        full_model_lr=full.details["lr_chisq"],
        horizon=opts.horizon,
        shrinkage=opts.shrinkage,
        optimism=opts.optimism,
        margin=opts.margin,
        r2_cs=opts.r2_cs,
        nagelkerke=opts.nagelkerke,
    )
    atomic_write_csv(pd.DataFrame(rows), snakemake.output.sample_size)
    log.info(
        "%s: %d patients, %d events, %d candidate parameters; required n %s",
        snakemake.wildcards.endpoint,
        len(train),
        int(train[event].sum()),
        fit["candidate_parameters"],
        [r.get("n_required") for r in rows],
    )
