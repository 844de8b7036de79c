"""Rule bootstrap_chunk: one chunk of optimism-correction replicates (selection inside each),
and the calibration optimism of those among the first calibration_B."""

import json

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.pipeline.options import SelectionOptions
from crlmflow.pipeline.snakeio import logged
from crlmflow.validation.calibration_bootstrap import REPLICATE_COLUMNS, REPLICATE_FLOAT_FORMAT, development_calibration
from crlmflow.validation.optimism import run_replicates

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    train = cohort[cohort["set"] == "train"].reset_index(drop=True)
    sel = SelectionOptions(**p.selection)
    calibration = None
    if p.calibration_B > p.first:
        with open(snakemake.input.fit, encoding="utf-8") as fh:
            selected = json.load(fh)["selected"]
        if selected:  # a final model without terms has no calibration curve to correct
            pred = pd.read_csv(snakemake.input.predictions, dtype={"patient_id": str})
            # the final model's predictions on the training rows, in their order (as validate_model)
            rows = train.merge(pred.drop(columns="set"), on="patient_id", how="left", validate="one_to_one")
            calibration = development_calibration(rows, p.endpoint["time"], p.endpoint["event"], p.horizons, p.groups)
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
        calibration=calibration,
        calibration_B=p.calibration_B,
    )
    atomic_write_csv(reps, snakemake.output.replicates)
    table = calibration.table() if calibration is not None else pd.DataFrame(columns=REPLICATE_COLUMNS)
    atomic_write_csv(table, snakemake.output.calibration, float_format=REPLICATE_FLOAT_FORMAT)
    log.info(
        "%s replicates %d..%d done (%d with calibration)",
        snakemake.wildcards.endpoint,
        p.first,
        p.last - 1,
        table["b"].nunique(),
    )
