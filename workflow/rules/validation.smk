# Validation: discrimination, calibration and clinical usefulness per endpoint and set.


rule validate_model:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        predictions=f"{OUT}/models/{{endpoint}}/predictions.csv",
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        script="scripts/validate_model.py",
    output:
        performance=report(
            f"{OUT}/validation/{{endpoint}}/performance.csv",
            caption="../report/performance.rst",
            category="Validation",
            subcategory="{endpoint}",
        ),
        roc=f"{OUT}/validation/{{endpoint}}/roc_curves.csv",
        calibration=f"{OUT}/validation/{{endpoint}}/calibration.csv",
        dca=f"{OUT}/validation/{{endpoint}}/decision_curves.csv",
    log:
        f"{OUT}/logs/validate_model_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 100),
        runtime=runtime_for(10, 2),
    params:
        endpoint=lambda wc: config["endpoints"][wc.endpoint],
        endpoint_index=lambda wc: ENDPOINTS.index(wc.endpoint),
        candidates=config["candidates"],
        horizons=config["horizons"],
        sets=SETS,
        B=config["validation"]["bootstrap_B"],
        calibration_B=config["validation"]["calibration_B"],
        groups=config["validation"]["calibration_groups"],
        seed=config["seed"],
    script:
        "../../scripts/validate_model.py"


rule bootstrap_chunk:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        script="scripts/bootstrap_chunk.py",
    output:
        f"{OUT}/validation/{{endpoint}}/bootstrap/chunk_{{chunk}}.csv",
    log:
        f"{OUT}/logs/bootstrap_chunk_{{endpoint}}_{{chunk}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 150),
        runtime=chunk_runtime,
    params:
        endpoint=lambda wc: config["endpoints"][wc.endpoint],
        endpoint_index=lambda wc: ENDPOINTS.index(wc.endpoint),
        candidates=config["candidates"],
        exclude=config.get("exclude_from_multivariable", []),
        selection=config["selection"],
        horizons=config["horizons"],
        seed=config["seed"],
        first=lambda wc: chunk_range(int(wc.chunk))[0],
        last=lambda wc: chunk_range(int(wc.chunk))[1],
    script:
        "../../scripts/bootstrap_chunk.py"


rule bootstrap_gather:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        chunks=expand(
            f"{OUT}/validation/{{{{endpoint}}}}/bootstrap/chunk_{{chunk}}.csv",
            chunk=range(N_CHUNKS),
        ),
        script="scripts/bootstrap_gather.py",
    output:
        replicates=f"{OUT}/validation/{{endpoint}}/bootstrap_replicates.csv",
        optimism=report(
            f"{OUT}/validation/{{endpoint}}/optimism.csv",
            caption="../report/optimism.rst",
            category="Validation",
            subcategory="{endpoint}",
        ),
        stability=report(
            f"{OUT}/validation/{{endpoint}}/selection_frequency.csv",
            caption="../report/selection_frequency.rst",
            category="Validation",
            subcategory="{endpoint}",
        ),
    log:
        f"{OUT}/logs/bootstrap_gather_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 300),
        runtime=runtime_for(10, 2),
    params:
        endpoint=lambda wc: config["endpoints"][wc.endpoint],
        candidates=config["candidates"],
        exclude=config.get("exclude_from_multivariable", []),
        selection=config["selection"],
        horizons=config["horizons"],
    script:
        "../../scripts/bootstrap_gather.py"
