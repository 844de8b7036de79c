# Simulation study: how reliable is the paper's procedure? Not part of `rule all`; run
# `snakemake --cores 4 simulation_study`. Replicates of the whole procedure (simulate, clean,
# split, screen + stepwise Cox, validate, bootstrap optimism) on cohorts with a known truth,
# replicates grouped into `batches` jobs; the true C comes from one large independent cohort.

from crlmflow.simulation.batches import replicate_batches
from crlmflow.simulation.scenarios import scenario_settings

SIM = config["simulation_study"]
SIMDIR = f"{OUT}/simulation_study"
# The study's data-generating mechanism (simulation_study.scenario): the default one writes to
# simulation_study/, any other to simulation_study/<scenario>/ (logs get a _<scenario> suffix).
# The paper_expected_ranges target always uses the default mechanism.
SIM_SCENARIO = scenario_settings(SIM)
SIM_DEFAULT_SCENARIO = SIM_SCENARIO["name"] == "default"
SCENDIR = SIMDIR if SIM_DEFAULT_SCENARIO else f"{SIMDIR}/{SIM_SCENARIO['name']}"
SCENLOG = "" if SIM_DEFAULT_SCENARIO else f"_{SIM_SCENARIO['name']}"
SIM_N = SIM_SCENARIO["n_eligible"]
# The parts of the config the simulated procedure uses, and nothing else: changing, e.g.,
# the main analysis' bootstrap_B reruns no replicate. The split is always the random one.
SIM_PROCEDURE = {
    "data": {
        "synthetic": {"case_mix": config["data"]["synthetic"]["case_mix"]},
        "followup_cutoff": config["data"]["followup_cutoff"],
        "death_censors_rfs": config["data"]["death_censors_rfs"],
        "missing_predictors": config["data"]["missing_predictors"],
    },
    "split": {
        "train_fraction": config["split"]["train_fraction"],
        "stratify": config["split"]["stratify"],
    },
    "endpoints": config["endpoints"],
    "candidates": config["candidates"],
    "exclude_from_multivariable": config["exclude_from_multivariable"],
    "selection": config["selection"],
}
# The procedure under the scenario's truth (unchanged for the default scenario).
SIM_STUDY_PROCEDURE = {
    **SIM_PROCEDURE,
    **({"effects": SIM_SCENARIO["effects"]} if SIM_SCENARIO["effects"] else {}),
}
# Cluster resources from the study's own sizes (measured at the defaults: a replicate ~10 s
# and ~250 MB with the 100,000-patient truth cohort loaded; the truth cohort ~15 s, ~600 MB).
SIM_REP_MEM_MB = 500 + SIM["truth_n"] // 200
SIM_REP_RUNTIME = 5 + SIM["bootstrap_B"] * SIM_N // 20000
SIM_TRUTH_MEM_MB = 1000 + SIM["truth_n"] // 100
SIM_TRUTH_RUNTIME = 5 + SIM["truth_n"] // 10000
# A replicate also depends on n_eligible and bootstrap_B. Replicates run in
# `simulation_study.batches` jobs (one process each: imports and the truth cohort are read
# once per batch); a batch's replicates are a param, so changing `replicates` or `batches`
# reruns the batches whose lists changed. The results do not depend on the batching.
SIM_BATCHES = replicate_batches(SIM["replicates"], SIM["batches"])
# Arms beyond the paper also read the penalty's cross-validation settings and the penalised
# arms' bootstrap size (lasso, ridge), the spline knots and variables (spline arms) or the imputations
# (paper_mi), passed only when such an arm runs (no rerun of the paper's arms); a scenario's MAR missingness applies to the
# replicate cohorts only (never to the truth cohort).
SIM_PENALISED = bool({"lasso", "ridge"} & set(SIM["arms"]))
SIM_SPLINES = bool({"full_splines", "paper_splines"} & set(SIM["arms"]))
SIM_MI = "paper_mi" in SIM["arms"]
SIM_REPLICATE_KEYS = ["n_eligible", "bootstrap_B", "arms", "horizon"]
SIM_REPLICATE_KEYS += ["penalised_bootstrap_B"] if SIM_PENALISED else []
SIM_REPLICATE_KEYS += ["spline_knots", "spline_variables"] if SIM_SPLINES else []
SIM_REPLICATE_KEYS += ["mi_m", "mi_bootstrap_B"] if SIM_MI else []
SIM_REPLICATE = {
    **SIM_STUDY_PROCEDURE,
    **({"missing": SIM_SCENARIO["missing"]} if SIM_SCENARIO["missing"] else {}),
    **(
        {
            "alternative_models": {
                k: config["alternative_models"][k]
                for k in ("cv_folds", "n_alphas", "penalty_rule")
            }
        }
        if SIM_PENALISED
        else {}
    ),
    "simulation_study": {
        k: SIM_N if k == "n_eligible" else SIM[k] for k in SIM_REPLICATE_KEYS
    },
}


