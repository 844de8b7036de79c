"""Rule simstudy_replicate: the paper's whole procedure on one simulated cohort."""

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.pipeline.snakeio import logged
from crlmflow.simulation.study import run_replicate

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    rep = int(snakemake.wildcards.rep)
    truth_cohort = read_cohort_csv(snakemake.input.truth_cohort)
    table = run_replicate(p.config, rep, p.seed, truth_cohort)
    atomic_write_csv(table, snakemake.output[0])
    for ep, g in table.groupby("endpoint", sort=False):
        r = g.iloc[0]
        log.info(
            "replicate %d %s: selected %s; C apparent %.3f, split %.3f, corrected %.3f, true %.3f",
            rep,
            ep,
            r["selected_terms"] or "nothing",
            r["c_apparent"],
            r["c_split"],
            r["c_corrected"],
            r["c_true"],
        )
