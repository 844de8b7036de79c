# Validation: discrimination, calibration and clinical usefulness per endpoint and set,
# and Harrell's optimism bootstrap (skipped when validation.bootstrap_B is 0).


# The selection-aware calibration bootstrap's replicates come from the optimism
# bootstrap's jobs when they run them (validation.calibration_B <= bootstrap_B); otherwise
# validate_model runs the same replicates itself.
CALIBRATION_CHUNKS = (
    expand(
        f"{OUT}/validation/{{{{endpoint}}}}/bootstrap/calibration_{{chunk}}.csv",
        chunk=range(VALIDATION.n_chunks),
    )
    if VALIDATION.calibration_in_bootstrap
    else []
)


rule validate_model:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        predictions=f"{OUT}/models/{{endpoint}}/predictions.csv",
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        calibration_replicates=CALIBRATION_CHUNKS,
        script="scripts/validate_model.py",
        code=code_of("scripts/validate_model.py"),
    output:
        performance=in_report(
            f"{OUT}/validation/{{endpoint}}/performance.csv",
            "performance",
            PER_ENDPOINT_MODELS,
            **PER_ENDPOINT,
        ),
        roc=f"{OUT}/validation/{{endpoint}}/roc_curves.csv",
        calibration=f"{OUT}/validation/{{endpoint}}/calibration.csv",
        dca=f"{OUT}/validation/{{endpoint}}/decision_curves.csv",
        smooth=f"{OUT}/validation/{{endpoint}}/calibration_smooth.csv",
        histogram=f"{OUT}/validation/{{endpoint}}/prediction_histogram.csv",
    log:
        f"{OUT}/logs/validate_model_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 100),
        runtime=runtime_for(10, 2),
    params:
        endpoint=endpoint_spec,
        endpoint_index=endpoint_index,
        candidates=config["candidates"],
        horizons=config["horizons"],
        sets=SETS,
        B=VALIDATION.bootstrap_B,
        calibration_B=VALIDATION.calibration_B,
        groups=VALIDATION.calibration_groups,
        calibration_correction=VALIDATION.calibration_correction,
        selection=SELECTION.as_dict(),
        exclude=config["exclude_from_multivariable"],
        min_events=VALIDATION.min_events_at_horizon,
        min_at_risk=VALIDATION.min_at_risk_at_horizon,
        dca_thresholds=VALIDATION.dca_thresholds,
        seed=config["seed"],
    script:
        "../../scripts/validate_model.py"


OUTPUTS.add(rules.validate_model.output, endpoint=ENDPOINTS)


# External cohort only: how far it lies outside the development data, and the frozen
# model updated on it (recalibration in the large, slope recalibration), reported beside
# the frozen model's performance, never instead of it.
rule external_validation:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        predictions=f"{OUT}/models/{{endpoint}}/predictions.csv",
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        script="scripts/external_validation.py",
        code=code_of("scripts/external_validation.py"),
    output:
        extrapolation=f"{OUT}/validation/{{endpoint}}/extrapolation.csv",
        updating=f"{OUT}/validation/{{endpoint}}/updating.csv",
        calibration=f"{OUT}/validation/{{endpoint}}/updating_calibration.csv",
    log:
        f"{OUT}/logs/external_validation_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 100),
        runtime=runtime_for(10, 2),
    params:
        endpoint=endpoint_spec,
        candidates=config["candidates"],
        horizons=config["horizons"],
        groups=VALIDATION.calibration_groups,
    script:
        "../../scripts/external_validation.py"


if SPLIT == "external":
    OUTPUTS.add(rules.external_validation.output, endpoint=ENDPOINTS)


# Each job also records the calibration optimism of its replicates b < calibration_B
# against the final model's apparent predictions (an empty table otherwise).
rule bootstrap_chunk:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        predictions=(
            f"{OUT}/models/{{endpoint}}/predictions.csv"
            if VALIDATION.calibration_in_bootstrap
            else []
        ),
        fit=(
            f"{OUT}/models/{{endpoint}}/fit.json"
            if VALIDATION.calibration_in_bootstrap
            else []
        ),
        script="scripts/bootstrap_chunk.py",
        code=code_of("scripts/bootstrap_chunk.py"),
    output:
        replicates=f"{OUT}/validation/{{endpoint}}/bootstrap/chunk_{{chunk}}.csv",
        calibration=f"{OUT}/validation/{{endpoint}}/bootstrap/calibration_{{chunk}}.csv",
    log:
        f"{OUT}/logs/bootstrap_chunk_{{endpoint}}_{{chunk}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 150),
        runtime=chunk_runtime,
    params:
        endpoint=endpoint_spec,
        endpoint_index=endpoint_index,
        candidates=config["candidates"],
        exclude=config["exclude_from_multivariable"],
        selection=SELECTION.as_dict(),
        horizons=config["horizons"],
        seed=config["seed"],
        nb_thresholds=VALIDATION.optimism_thresholds,
        calibration_B=(
            VALIDATION.calibration_B if VALIDATION.calibration_in_bootstrap else 0
        ),
        groups=VALIDATION.calibration_groups,
        first=lambda wc: VALIDATION.chunk_range(int(wc.chunk))[0],
        last=lambda wc: VALIDATION.chunk_range(int(wc.chunk))[1],
    script:
        "../../scripts/bootstrap_chunk.py"


