"""Rule paper_expected_ranges: expected 95% range of each published number and each
candidate's selection frequency across the replicate cohorts (paper's size, configured
procedure)."""

import pandas as pd

from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.pipeline.snakeio import logged
from crlmflow.simulation.expected import expected_ranges, selection_frequency

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    values = pd.concat([pd.read_csv(f) for f in snakemake.input.chunks], ignore_index=True)
    found = sorted(values["rep"].unique().tolist())
    if found != list(range(snakemake.params.replicates)):
        raise RuntimeError(f"expected replicates 0..{snakemake.params.replicates - 1}, found {len(found)}")
    values = values.sort_values(["rep"], kind="stable", ignore_index=True)
    ranges = expected_ranges(values)
    atomic_write_csv(ranges, snakemake.output.ranges)
    atomic_write_csv(selection_frequency(values), snakemake.output.selection)
    # what the ranges describe: the paper comparison checks it against the run's procedure
    atomic_write_json(snakemake.output.settings, snakemake.params.settings)
    log.info("expected ranges of %d published numbers from %d replicates", len(ranges), len(found))
