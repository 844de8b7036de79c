"""Rule derive_indices: NLR, PLR, SII, the CRS items, score and group."""

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.indices import derive_indices
from crlmflow.data.io import atomic_write_csv
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    cohort = read_cohort_csv(snakemake.input.cohort)
    # A generic study has no CRLM labs or CRS ingredients: nothing to derive.
    if not snakemake.params.generic:
        cohort = derive_indices(cohort)
    atomic_write_csv(cohort, snakemake.output[0])
    log.info("derived indices for %d patients", len(cohort))
