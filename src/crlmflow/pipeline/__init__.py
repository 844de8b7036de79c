"""Workflow plumbing shared by every rule: config, Snakemake glue, provenance, random streams.

``config`` (schema validation and defaults; the schema ``config.schema.yaml`` ships here),
``options`` (typed views of config sections), ``targets`` (the outputs registry behind
``rule all``), ``codedeps`` (the package modules a script or notebook runs, declared as rule
inputs), ``snakeio`` (thin-script glue and logging), ``provenance`` (lineage records,
manifest, audit), ``envlock`` (conda file in step with the pip lock), ``streams`` (named
random streams from the study seed).
"""
