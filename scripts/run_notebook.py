"""Run an exhibit notebook with papermill; its figures carry the job's lineage metadata."""

from crlmflow.pipeline.notebooks import execute_notebook
from crlmflow.pipeline.provenance import figure_lineage
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    notebook, executed = snakemake.input.notebook, snakemake.output.notebook
    params = dict(snakemake.params.nb)
    params["lineage"] = figure_lineage(snakemake, code=notebook)
    attempts = execute_notebook(notebook, executed, params, log)
    log.info("executed %s -> %s (%d attempt(s))", notebook, executed, attempts)
