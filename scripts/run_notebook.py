"""Run an exhibit notebook with papermill; its figures carry the job's lineage metadata."""

import papermill

from crlmflow.provenance import figure_lineage
from crlmflow.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    notebook = snakemake.input.notebook
    params = dict(snakemake.params.nb)
    params["lineage"] = figure_lineage(snakemake, code=notebook)
    papermill.execute_notebook(notebook, snakemake.output.notebook, parameters=params, kernel_name="python3",
                               progress_bar=False, log_output=False, cwd=".")
    log.info("executed %s -> %s", notebook, snakemake.output.notebook)
