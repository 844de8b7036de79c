"""Rule provenance: gather every job's lineage record into provenance.json, and the run
into a Provenance Run Crate (ro-crate-metadata.json)."""

from crlmflow.data.io import atomic_write_json
from crlmflow.pipeline.crate import write_crate
from crlmflow.pipeline.provenance import build_manifest, load_records, records_behind
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    outdir = snakemake.config["outdir"]
    # only this run's jobs: a folder reused across runs can hold records of other DAGs
    records = records_behind(load_records(outdir), snakemake.input.tracked)
    manifest = build_manifest(outdir, records)
    missing = [
        f
        for f in snakemake.input.tracked
        if f not in manifest["entries"]
        and f.endswith((".csv", ".pdf", ".png", ".md", ".html"))
        and "/notebooks/" not in f
    ]
    if missing:
        raise RuntimeError(f"no lineage record for {len(missing)} output(s), e.g. {missing[:3]}")
    manifest["configfiles"] = list(snakemake.params.configfiles)
    atomic_write_json(snakemake.output.manifest, manifest)
    write_crate(outdir, records)
    log.info("provenance manifest: %d tables and figures", len(manifest["entries"]))
