"""Rule alternative_models: models beyond the paper fitted on the training set and
validated with the paper model's measures."""

import json

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.model.alternatives import fit_alternative, fit_full_model, shrink_coefficients
from crlmflow.model.penalised import fold_ids
from crlmflow.pipeline.options import AlternativeModelOptions
from crlmflow.pipeline.snakeio import logged
from crlmflow.pipeline.streams import stream
from crlmflow.validation.alternatives import evaluate_models, stepwise_shrinkage

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    opts = AlternativeModelOptions(**p.alternatives)
    cohort = read_cohort_csv(snakemake.input.cohort)
    train = cohort[cohort["set"] == "train"].reset_index(drop=True)
    time, event = p.endpoint["time"], p.endpoint["event"]
    with open(snakemake.input.fit, encoding="utf-8") as fh:
        fit = json.load(fh)
    foldid = fold_ids(len(train), opts.cv_folds, stream(p.seed, "penalty_cv_folds", p.endpoint_index))
    models = {}
    for method in opts.methods:
        if method == "shrunk_stepwise":
            if not fit["selected"]:
                log.info("shrunk_stepwise: the stepwise model selected nothing; nothing to shrink")
                continue
            optimism = pd.read_csv(snakemake.input.optimism[0]) if snakemake.input.optimism else None
            lr = fit_full_model(train, p.candidates, time, event, exclude=p.exclude).details["lr_chisq"]
            s, source = stepwise_shrinkage(optimism, lr_chisq=lr, parameters=fit["candidate_parameters"])
            models[method] = shrink_coefficients(
                train,
                p.candidates,
                time,
                event,
                terms=fit["terms"],
                coef=fit["coef"],
                shrinkage=s,
                knots=fit.get("knots"),
            )
            models[method].details["shrinkage_source"] = source
        else:
            models[method] = fit_alternative(
                method,
                train,
                p.candidates,
                time,
                event,
                exclude=p.exclude,
                foldid=foldid,
                elastic_net_l1_ratio=opts.elastic_net_l1_ratio,
                n_alphas=opts.n_alphas,
                rule=opts.penalty_rule,
            )
        log.info("%s: %s", method, models[method].details)
    coefs = [m.coefficients().assign(model=k) for k, m in models.items()]
    coef_cols = ["model", "term", "coef", "hr", "retained"]
    atomic_write_csv(pd.concat(coefs)[coef_cols] if coefs else pd.DataFrame(columns=coef_cols), snakemake.output.coef)
    details = [{"model": k, **m.details} for k, m in models.items()]
    atomic_write_csv(pd.DataFrame(details, columns=None if details else ["model"]), snakemake.output.details)
    cvs = [m.cv.assign(model=k) for k, m in models.items() if m.cv is not None]
    cv_cols = ["model", "alpha", "deviance", "deviance_se", "nonzero", "chosen"]
    atomic_write_csv(pd.concat(cvs)[cv_cols] if cvs else pd.DataFrame(columns=cv_cols), snakemake.output.cv)
    tables = evaluate_models(
        cohort,
        models,
        time,
        event,
        p.horizons,
        p.sets,
        calibration_groups=p.groups,
        min_events=p.min_events,
        min_at_risk=p.min_at_risk,
        thresholds=p.dca_thresholds,
    )
    # performance, then the curves drawn beside the paper model's (model, set, evaluation first)
    for key, path in (
        ("performance", snakemake.output.performance),
        ("roc", snakemake.output.roc),
        ("calibration", snakemake.output.calibration),
        ("dca", snakemake.output.dca),
    ):
        frame = tables[key]
        atomic_write_csv(frame if len(frame.columns) else pd.DataFrame(columns=["model", "set", "evaluation"]), path)
