# Reproducible CRLM prognostic study (Xue et al., BMC Cancer 2025): raw cohort to the
# paper's tables and figures. Thin entry point: config, includes, default target.
from snakemake.utils import min_version

min_version("9.0")


# No `configfile:` directive: Snakemake would merge every --configfile into it, so a
# user's study would silently inherit the paper's endpoints and values. The study is the
# --configfile given (complete in itself, or naming what it extends with `extends:`), or
# the paper's study config/config.yaml when none is given; --config key=value comes last.
from crlmflow.pipeline.config import resolve_config

resolve_config(
    config,
    workflow.overwrite_configfiles,
    overrides=workflow.config_settings.config,
    default="config/config.yaml",
)


# Landing page of `snakemake --report`: the study, its data and how to read the exhibits.
report: "workflow/report/workflow.rst"


# Shared definitions first: config and typed options, cluster resources, the outputs
# registry and report helpers, code dependencies.
include: "workflow/rules/config.smk"
include: "workflow/rules/resources.smk"
include: "workflow/rules/targets.smk"
include: "workflow/rules/code.smk"
# Rules by stage; each file adds its outputs to OUTPUTS.
include: "workflow/rules/data.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/survival.smk"
include: "workflow/rules/validation.smk"
include: "workflow/rules/exhibits.smk"
include: "workflow/rules/comparison.smk"
include: "workflow/rules/competing.smk"
include: "workflow/rules/time_varying.smk"
include: "workflow/rules/app.smk"
include: "workflow/rules/provenance.smk"
include: "workflow/rules/simulation.smk"


rule all:
    default_target: True
    input:
        OUTPUTS.all(),
