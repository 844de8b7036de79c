"""Rule clean: validate the raw export, apply eligibility, derive times and events, report data quality."""

from pathlib import Path

from crlmflow.data.cohort import clean_cohort_file
from crlmflow.data.io import atomic_write_csv, atomic_write_json, atomic_write_text
from crlmflow.data.quality import quality_html
from crlmflow.data.stale import data_stage_guard
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    cohort_name = snakemake.wildcards.cohort
    with data_stage_guard(snakemake.config["outdir"], cohort_name, snakemake.input.raw):
        result = clean_cohort_file(
            snakemake.input.raw,
            file_options=snakemake.params.block.get("file") or {},
            source=snakemake.params.block["source"],
            data_options=snakemake.params.data,
            candidates=snakemake.params.candidates,
            endpoints=snakemake.params.endpoints,
            keep=[c for c in [snakemake.params.km_group] if c not in {d["name"] for d in snakemake.params.candidates}],
            config_key=snakemake.params.config_key,
            units_key=f"{snakemake.params.config_key}.units",
            # an external cohort needs only the frozen model's predictors (checked by cox_models)
            candidates_required=cohort_name == "development",
        )
    name = Path(snakemake.input.raw).name
    atomic_write_csv(result.cohort, snakemake.output.cohort)
    atomic_write_csv(result.exclusions, snakemake.output.exclusions)
    atomic_write_json(snakemake.output.flow, result.flow)
    atomic_write_csv(result.quality, snakemake.output.quality)
    atomic_write_text(
        snakemake.output.quality_page,
        quality_html(result.quality, result.flow, f"Data quality: {cohort_name} cohort ({name})"),
    )
    log.info("%s: flow %s", name, result.flow)