wildcard_constraints:
    batch=r"\d+",


localrules:
    simulation_study,


rule simstudy_truth_cohort:
    input:
        script="scripts/simstudy_truth.py",
        code=code_of("scripts/simstudy_truth.py"),
    output:
        cohort=f"{SCENDIR}/truth/truth_cohort.csv",
        truth=f"{SCENDIR}/truth/ground_truth.json",
        reference=in_report(
            f"{SCENDIR}/truth/truth_reference.csv",
            "simulation_study_truth",
            SIMULATION,
        ),
    log:
        f"{OUT}/logs/simstudy_truth_cohort{SCENLOG}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=SIM_TRUTH_MEM_MB,
        runtime=SIM_TRUTH_RUNTIME,
    params:
        config=SIM_STUDY_PROCEDURE,
        truth_n=SIM["truth_n"],
        seed=SIM["seed"],
        horizon=SIM["horizon"],
    script:
        "../../scripts/simstudy_truth.py"


rule simstudy_batch:
    input:
        truth_cohort=f"{SCENDIR}/truth/truth_cohort.csv",
        script="scripts/simstudy_batch.py",
        code=code_of("scripts/simstudy_batch.py"),
    output:
        f"{SCENDIR}/batches/batch_{{batch}}.csv",
    log:
        f"{OUT}/logs/simstudy_batch_{{batch}}{SCENLOG}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=SIM_REP_MEM_MB,
        runtime=lambda wc: 5
        + SIM_REP_RUNTIME * len(SIM["arms"]) * len(SIM_BATCHES[int(wc.batch)]),
    params:
        config=SIM_REPLICATE,
        seed=SIM["seed"],
        reps=lambda wc: SIM_BATCHES[int(wc.batch)],
    script:
        "../../scripts/simstudy_batch.py"


rule simstudy_summary:
    input:
        batches=expand(
            f"{SCENDIR}/batches/batch_{{batch}}.csv", batch=range(len(SIM_BATCHES))
        ),
        reference=f"{SCENDIR}/truth/truth_reference.csv",
        script="scripts/simstudy_summary.py",
        code=code_of("scripts/simstudy_summary.py"),
    output:
        replicates=f"{SCENDIR}/replicates.csv",
        predictors=in_report(
            f"{SCENDIR}/predictors.csv",
            "simulation_study_tables",
            SIMULATION,
        ),
        models=in_report(
            f"{SCENDIR}/models.csv",
            "simulation_study_tables",
            SIMULATION,
        ),
        c_index=in_report(
            f"{SCENDIR}/c_index.csv",
            "simulation_study_tables",
            SIMULATION,
        ),
        methods=in_report(
            f"{SCENDIR}/methods.csv",
            "simulation_study_tables",
            SIMULATION,
        ),
        methods_predictors=f"{SCENDIR}/methods_predictors.csv",
        md=f"{SCENDIR}/simulation_study.md",
    log:
        f"{OUT}/logs/simstudy_summary{SCENLOG}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000 + SIM["replicates"] // 2,
        runtime=10,
    params:
        settings={
            **{
                k: SIM_N if k == "n_eligible" else SIM[k]
                for k in (
                    "replicates",
                    "n_eligible",
                    "bootstrap_B",
                    "truth_n",
                    "seed",
                    "arms",
                    "horizon",
                    "target_mcse",
                    "spline_knots",
                    "penalised_bootstrap_B",
                    "mi_m",
                    "mi_bootstrap_B",
                )
            },
            **({"spline_variables": SIM["spline_variables"]} if SIM_SPLINES else {}),
            **({} if SIM_DEFAULT_SCENARIO else {"scenario": SIM_SCENARIO}),
        },
    script:
        "../../scripts/simstudy_summary.py"


rule simstudy_figure:
    input:
        notebook="notebooks/simulation_study.ipynb",
        predictors=f"{SCENDIR}/predictors.csv",
        c_index=f"{SCENDIR}/c_index.csv",
        replicates=f"{SCENDIR}/replicates.csv",
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/simulation_study.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/simulation_study{SCENLOG}.ipynb",
        pdf=f"{SCENDIR}/simulation_study.pdf",
        png=in_report(
            f"{SCENDIR}/simulation_study.png",
            "simulation_study_figure",
            SIMULATION,
        ),
    log:
        f"{OUT}/logs/simstudy_figure{SCENLOG}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1500,
        runtime=15,
    params:
        nb=lambda wc, input, output: nb_params(
            predictors=input.predictors,
            c_index=input.c_index,
            replicates=input.replicates,
            endpoint_labels={ep: config["endpoints"][ep]["label"] for ep in ENDPOINTS},
            replicates_n=SIM["replicates"],
            seed=SIM["seed"],
            fig_base=output.pdf[: -len(".pdf")],
        ),
    script:
        "../../scripts/run_notebook.py"


