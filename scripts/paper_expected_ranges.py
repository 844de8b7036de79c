"""Rule paper_expected_ranges: expected 95% range of each published number across the
simulation study's replicate cohorts (paper's size, configured procedure)."""

import pandas as pd

from crlmflow.data.io import atomic_write_csv
from crlmflow.pipeline.snakeio import logged
from crlmflow.simulation.expected import expected_ranges
from crlmflow.simulation.study import PAPER_ARM

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    reps = pd.read_csv(snakemake.input.replicates)
    if "arm" in reps:  # the paper's procedure only (the other arms develop differently)
        reps = reps[reps["arm"] == PAPER_ARM]
        if reps.empty:
            raise ValueError(
                f"{snakemake.input.replicates}: no replicate of arm {PAPER_ARM!r}; add it to simulation_study.arms"
            )
    ranges = expected_ranges(reps)
    atomic_write_csv(ranges, snakemake.output[0])
    log.info("expected ranges of %d published numbers from %d replicates", len(ranges), reps["rep"].nunique())
