"""Rule simstudy_summary: gather the replicates; selection, bias, coverage and C-error tables."""

import pandas as pd

from crlmflow.data.io import atomic_write_csv, atomic_write_text
from crlmflow.pipeline.snakeio import logged
from crlmflow.simulation.performance import report_markdown, summarise

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    parts = [pd.read_csv(f, keep_default_na=True) for f in snakemake.input.batches]
    reps = pd.concat(parts, ignore_index=True).sort_values(["rep", "endpoint"], kind="stable", ignore_index=True)
    found = sorted(reps["rep"].unique().tolist())
    if found != list(range(p.settings["replicates"])):
        raise RuntimeError(f"expected replicates 0..{p.settings['replicates'] - 1}, found {len(found)}")
    reference = pd.read_csv(snakemake.input.reference)
    tables = summarise(reps, reference)
    out = snakemake.output
    atomic_write_csv(reps, out.replicates)
    atomic_write_csv(tables["predictors"], out.predictors)
    atomic_write_csv(tables["models"], out.models)
    atomic_write_csv(tables["c_index"], out.c_index)
    atomic_write_text(out.md, report_markdown(tables, p.settings))
    log.info("%d replicates summarised", len(found))
