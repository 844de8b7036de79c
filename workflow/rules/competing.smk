# Recurrence with death as a competing event (competing_risks.enabled): cause-specific Cox
# models, the absolute risk of recurrence and its competing-risk validation.
if config["competing_risks"]["enabled"]:

    rule competing_risks:
        input:
            cohort=f"{OUT}/data/analysis_cohort.csv",
            script="scripts/competing_risks.py",
            code=code_of("scripts/competing_risks.py"),
        output:
            model=f"{OUT}/competing/recurrence/model.json",
            performance=in_report(
                f"{OUT}/competing/recurrence/performance.csv",
                "competing_performance",
                BEYOND,
                "Competing risks",
            ),
        log:
            f"{OUT}/logs/competing_risks.log",
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=mem_for(1000, 300),
            runtime=runtime_for(10, 2),
        params:
            time=config["competing_risks"]["time"],
            status=config["competing_risks"]["status"],
            candidates=config["candidates"],
            exclude=config["exclude_from_multivariable"],
            selection=SELECTION.as_dict(),
            horizons=config["horizons"],
            min_events=VALIDATION.min_events_at_horizon,
            min_at_risk=VALIDATION.min_at_risk_at_horizon,
        script:
            "../../scripts/competing_risks.py"

    OUTPUTS.add(rules.competing_risks.output)
