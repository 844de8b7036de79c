"""Rule validate_model: C-index, time-dependent ROC, calibration and decision curves per set."""

import json

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.model.modelling import model_matrix_from_fit
from crlmflow.pipeline.options import SelectionOptions
from crlmflow.pipeline.snakeio import logged
from crlmflow.pipeline.streams import stream
from crlmflow.validation.calibration import prediction_histogram
from crlmflow.validation.calibration_bootstrap import (
    calibrate_selection_aware,
    development_calibration,
    read_replicate_tables,
)
from crlmflow.validation.performance import calibrate_bias_corrected, evaluate_set

SMOOTH_COLUMNS = ["horizon", "predicted_risk", "observed_apparent", "optimism", "observed_corrected", "n_bootstrap"]

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    ep = snakemake.wildcards.endpoint
    cohort = read_cohort_csv(snakemake.input.cohort)
    pred = pd.read_csv(snakemake.input.predictions, dtype={"patient_id": str})
    data = cohort.merge(pred.drop(columns="set"), on="patient_id", validate="one_to_one")
    with open(snakemake.input.fit, encoding="utf-8") as fh:
        fit = json.load(fh)
    time, event = p.endpoint["time"], p.endpoint["event"]
    base = fit["baseline_cumhaz"]
    baseline = (base["time"], base["cumhaz"], fit.get("center_lp", 0.0))
    tables = {"performance": [], "roc": [], "calibration": [], "dca": [], "smooth": [], "histogram": []}
    for i, s in enumerate(p.sets):
        part = data[data["set"] == s]
        # the distribution of predictions under each calibration panel: counts per fixed bin
        for h in p.horizons:
            tables["histogram"].append(prediction_histogram(part[f"surv_{h}"]).assign(set=s, horizon=h))
        res = evaluate_set(
            part[time],
            part[event],
            part["lp"],
            {str(h): part[f"surv_{h}"] for h in p.horizons},
            p.horizons,
            B=p.B,
            rng=stream(p.seed, "c_index_bootstrap", p.endpoint_index, i),
            calibration_groups=p.groups,
            min_events=p.min_events,
            min_at_risk=p.min_at_risk,
            baseline=baseline,
            development=(s == "train"),
            thresholds=p.dca_thresholds,
        )
        if s == "train" and fit["selected"]:
            common = dict(B=p.calibration_B, seed=p.seed, endpoint_index=p.endpoint_index, calibration_groups=p.groups)
            if p.calibration_correction == "selection_aware":
                if snakemake.input.calibration_replicates:
                    # the optimism bootstrap's jobs selected a model in each of these
                    # replicates and recorded its calibration optimism: only the summary is left
                    cal = development_calibration(part, time, event, p.horizons, p.groups)
                    corrected, smooth = cal.summarise(read_replicate_tables(snakemake.input.calibration_replicates))
                    if int(corrected["n_bootstrap"].max()) != p.calibration_B:
                        raise ValueError(
                            f"the bootstrap jobs recorded {int(corrected['n_bootstrap'].max())} calibration "
                            f"replicates; validation.calibration_B asks for {p.calibration_B}"
                        )
                else:  # the same replicates, screening and stepwise selection repeated here
                    sel = SelectionOptions(**p.selection)
                    corrected, smooth = calibrate_selection_aware(
                        part.reset_index(drop=True),
                        p.candidates,
                        time,
                        event,
                        part[[f"surv_{h}" for h in p.horizons]].to_numpy(float),
                        p.horizons,
                        screen_p=sel.screen_p,
                        exclude=p.exclude,
                        method=sel.method,
                        entry_p=sel.entry_p,
                        removal_p=sel.removal_p,
                        entry_test=sel.entry_test,
                        **common,
                    )
                tables["smooth"].append(smooth.assign(set=s, correction="selection repeated"))
            else:  # rms::calibrate(bw = FALSE): the final terms refitted
                corrected = calibrate_bias_corrected(
                    part[time], part[event], model_matrix_from_fit(fit, p.candidates, part), p.horizons, **common
                )
            keep = ["horizon", "group", "optimism", "index_corrected", "km_corrected", "n_bootstrap"]
            res["calibration"] = res["calibration"].merge(corrected[keep], on=["horizon", "group"], how="left")
            res["calibration"]["correction"] = (
                "selection repeated" if p.calibration_correction == "selection_aware" else "final terms refitted"
            )
        for k, v in res.items():
            if len(v):
                # training-set measures are apparent (the model was fitted there)
                evaluation = "apparent" if s == "train" else "validation"
                tables[k].append(v.assign(set=s, evaluation=evaluation)[["set", "evaluation", *v.columns]])
    for k, path in snakemake.output.items():
        # the smooth corrected curve exists only with a training set, a selected model and
        # the selection-aware correction: otherwise an empty table with its columns
        frame = pd.concat(tables[k], ignore_index=True) if tables[k] else pd.DataFrame(columns=SMOOTH_COLUMNS)
        atomic_write_csv(frame, path)
    log.info("%s: validated on %s", ep, p.sets)
