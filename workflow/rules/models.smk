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
    threads: 1
    resources:
        mem_mb=mem_for(1000, 300),
        runtime=runtime_for(10, 2),
    params:
        candidates=config["candidates"],
        exclude=config.get("exclude_from_multivariable", []),
        selection=config["selection"],
        horizons=config["horizons"],
        endpoint=lambda wc: config["endpoints"][wc.endpoint],
    script:
        "../../scripts/cox_models.py"


rule nomogram:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        multivariable=f"{OUT}/models/{{endpoint}}/multivariable.csv",
        script="scripts/nomogram.py",
    output:
        nomogram=f"{OUT}/models/{{endpoint}}/nomogram.json",
        points=f"{OUT}/models/{{endpoint}}/points.csv",
        nomogram_pdf=report(
            f"{OUT}/figures/nomogram_{{endpoint}}.pdf",
            caption="../report/nomogram.rst",
            category="Figures",
            subcategory="{endpoint}",
        ),
        nomogram_png=f"{OUT}/figures/nomogram_{{endpoint}}.png",
        forest_pdf=report(
            f"{OUT}/figures/forest_{{endpoint}}.pdf",
            caption="../report/forest.rst",
            category="Figures",
            subcategory="{endpoint}",
        ),
        forest_png=f"{OUT}/figures/forest_{{endpoint}}.png",
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
        endpoint=lambda wc: config["endpoints"][wc.endpoint],
    script:
        "../../scripts/nomogram.py"


rule risk_groups:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        points=f"{OUT}/models/{{endpoint}}/points.csv",
        script="scripts/risk_groups.py",
    output:
        cutpoint=f"{OUT}/models/{{endpoint}}/cutpoint.json",
        groups=f"{OUT}/models/{{endpoint}}/risk_groups.csv",
        figure_pdf=report(
            f"{OUT}/figures/cutpoint_{{endpoint}}.pdf",
            caption="../report/cutpoint.rst",
            category="Figures",
            subcategory="{endpoint}",
        ),
        figure_png=f"{OUT}/figures/cutpoint_{{endpoint}}.png",
    log:
        f"{OUT}/logs/risk_groups_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 50),
        runtime=runtime_for(10, 2),
    params:
        endpoint=lambda wc: config["endpoints"][wc.endpoint],
        minprop=config["validation"]["cutpoint_minprop"],
        n_perm=config["validation"]["cutpoint_permutations"],
        seed=config["seed"],
    script:
        "../../scripts/risk_groups.py"


rule model_file:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        fit=f"{OUT}/models/{{endpoint}}/fit.json",
        nomogram=f"{OUT}/models/{{endpoint}}/nomogram.json",
        cutpoint=f"{OUT}/models/{{endpoint}}/cutpoint.json",
        script="scripts/model_file.py",
    output:
        f"{OUT}/models/{{endpoint}}/model.json",
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
        endpoint=lambda wc: config["endpoints"][wc.endpoint],
        config=config,
        synthetic=config["data"]["source"] == "synthetic",
    script:
        "../../scripts/model_file.py"
