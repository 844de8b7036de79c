# The interactive nomogram calculator: one self-contained HTML page over every endpoint's model.json.


rule nomogram_app:
    input:
        models=expand(f"{OUT}/models/{{endpoint}}/model.json", endpoint=ENDPOINTS),
        script="scripts/nomogram_app.py",
    output:
        report(
            f"{OUT}/app/nomogram.html",
            caption="../report/nomogram_app.rst",
            category="App",
        ),
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
