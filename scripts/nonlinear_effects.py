"""Rule nonlinear_effects: rms-style Wald anova of the final model and its partial effects."""

import json

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.model.nonlinear import model_anova, partial_effects
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    train = cohort[cohort["set"] == "train"]
    with open(snakemake.input.fit, encoding="utf-8") as fh:
        fit = json.load(fh)
    anova = model_anova(fit, p.candidates)
    effects = partial_effects(fit, p.candidates, train) if fit.get("terms") else pd.DataFrame()
    atomic_write_csv(anova, snakemake.output.anova)
    atomic_write_csv(effects, snakemake.output.partial_effects)
    log.info(
        "%s: anova of %d predictor(s), %d spline(s); partial effects of %s",
        snakemake.wildcards.endpoint,
        int((anova["part"] == "all").sum()) if len(anova) else 0,
        len(fit.get("knots", {})),
        sorted(effects["variable"].unique()) if len(effects) else [],
    )
