# The interactive nomogram calculator: one self-contained HTML page over every endpoint's model.json.


rule nomogram_app:
    input:
        models=expand(f"{OUT}/models/{{endpoint}}/model.json", endpoint=ENDPOINTS),
        # with an external cohort, the calculator says how much of it lay outside the
        # development data
        extrapolation=(
            expand(
                f"{OUT}/validation/{{endpoint}}/extrapolation.csv", endpoint=ENDPOINTS
            )
            if SPLIT == "external"
            else []
        ),
        script="scripts/nomogram_app.py",
        code=code_of("scripts/nomogram_app.py"),
    output:
        in_report(f"{OUT}/app/nomogram.html", "nomogram_app", CALCULATOR),
    log:
        f"{OUT}/logs/nomogram_app.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000),
        runtime=runtime_for(10),
    params:
        endpoints=ENDPOINTS,
    script:
        "../../scripts/nomogram_app.py"


OUTPUTS.add(rules.nomogram_app.output)
