# Two analyses of the same patients side by side (comparison.reference): the reference
# study's analysis (e.g. the paper's random split) re-run on this run's patients, and a
# table setting it beside this run's (e.g. config/recommended.yaml).
from crlmflow.pipeline.reference import reference_study

REFERENCE = reference_study(config)

if REFERENCE is not None:
    REF_ENDPOINTS = [ep for ep in ENDPOINTS if ep in REFERENCE["endpoints"]]

    rule reference_analysis:
        input:
            # the development cohort before any landmark: the reference's own patients
            cohort=f"{OUT}/data/development/cohort.csv",
            script="scripts/reference_analysis.py",
            code=code_of("scripts/reference_analysis.py"),
        output:
            f"{OUT}/comparison/reference_{{endpoint}}.json",
        log:
            f"{OUT}/logs/reference_analysis_{{endpoint}}.log",
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=mem_for(1000, 300),
            runtime=runtime_for(10, 2),
        params:
            endpoint=lambda wc: REFERENCE["endpoints"][wc.endpoint],
            candidates=REFERENCE["candidates"],
            exclude=REFERENCE["exclude_from_multivariable"],
            selection=SelectionOptions.from_config(REFERENCE).as_dict(),
            split=REFERENCE["split"],
            seed=REFERENCE["seed"],
            death_censors_rfs=REFERENCE["data"]["death_censors_rfs"],
            recode_rfs=REFERENCE["data"]["death_censors_rfs"]
            != config["data"]["death_censors_rfs"],
        script:
            "../../scripts/reference_analysis.py"

    OUTPUTS.add(rules.reference_analysis.output, endpoint=REF_ENDPOINTS)

    rule exhibit_analysis_comparison:
        input:
            notebook="notebooks/analysis_comparison.ipynb",
            reference=expand(
                f"{OUT}/comparison/reference_{{ep}}.json", ep=REF_ENDPOINTS
            ),
            fit=expand(f"{OUT}/models/{{ep}}/fit.json", ep=REF_ENDPOINTS),
            # none when validation.bootstrap_B is 0: the table then says so
            bootstrap=OPTIMISM_TABLES,
            # what splines change: the non-linear part of each spline predictor
            anova=expand(f"{OUT}/models/{{ep}}/anova.csv", ep=REF_ENDPOINTS),
            # what shrinkage changes (alternative_models.methods only)
            alternatives=(
                expand(
                    f"{OUT}/validation/{{ep}}/alternatives_performance.csv",
                    ep=REF_ENDPOINTS,
                )
                if ALTERNATIVES.methods
                else []
            ),
            alternative_models=(
                expand(
                    f"{OUT}/models/{{ep}}/alternatives/models.csv", ep=REF_ENDPOINTS
                )
                if ALTERNATIVES.methods
                else []
            ),
            runner=RUN_NOTEBOOK,
            code=notebook_code("notebooks/analysis_comparison.ipynb"),
        output:
            notebook=f"{OUT}/notebooks/analysis_comparison.ipynb",
            tables=shown_one(
                f"{OUT}/tables/analysis_comparison",
                [".csv", ".md", ".html"],
                ".html",
                "analysis_comparison",
                COMPARISON,
                "Reference analysis vs this run",
            ),
        log:
            f"{OUT}/logs/exhibit_analysis_comparison.log",
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=mem_for(1000),
            runtime=runtime_for(10),
        params:
            nb=lambda wc, input, output: nb_params(
                endpoints=REF_ENDPOINTS,
                endpoint_labels={
                    ep: config["endpoints"][ep]["label"] for ep in REF_ENDPOINTS
                },
                reference={
                    ep: f"{OUT}/comparison/reference_{ep}.json" for ep in REF_ENDPOINTS
                },
                fit={ep: f"{OUT}/models/{ep}/fit.json" for ep in REF_ENDPOINTS},
                optimism={
                    ep: f"{OUT}/validation/{ep}/optimism.csv"
                    for ep in REF_ENDPOINTS
                    if VALIDATION.optimism_computed
                },
                bootstrap_B=VALIDATION.bootstrap_B,
                anova={ep: f"{OUT}/models/{ep}/anova.csv" for ep in REF_ENDPOINTS},
                alternatives={
                    ep: f"{OUT}/validation/{ep}/alternatives_performance.csv"
                    for ep in REF_ENDPOINTS
                    if ALTERNATIVES.methods
                },
                alternative_models={
                    ep: f"{OUT}/models/{ep}/alternatives/models.csv"
                    for ep in REF_ENDPOINTS
                    if ALTERNATIVES.methods
                },
                reference_config=config["comparison"]["reference"],
                ref_study={
                    "candidates": REFERENCE["candidates"],
                    "exclude": REFERENCE["exclude_from_multivariable"],
                    "death_censors_rfs": REFERENCE["data"]["death_censors_rfs"],
                },
                run_study={
                    "candidates": config["candidates"],
                    "exclude": config["exclude_from_multivariable"],
                    "death_censors_rfs": config["data"]["death_censors_rfs"],
                    "landmark": config["landmark"]["time"],
                    "competing_risks": config["competing_risks"]["enabled"],
                },
                out_base=f"{OUT}/tables/analysis_comparison",
            ),
        script:
            "../../scripts/run_notebook.py"

    OUTPUTS.add(rules.exhibit_analysis_comparison.output)
