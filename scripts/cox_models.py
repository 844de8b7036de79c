"""Rule cox_models: univariable screening, stepwise multivariable Cox, PH test, predictions."""

from crlmflow.data.cohort import check_external_predictors, read_cohort_csv
from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.model.modelling import develop_model, fit_summary, predict
from crlmflow.pipeline.options import SelectionOptions
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    train = cohort[cohort["set"] == "train"]
    sel = SelectionOptions(**p.selection)
    model = develop_model(
        train,
        p.candidates,
        snakemake.wildcards.endpoint,
        p.endpoint["time"],
        p.endpoint["event"],
        screen_p=sel.screen_p,
        exclude=p.exclude,
        method=sel.method,
        entry_p=sel.entry_p,
        removal_p=sel.removal_p,
        entry_test=sel.entry_test,
    )
    out = snakemake.output
    atomic_write_csv(model.univariable, out.univariable)
    atomic_write_csv(model.multivariable, out.multivariable)
    atomic_write_csv(model.selection.path, out.path)
    atomic_write_csv(model.ph_test, out.ph_test)
    atomic_write_csv(model.ph_residuals, out.ph_residuals)
    atomic_write_json(out.fit, fit_summary(model, p.horizons))
    check_external_predictors(cohort, model.selected, p.external_file)
    pred = predict(model, cohort, p.horizons)
    pred.insert(0, "set", cohort["set"].to_numpy())
    pred.insert(0, "patient_id", cohort["patient_id"].to_numpy())
    atomic_write_csv(pred, out.predictions)
    log.info(
        "%s: %d training patients, %d events; screened %s; selected %s",
        snakemake.wildcards.endpoint,
        model.n,
        model.events,
        model.selection.screened,
        model.selected,
    )
