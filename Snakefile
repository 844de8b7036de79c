# Reproducible CRLM prognostic study (Xue et al., BMC Cancer 2025): raw cohort to the
# paper's tables and figures. Thin entry point: config, includes, default target.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


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
include: "workflow/rules/app.smk"
include: "workflow/rules/provenance.smk"
include: "workflow/rules/simulation.smk"


rule all:
    default_target: True
    input:
        OUTPUTS.all(),
