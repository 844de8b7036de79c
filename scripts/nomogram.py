"""Rule nomogram: rms-style points scale, per-patient total points, nomogram and forest plots."""

import json

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.model.modelfile import build_nomogram, nomogram_json, selected_predictors
from crlmflow.model.nomogram import total_points
from crlmflow.model.nonlinear import with_spline_effects
from crlmflow.pipeline.provenance import figure_lineage
from crlmflow.pipeline.snakeio import logged
from crlmflow.report.plots import plot_forest, plot_nomogram, save_figure
from crlmflow.report.tables import forest_table

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    train = cohort[cohort["set"] == "train"]
    with open(snakemake.input.fit, encoding="utf-8") as fh:
        fit = json.load(fh)
    multi = pd.read_csv(snakemake.input.multivariable)
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
    label = p.endpoint["label"]
    meta = figure_lineage(snakemake)
    fig = plot_nomogram(
        nomo,
        axes,
        value_labels={pp["name"]: {0: "No", 1: "Yes"} for pp in preds if pp["type"] == "binary"},
        title=f"Nomogram: {label}",
    )
    save_figure(fig, out.nomogram_pdf[: -len(".pdf")], metadata=meta)
    # a spline's coefficients have no per-unit HR: its row is the Q3-vs-Q1 HR (rms summary)
    forest = with_spline_effects(forest_table(multi, p.candidates), fit, p.candidates, train)
    fig = plot_forest(forest, title=f"Multivariable Cox model: {label}")
    save_figure(fig, out.forest_pdf[: -len(".pdf")], metadata=meta)
    log.info(
        "nomogram for %s: %d predictors, %.4g points per unit lp",
        snakemake.wildcards.endpoint,
        len(preds),
        nomo.points_per_unit_lp,
    )
