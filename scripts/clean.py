"""Rule clean: validate the raw export, apply eligibility, derive times and events."""

from pathlib import Path

from crlmflow.data.cohort import clean_cohort_file
from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    result = clean_cohort_file(
        snakemake.input.raw,
        file_options=snakemake.params.block.get("file") or {},
        source=snakemake.params.block["source"],
        data_options=snakemake.params.data,
        candidates=snakemake.params.candidates,
        endpoints=snakemake.params.endpoints,
        keep=[c for c in [snakemake.params.km_group] if c not in {d["name"] for d in snakemake.params.candidates}],
    )
    atomic_write_csv(result.cohort, snakemake.output.cohort)
    atomic_write_csv(result.exclusions, snakemake.output.exclusions)
    atomic_write_json(snakemake.output.flow, result.flow)
    log.info("%s: flow %s", Path(snakemake.input.raw).name, result.flow)
