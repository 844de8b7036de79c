"""Rule paper_replicates: every published number on a chunk of replicate cohorts."""

import pandas as pd
import yaml

from crlmflow.data.io import atomic_write_csv
from crlmflow.pipeline.snakeio import logged
from crlmflow.simulation.paper_replicate import VALUE_COLUMNS, run_paper_replicate

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    with open(snakemake.input.targets, encoding="utf-8") as fh:
        targets = yaml.safe_load(fh)
    parts = []
    for rep in p.reps:
        parts.append(run_paper_replicate(p.config, targets, rep, p.seed))
        log.info("replicate %d: %d values", rep, int(parts[-1]["value"].notna().sum()))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=VALUE_COLUMNS)
    atomic_write_csv(table, snakemake.output[0])