rule bootstrap_gather:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        chunks=expand(
            f"{OUT}/validation/{{{{endpoint}}}}/bootstrap/chunk_{{chunk}}.csv",
            chunk=range(VALIDATION.n_chunks),
        ),
        script="scripts/bootstrap_gather.py",
        code=code_of("scripts/bootstrap_gather.py"),
    output:
        replicates=f"{OUT}/validation/{{endpoint}}/bootstrap_replicates.csv",
        optimism=in_report(
            f"{OUT}/validation/{{endpoint}}/optimism.csv",
            "optimism",
            PER_ENDPOINT_MODELS,
            **PER_ENDPOINT,
        ),
        stability=in_report(
            f"{OUT}/validation/{{endpoint}}/selection_frequency.csv",
            "selection_frequency",
            PER_ENDPOINT_MODELS,
            **PER_ENDPOINT,
        ),
        models=f"{OUT}/validation/{{endpoint}}/selection_models.csv",
        pairs=f"{OUT}/validation/{{endpoint}}/selection_pairs.csv",
        coefficients=f"{OUT}/validation/{{endpoint}}/coefficient_stability.csv",
    log:
        f"{OUT}/logs/bootstrap_gather_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 300),
        runtime=runtime_for(10, 2),
    params:
        endpoint=endpoint_spec,
        candidates=config["candidates"],
        exclude=config["exclude_from_multivariable"],
        selection=SELECTION.as_dict(),
        horizons=config["horizons"],
        min_events=VALIDATION.min_events_at_horizon,
        min_at_risk=VALIDATION.min_at_risk_at_horizon,
        nb_thresholds=VALIDATION.optimism_thresholds,
    script:
        "../../scripts/bootstrap_gather.py"


# With bootstrap_B = 0 no bootstrap job is part of the run and no rule asks for its tables.
OPTIMISM_TABLES = []
if VALIDATION.optimism_computed:
    OPTIMISM_TABLES = OUTPUTS.add(
        [
            rules.bootstrap_gather.output.optimism,
            rules.bootstrap_gather.output.stability,
        ],
        endpoint=ENDPOINTS,
    )
    OUTPUTS.add(rules.bootstrap_gather.output.replicates, endpoint=ENDPOINTS)
    OUTPUTS.add(
        [
            rules.bootstrap_gather.output.models,
            rules.bootstrap_gather.output.pairs,
            rules.bootstrap_gather.output.coefficients,
        ],
        endpoint=ENDPOINTS,
    )


# Beyond the paper (alternative_models.methods, none by default): a pre-specified full
# model, penalised Cox models and the shrunk stepwise model, fitted on the training set
# and validated with the paper model's measures and curves (ROC, calibration, decision
# curves, drawn by exhibit_alternatives_validation). The shrinkage factor is the bootstrap
# calibration slope when the optimism bootstrap runs.
rule alternative_models:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        optimism=(
            [f"{OUT}/validation/{{endpoint}}/optimism.csv"]
            if VALIDATION.optimism_computed
            and "shrunk_stepwise" in ALTERNATIVES.methods
            else []
        ),
        script="scripts/alternative_models.py",
        code=code_of("scripts/alternative_models.py"),
    output:
        coef=f"{OUT}/models/{{endpoint}}/alternatives/coefficients.csv",
        details=f"{OUT}/models/{{endpoint}}/alternatives/models.csv",
        cv=f"{OUT}/models/{{endpoint}}/alternatives/penalty_cv.csv",
        performance=in_report(
            f"{OUT}/validation/{{endpoint}}/alternatives_performance.csv",
            "alternatives_performance",
            BEYOND,
            endpoint_section("Alternative models"),
        ),
        roc=f"{OUT}/validation/{{endpoint}}/alternatives_roc_curves.csv",
        calibration=f"{OUT}/validation/{{endpoint}}/alternatives_calibration.csv",
        dca=f"{OUT}/validation/{{endpoint}}/alternatives_decision_curves.csv",
    log:
        f"{OUT}/logs/alternative_models_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 100),
        runtime=runtime_for(20, 5),
    params:
        endpoint=endpoint_spec,
        endpoint_index=endpoint_index,
        candidates=config["candidates"],
        exclude=config["exclude_from_multivariable"],
        horizons=config["horizons"],
        sets=SETS,
        alternatives=ALTERNATIVES.as_dict(),
        groups=VALIDATION.calibration_groups,
        min_events=VALIDATION.min_events_at_horizon,
        min_at_risk=VALIDATION.min_at_risk_at_horizon,
        dca_thresholds=VALIDATION.dca_thresholds,
        seed=config["seed"],
    script:
        "../../scripts/alternative_models.py"


if ALTERNATIVES.methods:
    OUTPUTS.add(rules.alternative_models.output, endpoint=ENDPOINTS)
