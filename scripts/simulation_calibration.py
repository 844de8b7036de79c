"""Rule simulation_calibration: the paper beside a large synthetic cohort, with tolerances."""

from crlmflow.data.io import atomic_write_csv
from crlmflow.pipeline.snakeio import logged
from crlmflow.simulation.calibration import calibration_report

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    table = calibration_report(n_eligible=snakemake.params.n, seed=snakemake.params.seed)
    atomic_write_csv(table, snakemake.output[0])
    missed = table.loc[~table["within_tolerance"].astype(bool), "quantity"].tolist()
    log.info("%d calibration targets, %d outside tolerance: %s", len(table), len(missed), missed)
