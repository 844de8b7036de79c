"""Rule competing_risks: cause-specific Cox models of recurrence and death without recurrence,
the absolute risk of recurrence, and its competing-risk validation per set."""

import json

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.model.competing import develop_cause_specific, predict_absolute_risk
from crlmflow.pipeline.options import SelectionOptions
from crlmflow.pipeline.snakeio import logged
from crlmflow.validation.competing import competing_performance

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    if p.status not in cohort.columns:
        raise ValueError(
            f"{snakemake.input.cohort}: no column {p.status!r}; competing_risks needs data.rfs_status: true"
        )
    sel = SelectionOptions(**p.selection)
    train = cohort[cohort["set"] == "train"]
    models = develop_cause_specific(
        train,
        p.candidates,
        "recurrence",
        p.time,
        p.status,
        screen_p=sel.screen_p,
        exclude=p.exclude,
        method=sel.method,
        entry_p=sel.entry_p,
        removal_p=sel.removal_p,
        entry_test=sel.entry_test,
    )
    cause = models.cause
    summary = {
        "time": p.time,
        "status": p.status,
        "n": cause.n,
        "events_cause": cause.events,
        "events_competing": models.competing_events,
        "selected": cause.selected,
        "terms": list(cause.fit.names) if cause.fit is not None else [],
        "coef_cause": cause.fit.coef.tolist() if cause.fit is not None else [],
        "coef_competing": models.competing_fit.coef.tolist() if models.competing_fit is not None else [],
        "horizons": list(p.horizons),
        "risk": "cumulative incidence of recurrence, product-limit (riskRegression CSC predictRisk)",
    }
    atomic_write_json(snakemake.output.model, summary)
    risk = predict_absolute_risk(models, cohort, p.horizons)
    tables = []
    for name in sorted(cohort["set"].unique()):
        rows = (cohort["set"] == name).to_numpy()
        part = cohort[rows]
        perf = competing_performance(
            part[p.time],
            part[p.status],
            risk[rows],
            p.horizons,
            min_events=p.min_events,
            min_at_risk=p.min_at_risk,
        )
        perf.insert(0, "evaluation", "apparent" if name == "train" else "validation")
        perf.insert(0, "set", name)
        tables.append(perf)
    atomic_write_csv(pd.concat(tables, ignore_index=True), snakemake.output.performance)
    log.info("competing risks: %s", json.dumps({k: summary[k] for k in ("n", "events_cause", "events_competing")}))
