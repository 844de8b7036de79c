# Data half of the DAG: raw export -> validated, cleaned cohort -> indices -> split.

from crlmflow.data.size import clean_request


rule simulate_cohort:
    input:
        script="scripts/simulate_cohort.py",
        code=code_of("scripts/simulate_cohort.py"),
    output:
        raw=f"{OUT}/data/{{cohort}}/raw_cohort.csv",
        truth=f"{OUT}/data/{{cohort}}/ground_truth.json",
    log:
        f"{OUT}/logs/simulate_cohort_{{cohort}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 50),
        runtime=runtime_for(10, 1),
    params:
        block=lambda wc: {"synthetic": cohort_source(wc.cohort)["synthetic"]},
        # the simulated external centre numbers its patients E000001..., so that its
        # identifiers never clash with the development cohort's P000001...
        id_prefix=lambda wc: "P" if wc.cohort == "development" else "E",
        seed=config["seed"],
        cutoff=config["data"]["followup_cutoff"],
    script:
        "../../scripts/simulate_cohort.py"


rule simulation_calibration:
    input:
        script="scripts/simulation_calibration.py",
        code=code_of("scripts/simulation_calibration.py"),
    output:
        in_report(
            f"{OUT}/data/simulation_calibration.csv",
            "simulation_calibration",
            DATA,
            "Synthetic cohort: calibration to the paper",
        ),
    log:
        f"{OUT}/logs/simulation_calibration.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(2000),
        runtime=runtime_for(15),
    params:
        seed=config["seed"],
        n=200000,
    script:
        "../../scripts/simulation_calibration.py"


if config["data"]["source"] == "synthetic":
    OUTPUTS.add(rules.simulation_calibration.output)


rule clean:
    input:
        raw=raw_input,
        script="scripts/clean.py",
        code=code_of("scripts/clean.py"),
    output:
        cohort=f"{OUT}/data/{{cohort}}/cohort_clean.csv",
        exclusions=f"{OUT}/data/{{cohort}}/exclusions.csv",
        flow=f"{OUT}/data/{{cohort}}/flow.json",
        quality=f"{OUT}/data/{{cohort}}/data_quality.csv",
        quality_page=in_report(
            f"{OUT}/data/{{cohort}}/data_quality.html",
            "data_quality",
            DATA,
            "Data quality, {cohort} cohort",
        ),
    log:
        f"{OUT}/logs/clean_{{cohort}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: clean_request(cohort_source(wc.cohort))[0] * attempt,
        runtime=lambda wc, attempt: clean_request(cohort_source(wc.cohort))[1] * attempt,
    params:
        block=lambda wc: cohort_reading(wc.cohort),
        # the config block that messages about this cohort's file name
        config_key=lambda wc: (
            "data.file" if wc.cohort == "development" else "external.file"
        ),
        # rfs_status only when asked for: the paper's run keeps its recorded params
        data={
            k: config["data"][k]
            for k in ("followup_cutoff", "death_censors_rfs", "missing_predictors")
        }
        | ({"rfs_status": True} if config["data"]["rfs_status"] else {}),
        candidates=config["candidates"],
        endpoints=config["endpoints"],
        km_group=config["km"]["group"],
    script:
        "../../scripts/clean.py"


OUTPUTS.add(rules.clean.output, cohort=COHORTS)


rule derive_indices:
    input:
        cohort=f"{OUT}/data/{{cohort}}/cohort_clean.csv",
        script="scripts/derive_indices.py",
        code=code_of("scripts/derive_indices.py"),
    output:
        f"{OUT}/data/{{cohort}}/cohort.csv",
    log:
        f"{OUT}/logs/derive_indices_{{cohort}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 30),
        runtime=runtime_for(10, 1),
    params:
        generic=lambda wc: is_generic(wc.cohort),
    script:
        "../../scripts/derive_indices.py"


rule split:
    input:
        cohorts=expand(f"{OUT}/data/{{cohort}}/cohort.csv", cohort=COHORTS),
        script="scripts/split.py",
        code=code_of("scripts/split.py"),
    output:
        **(MI_COHORT if IMPUTATION.enabled else {}),
        cohort=f"{OUT}/data/analysis_cohort.csv",
        summary=f"{OUT}/data/split_summary.json",
    log:
        f"{OUT}/logs/split.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1000, 30),
        runtime=runtime_for(10, 1),
    params:
        # with a landmark, it and the endpoints' columns travel with the split settings
        # (the paper's run keeps its recorded params)
        split=config["split"]
        | (
            {"landmark": config["landmark"]["time"], "endpoints": config["endpoints"]}
            if config["landmark"]["time"] is not None
            else {}
        )
        # multiple imputation: the paper's single-model chain reads the complete cases
        | (
            {"complete_case": [c["name"] for c in config["candidates"]]}
            if IMPUTATION.enabled
            else {}
        ),
        seed=config["seed"],
        cohorts=COHORTS,
        event_columns=[ep["event"] for ep in config["endpoints"].values()],
    script:
        "../../scripts/split.py"


OUTPUTS.add(rules.split.output)
