# Modelling: univariable screening and stepwise multivariable Cox per endpoint (Table 2).


rule cox_models:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        script="scripts/cox_models.py",
    output:
        univariable=report(
            f"{OUT}/models/{{endpoint}}/univariable.csv",
            caption="../report/univariable.rst",
            category="Models",
            subcategory="{endpoint}",
        ),
        multivariable=report(
            f"{OUT}/models/{{endpoint}}/multivariable.csv",
            caption="../report/multivariable.rst",
            category="Models",
            subcategory="{endpoint}",
        ),
        path=f"{OUT}/models/{{endpoint}}/selection_path.csv",
        ph_test=report(
            f"{OUT}/models/{{endpoint}}/ph_test.csv",
            caption="../report/ph_test.rst",
            category="Models",
            subcategory="{endpoint}",
        ),
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        predictions=f"{OUT}/models/{{endpoint}}/predictions.csv",
    log:
        f"{OUT}/logs/cox_models_{{endpoint}}.log",
    conda:
        ENV
    params:
        candidates=config["candidates"],
        exclude=config.get("exclude_from_multivariable", []),
        selection=config["selection"],
        horizons=config["horizons"],
        endpoint=lambda wc: config["endpoints"][wc.endpoint],
    script:
        "../../scripts/cox_models.py"