rule simstudy_methods_figure:
    input:
        notebook="notebooks/simulation_methods.ipynb",
        methods=f"{SCENDIR}/methods.csv",
        replicates=f"{SCENDIR}/replicates.csv",
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/simulation_methods.ipynb"),
    output:
        notebook=f"{OUT}/notebooks/simulation_methods{SCENLOG}.ipynb",
        pdf=f"{SCENDIR}/method_comparison.pdf",
        png=in_report(
            f"{SCENDIR}/method_comparison.png",
            "simulation_study_figure",
            SIMULATION,
        ),
    log:
        f"{OUT}/logs/simstudy_methods_figure{SCENLOG}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1500,
        runtime=15,
    params:
        nb=lambda wc, input, output: nb_params(
            methods=input.methods,
            replicates=input.replicates,
            endpoint_labels={ep: ep.upper() for ep in ENDPOINTS},
            arm_labels={a: a.replace("_", " ") for a in SIM["arms"]},
            replicates_n=SIM["replicates"],
            fig_base=output.pdf[: -len(".pdf")],
        ),
    script:
        "../../scripts/run_notebook.py"


rule simulation_study:
    input:
        f"{SCENDIR}/truth/truth_reference.csv",
        f"{SCENDIR}/replicates.csv",
        f"{SCENDIR}/predictors.csv",
        f"{SCENDIR}/models.csv",
        f"{SCENDIR}/c_index.csv",
        f"{SCENDIR}/methods.csv",
        f"{SCENDIR}/methods_predictors.csv",
        f"{SCENDIR}/simulation_study.md",
        # the paper's-procedure figure only when its arm runs (its tables then hold a note)
        (
            [
                f"{OUT}/notebooks/simulation_study{SCENLOG}.ipynb",
                figure_files(f"{SCENDIR}/simulation_study"),
            ]
            if "paper" in SIM["arms"]
            else []
        ),
        f"{OUT}/notebooks/simulation_methods{SCENLOG}.ipynb",
        figure_files(f"{SCENDIR}/method_comparison"),


# Expected 95% range of each published number across replicate cohorts of the paper's
# size analysed by the configured procedure (separate target: snakemake --cores 4
# paper_expected_ranges). Replicate r is the simulation study's cohort r; the replicates
# run in chunks of PAPER_CHUNK (one job each; a replicate depends only on the seed and r).
# The default run's paper comparison reads the committed copies data/paper_expected_*.csv
# (see config/README.md).
PAPER_REPLICATES = SIM["expected_range_replicates"]
PAPER_CHUNK = 25
PAPER_PROCEDURE = {
    **SIM_PROCEDURE,
    "horizons": config["horizons"],
    "km": config["km"],
    "validation": {"cutpoint_minprop": config["validation"]["cutpoint_minprop"]},
    "simulation_study": {"n_eligible": SIM["n_eligible"]},
}


rule paper_replicates:
    input:
        targets="data/paper_targets.yaml",
        script="scripts/paper_replicates.py",
        code=code_of("scripts/paper_replicates.py"),
    output:
        f"{SIMDIR}/paper_replicates/chunk_{{chunk}}.csv",
    log:
        f"{OUT}/logs/paper_replicates_{{chunk}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5 + PAPER_CHUNK // 5,
    params:
        config=PAPER_PROCEDURE,
        seed=SIM["seed"],
        reps=lambda wc: list(
            range(
                int(wc.chunk) * PAPER_CHUNK,
                min((int(wc.chunk) + 1) * PAPER_CHUNK, PAPER_REPLICATES),
            )
        ),
    script:
        "../../scripts/paper_replicates.py"


rule paper_expected_ranges:
    input:
        chunks=expand(
            f"{SIMDIR}/paper_replicates/chunk_{{chunk}}.csv",
            chunk=range(-(-PAPER_REPLICATES // PAPER_CHUNK)),
        ),
        script="scripts/paper_expected_ranges.py",
        code=code_of("scripts/paper_expected_ranges.py"),
    output:
        ranges=f"{SIMDIR}/paper_expected_ranges.csv",
        selection=f"{SIMDIR}/paper_expected_selection.csv",
        settings=f"{SIMDIR}/paper_expected_settings.json",
    log:
        f"{OUT}/logs/paper_expected_ranges.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        replicates=PAPER_REPLICATES,
        settings={
            "replicates": PAPER_REPLICATES,
            "seed": SIM["seed"],
            "procedure": PAPER_PROCEDURE,
        },
    script:
        "../../scripts/paper_expected_ranges.py"
