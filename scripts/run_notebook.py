"""Run an exhibit notebook with papermill; its figures carry the job's lineage metadata."""

import nbformat
import papermill

from crlmflow.data.io import atomic_write_text
from crlmflow.pipeline.provenance import figure_lineage
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    notebook, executed = snakemake.input.notebook, snakemake.output.notebook
    params = dict(snakemake.params.nb)
    params["lineage"] = figure_lineage(snakemake, code=notebook)
    papermill.execute_notebook(
        notebook, executed, parameters=params, kernel_name="python3", progress_bar=False, log_output=False, cwd="."
    )
    # nbformat and papermill draw random cell ids; number them so that reruns differ
    # only in papermill's execution timestamps.
    nb = nbformat.read(executed, as_version=4)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    atomic_write_text(executed, nbformat.writes(nb))
    log.info("executed %s -> %s", notebook, executed)
