"""Workflow plumbing shared by every rule: config, Snakemake glue, provenance, random streams.

``config`` (schema validation), ``snakeio`` (thin-script glue and logging), ``provenance``
(lineage records, manifest, audit), ``envlock`` (conda file in step with the pip lock),
``streams`` (named random streams from the study seed).
"""
