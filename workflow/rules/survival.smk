# Kaplan-Meier summaries: Table 3 rates and medians, Figure 4 and Suppl. Fig. 5 curves.


rule km_summaries:
    input:
        cohort=f"{OUT}/data/analysis_cohort.csv",
        groups=expand(f"{OUT}/models/{{endpoint}}/risk_groups.csv", endpoint=ENDPOINTS),
        script="scripts/km_summaries.py",
        code=code_of("scripts/km_summaries.py"),
    output:
        curves=f"{OUT}/survival/km_curves.csv",
        at_risk=f"{OUT}/survival/km_at_risk.csv",
        rates=in_report(
            f"{OUT}/survival/km_rates.csv",
            "km_rates",
            PER_ENDPOINT_MODELS,
            "Kaplan-Meier rates, all endpoints",
        ),
        tests=f"{OUT}/survival/km_tests.csv",
        pairwise=f"{OUT}/survival/km_pairwise.csv",
    log:
        f"{OUT}/logs/km_summaries.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 50),
        runtime=runtime_for(10, 1),
    params:
        endpoints=config["endpoints"],
        sets=SETS,
        km_group=config["km"]["group"],
        conf_type=config["km"]["conf_type"],
        horizons=config["horizons"],
    script:
        "../../scripts/km_summaries.py"


OUTPUTS.add(rules.km_summaries.output)
