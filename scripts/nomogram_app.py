"""Rule nomogram_app: the offline, single-file nomogram calculator page of every endpoint's model."""

import pandas as pd

from crlmflow.app.calculator import build_app, git_commit
from crlmflow.data.io import atomic_write_text
from crlmflow.model.modelfile import load_model
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    models = {ep: load_model(path) for ep, path in zip(snakemake.params.endpoints, snakemake.input.models)}
    hashes = {m["training_data_sha256"] for m in models.values()}
    commit = git_commit()
    # with an external cohort: how much of it the model extrapolated for (counts only)
    external = {
        ep: pd.read_csv(path).to_dict("records")
        for ep, path in zip(snakemake.params.endpoints, snakemake.input.extrapolation)
    }
    page = build_app(
        models, commit=commit, data_sha256=hashes.pop() if len(hashes) == 1 else None, external=external or None
    )
    atomic_write_text(snakemake.output[0], page)
    log.info("calculator page for %s (%d characters, commit %s)", ", ".join(models), len(page), commit or "unknown")
