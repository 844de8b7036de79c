"""Rule nomogram: rms-style points scale and per-patient total points.

The nomogram and forest plots are drawn once, as panels of Figures 2/3 (rule
exhibit_figure_model), so each panel has one source."""

import json

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.model.modelfile import build_nomogram, nomogram_json, selected_predictors
from crlmflow.model.nomogram import total_points
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    train = cohort[cohort["set"] == "train"]
    with open(snakemake.input.fit, encoding="utf-8") as fh:
        fit = json.load(fh)
    out = snakemake.output
    if not fit["selected"]:
        raise ValueError(
            f"endpoint {snakemake.wildcards.endpoint}: no predictor was selected; a nomogram needs at least one"
        )
    nomo, axes = build_nomogram(fit, p.candidates, train, p.horizons)
    atomic_write_json(out.nomogram, nomogram_json(nomo, axes))
    preds = selected_predictors(fit, p.candidates)
    coefs = dict(zip(fit["terms"], fit["coef"]))
    points = cohort[["patient_id", "set"]].copy()
    points["total_points"] = total_points(coefs, preds, cohort, nomogram=nomo)
    atomic_write_csv(points, out.points)
    log.info(
        "nomogram for %s: %d predictors, %.4g points per unit lp",
        snakemake.wildcards.endpoint,
        len(preds),
        nomo.points_per_unit_lp,
    )
