# Modelling: univariable screening and stepwise multivariable Cox per endpoint (Table 2),
# nomogram, cut-off and risk groups, and the portable model file.


rule cox_models:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        script="scripts/cox_models.py",
        code=code_of("scripts/cox_models.py"),
    output:
        univariable=in_report(
            f"{OUT}/models/{{endpoint}}/univariable.csv",
            "univariable",
            PER_ENDPOINT_MODELS,
            **PER_ENDPOINT,
        ),
        multivariable=in_report(
            f"{OUT}/models/{{endpoint}}/multivariable.csv",
            "multivariable",
            PER_ENDPOINT_MODELS,
            **PER_ENDPOINT,
        ),
        path=f"{OUT}/models/{{endpoint}}/selection_path.csv",
        ph_test=in_report(
            f"{OUT}/models/{{endpoint}}/ph_test.csv",
            "ph_test",
            PER_ENDPOINT_MODELS,
            **PER_ENDPOINT,
        ),
        ph_residuals=f"{OUT}/models/{{endpoint}}/ph_residuals.csv",
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        predictions=f"{OUT}/models/{{endpoint}}/predictions.csv",
    log:
        f"{OUT}/logs/cox_models_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 300),
        runtime=runtime_for(10, 2),
    params:
        candidates=config["candidates"],
        exclude=config["exclude_from_multivariable"],
        selection=SELECTION.as_dict(),
        horizons=config["horizons"],
        endpoint=endpoint_spec,
        # named in the error when the external file lacks a predictor of the frozen model
        external_file=external_file_name(),
    script:
        "../../scripts/cox_models.py"


OUTPUTS.add(rules.cox_models.output, endpoint=ENDPOINTS)


rule nonlinear_effects:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        script="scripts/nonlinear_effects.py",
        code=code_of("scripts/nonlinear_effects.py"),
    output:
        anova=in_report(
            f"{OUT}/models/{{endpoint}}/anova.csv",
            "anova",
            PER_ENDPOINT_MODELS,
            **PER_ENDPOINT,
        ),
        partial_effects=f"{OUT}/models/{{endpoint}}/partial_effects.csv",
    log:
        f"{OUT}/logs/nonlinear_effects_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 30),
        runtime=runtime_for(10, 1),
    params:
        candidates=config["candidates"],
    script:
        "../../scripts/nonlinear_effects.py"


OUTPUTS.add(rules.nonlinear_effects.output, endpoint=ENDPOINTS)


rule nomogram:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        script="scripts/nomogram.py",
        code=code_of("scripts/nomogram.py"),
    output:
        nomogram=f"{OUT}/models/{{endpoint}}/nomogram.json",
        points=f"{OUT}/models/{{endpoint}}/points.csv",
    log:
        f"{OUT}/logs/nomogram_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 30),
        runtime=runtime_for(10, 1),
    params:
        candidates=config["candidates"],
        horizons=config["horizons"],
        endpoint=endpoint_spec,
    script:
        "../../scripts/nomogram.py"


OUTPUTS.add(rules.nomogram.output, endpoint=ENDPOINTS)


rule risk_groups:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        points=f"{OUT}/models/{{endpoint}}/points.csv",
        script="scripts/risk_groups.py",
        code=code_of("scripts/risk_groups.py"),
    output:
        cutpoint=f"{OUT}/models/{{endpoint}}/cutpoint.json",
        groups=f"{OUT}/models/{{endpoint}}/risk_groups.csv",
        figure_pdf=f"{OUT}/figures/cutpoint_{{endpoint}}.pdf",
        figure_png=in_report(
            f"{OUT}/figures/cutpoint_{{endpoint}}.png",
            "cutpoint",
            SUPPLEMENT,
            cutpoint_section,
        ),
    log:
        f"{OUT}/logs/risk_groups_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 50),
        runtime=runtime_for(10, 2),
    params:
        endpoint=endpoint_spec,
        minprop=VALIDATION.cutpoint_minprop,
        n_perm=VALIDATION.cutpoint_permutations,
        bootstrap_B=VALIDATION.cutpoint_bootstrap_B,
        seed=config["seed"],
    script:
        "../../scripts/risk_groups.py"


OUTPUTS.add(rules.risk_groups.output, endpoint=ENDPOINTS)


rule model_file:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        nomogram=f"{OUT}/models/{{endpoint}}/nomogram.json",
        cutpoint=f"{OUT}/models/{{endpoint}}/cutpoint.json",
        script="scripts/model_file.py",
        code=code_of("scripts/model_file.py"),
    output:
        model=f"{OUT}/models/{{endpoint}}/model.json",
        template=f"{OUT}/models/{{endpoint}}/input_template.csv",
    log:
        f"{OUT}/logs/model_file_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 30),
        runtime=runtime_for(10, 1),
    params:
        candidates=config["candidates"],
        horizons=config["horizons"],
        endpoint=endpoint_spec,
        settings=model_settings,
        synthetic=config["data"]["source"] == "synthetic",
        prediction=PREDICTION.as_dict(),
    script:
        "../../scripts/model_file.py"


OUTPUTS.add(rules.model_file.output, endpoint=ENDPOINTS)


# Beyond the paper: Riley et al.'s minimum sample size for the development data (cheap,
# so in every run; it changes none of the paper's numbers).
rule sample_size:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        script="scripts/sample_size.py",
        code=code_of("scripts/sample_size.py"),
    output:
        sample_size=f"{OUT}/models/{{endpoint}}/sample_size.csv",
    log:
        f"{OUT}/logs/sample_size_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 30),
        runtime=runtime_for(10, 1),
    params:
        candidates=config["candidates"],
        exclude=config["exclude_from_multivariable"],
        endpoint=endpoint_spec,
        sample_size=SAMPLE_SIZE.as_dict(),
    script:
        "../../scripts/sample_size.py"


OUTPUTS.add(rules.sample_size.output, endpoint=ENDPOINTS)


# Beyond the paper (data.missing_predictors: multiple_imputation): the paper's procedure in
# each of m imputed training sets, final terms by the majority rule, coefficients pooled by
# Rubin's rules, C pooled with the optimism bootstrap within each imputed dataset.
rule multiple_imputation:
    input:
        cohort=MI_COHORT["incomplete"],
        script="scripts/multiple_imputation.py",
        code=code_of("scripts/multiple_imputation.py"),
    output:
        pooled=in_report(
            f"{OUT}/models/{{endpoint}}/mi/pooled.csv",
            "mi_pooled",
            BEYOND,
            endpoint_section("Multiple imputation"),
        ),
        selection=f"{OUT}/models/{{endpoint}}/mi/selection.csv",
        performance=in_report(
            f"{OUT}/models/{{endpoint}}/mi/performance.csv",
            "mi_performance",
            BEYOND,
            endpoint_section("Multiple imputation"),
        ),
        per_imputation=f"{OUT}/models/{{endpoint}}/mi/per_imputation.csv",
        imputed=f"{OUT}/models/{{endpoint}}/mi/imputed.csv",
    log:
        f"{OUT}/logs/multiple_imputation_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 100),
        runtime=runtime_for(30, 20),
    params:
        endpoint=endpoint_spec,
        endpoint_index=endpoint_index,
        candidates=config["candidates"],
        exclude=config["exclude_from_multivariable"],
        selection=SELECTION.as_dict(),
        imputation=IMPUTATION.as_dict(),
        seed=config["seed"],
    script:
        "../../scripts/multiple_imputation.py"


if IMPUTATION.enabled:
    OUTPUTS.add(rules.multiple_imputation.output, endpoint=ENDPOINTS)
