"""Rule external_validation: extrapolation accounting and model updating on the external cohort."""

import json

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.pipeline.snakeio import logged
from crlmflow.validation.extrapolation import any_outside, extrapolation_table
from crlmflow.validation.performance import evaluate_set
from crlmflow.validation.updating import UPDATES, recalibrate, updated_survival

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    ep = snakemake.wildcards.endpoint
    cohort = read_cohort_csv(snakemake.input.cohort)
    pred = pd.read_csv(snakemake.input.predictions, dtype={"patient_id": str})
    data = cohort.merge(pred.drop(columns="set"), on="patient_id", validate="one_to_one")
    with open(snakemake.input.fit, encoding="utf-8") as fh:
        fit = json.load(fh)
    time, event = p.endpoint["time"], p.endpoint["event"]
    dev, ext = data[data["set"] == "train"], data[data["set"] == "validation"]

    extrap = extrapolation_table(dev, ext, p.candidates, in_model=fit["selected"])
    atomic_write_csv(extrap, snakemake.output.extrapolation)

    updates = recalibrate(ext[time], ext[event], ext["lp"])
    perf, cal = [], []
    frozen = evaluate_set(
        ext[time],
        ext[event],
        ext["lp"],
        {str(h): ext[f"surv_{h}"] for h in p.horizons},
        p.horizons,
        B=0,
        rng=None,
        calibration_groups=p.groups,
    )
    cal.append(frozen["calibration"].assign(model="frozen"))
    for name in UPDATES:
        upd = updates[name]
        res = evaluate_set(
            ext[time],
            ext[event],
            ext["lp"],
            updated_survival(upd, ext["lp"].to_numpy(), p.horizons),
            p.horizons,
            B=0,
            rng=None,
            calibration_groups=p.groups,
        )
        keep = res["performance"]["measure"].isin(["brier", "ipa", "ici", "e50", "e90"])
        rows = res["performance"][keep].assign(model=name)
        slope = pd.DataFrame(
            [
                {
                    "measure": "lp_coefficient",
                    "horizon": float("nan"),
                    "estimate": upd.slope,
                    "se": upd.se,
                    "lower": upd.lower,
                    "upper": upd.upper,
                    "method": "coefficient of the frozen lp in the updated model (1 = kept)",
                    "model": name,
                }
            ]
        )
        perf += [slope, rows]
        cal.append(res["calibration"].assign(model=name))
    perf = pd.concat(perf, ignore_index=True)
    atomic_write_csv(perf[["model", *[c for c in perf.columns if c != "model"]]], snakemake.output.updating)
    cal = pd.concat(cal, ignore_index=True)
    atomic_write_csv(cal[["model", *[c for c in cal.columns if c != "model"]]], snakemake.output.calibration)
    log.info(
        "%s: external cohort of %d patients; outside the development data on a model predictor: %s; "
        "calibration slope %.3f",
        ep,
        len(ext),
        any_outside(extrap),
        updates["slope_recalibrated"].slope,
    )
