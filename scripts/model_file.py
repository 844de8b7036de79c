"""Rule model_file: the portable model.json (coefficients, baseline, points tables, cut-off)
and the input CSV template ``score`` needs for it."""

import json

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.model.modelfile import build_model_file, input_template, sha256_frame
from crlmflow.pipeline.config import config_hash
from crlmflow.pipeline.options import PredictionOptions
from crlmflow.pipeline.snakeio import logged


def _load(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    train = cohort[cohort["set"] == "train"]
    model = build_model_file(
        endpoint=snakemake.wildcards.endpoint,
        endpoint_label=p.endpoint["label"],
        fit=_load(snakemake.input.fit),
        nomogram=_load(snakemake.input.nomogram),
        cutpoint={k: v for k, v in _load(snakemake.input.cutpoint).items() if k != "curve"},
        candidates=p.candidates,
        train=train,
        horizons=p.horizons,
        data_sha256=sha256_frame(train),
        config_sha256=config_hash(p.settings),
        synthetic=p.synthetic,
        conf_type=PredictionOptions(**p.prediction).conf_type,
    )
    atomic_write_json(snakemake.output.model, model)
    atomic_write_csv(input_template(model), snakemake.output.template)
    log.info("model file for %s: %d terms", snakemake.wildcards.endpoint, len(model["terms"]))
