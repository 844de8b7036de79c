"""Rule simulate_cohort: write a synthetic raw hospital export and its ground truth."""

from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.pipeline.snakeio import logged
from crlmflow.simulation.generator import simulate_cohort

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    block = snakemake.params.block["synthetic"]
    # The external centre has its own seed; the development cohort uses the master seed.
    seed = block.get("seed", snakemake.params.seed)
    kwargs = {"case_mix": block.get("case_mix")}
    if snakemake.params.cutoff:
        kwargs["followup_cutoff"] = snakemake.params.cutoff
    raw, truth = simulate_cohort(block["n_eligible"], seed, id_prefix=snakemake.params.id_prefix, **kwargs)
    atomic_write_csv(raw, snakemake.output.raw)
    atomic_write_json(snakemake.output.truth, truth)
    log.info("simulated %d raw rows (%d eligible by design), seed %d", len(raw), block["n_eligible"], seed)
