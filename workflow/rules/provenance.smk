# Provenance: one manifest linking every table and figure to its code, config and inputs.


rule provenance:
    input:
        # a function: read once every rule file has added its outputs to the registry
        tracked=lambda wildcards: OUTPUTS.tracked(),
        script="scripts/provenance.py",
        code=code_of("scripts/provenance.py"),
    output:
        manifest=f"{OUT}/provenance.json",
        # the same run as a Provenance Run Crate (code copied under provenance/code/)
        crate=f"{OUT}/ro-crate-metadata.json",
    log:
        f"{OUT}/logs/provenance.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000),
        runtime=runtime_for(10),
    params:
        configfiles=run_configfiles(),
    script:
        "../../scripts/provenance.py"


OUTPUTS.add(rules.provenance.output, tracked=False)
