# Non-proportional hazards (proportional_hazards.time_varying.term): each endpoint's final
# model refitted with a time-varying coefficient for the flagged term.
TIME_VARYING = config["proportional_hazards"]["time_varying"]
if TIME_VARYING["form"] == "step" and TIME_VARYING["step_at"] is None:
    raise ValueError(
        "config key 'proportional_hazards.time_varying.step_at': missing; form 'step' needs "
        "the month of the step"
    )

if TIME_VARYING["term"] is not None:

    rule time_varying:
        input:
            cohort=f"{OUT}/data/analysis_cohort.csv",
            fit=f"{OUT}/models/{{endpoint}}/fit.json",
            script="scripts/time_varying.py",
            code=code_of("scripts/time_varying.py"),
        output:
            in_report(
                f"{OUT}/models/{{endpoint}}/time_varying.csv",
                "time_varying",
                PER_ENDPOINT_MODELS,
                **PER_ENDPOINT,
            ),
        log:
            f"{OUT}/logs/time_varying_{{endpoint}}.log",
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=mem_for(1000, 300),
            runtime=runtime_for(10, 2),
        params:
            term=TIME_VARYING["term"],
            form=TIME_VARYING["form"],
            step_at=TIME_VARYING["step_at"],
            candidates=config["candidates"],
            horizons=config["horizons"],
        script:
            "../../scripts/time_varying.py"

    OUTPUTS.add(rules.time_varying.output, endpoint=ENDPOINTS)
