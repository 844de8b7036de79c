"""Rule km_summaries: Kaplan-Meier curves, numbers at risk, rates and log-rank tests."""

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.pipeline.snakeio import logged
from crlmflow.survival.summaries import km_summaries

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    # risk groups differ per endpoint: one column per endpoint's own groups
    for ep, path in zip(p.endpoints, snakemake.input.groups):
        g = pd.read_csv(path, dtype={"patient_id": str})[["patient_id", "risk_group"]]
        cohort = cohort.merge(g.rename(columns={"risk_group": f"risk_group_{ep}"}), on="patient_id", how="left")
    results = {}
    for ep, spec in p.endpoints.items():
        panels = [
            {"name": "overall", "group": None, "sets": ["all", *p.sets]},
            {"name": "risk_group", "group": f"risk_group_{ep}", "sets": p.sets},
        ]
        if p.km_group:
            panels.append({"name": p.km_group, "group": p.km_group, "sets": ["all"]})
        if "kras" in cohort and cohort["kras"].notna().any():
            panels.append({"name": "kras", "group": "kras", "sets": ["all"]})
        res = km_summaries(cohort, {ep: spec}, panels, conf_type=p.conf_type, horizons=p.horizons)
        for k, v in res.items():
            results.setdefault(k, []).append(v)
    for k, path in snakemake.output.items():
        atomic_write_csv(pd.concat(results[k], ignore_index=True), path)
    log.info("Kaplan-Meier summaries for %s", list(p.endpoints))
