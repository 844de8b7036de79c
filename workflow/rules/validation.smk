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
