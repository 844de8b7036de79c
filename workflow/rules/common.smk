import math
import os
import sys

from crlmflow.pipeline.config import validate_config

validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))

OUT = config["outdir"]
PY = sys.executable
ENV = "../../envs/crlmflow.yaml"
ENDPOINTS = list(config["endpoints"])
SPLIT = config["split"]["method"]
COHORTS = ["development", "external"] if SPLIT == "external" else ["development"]
# Sets that exist: with split "none" everyone trains and validation exhibits are skipped.
SETS = ["train"] if SPLIT == "none" else ["train", "validation"]
B = config["validation"]["bootstrap_B"]
N_CHUNKS = max(1, min(config["validation"]["bootstrap_chunks"], B))


def chunk_range(i):
    """Replicates [first, last) of chunk i: any chunking gives the same replicates."""
    return i * B // N_CHUNKS, (i + 1) * B // N_CHUNKS


wildcard_constraints:
    cohort="development|external",
    endpoint="|".join(ENDPOINTS),


def cohort_source(cohort):
    """The data block (synthetic or file) of a cohort."""
    return config["data"] if cohort == "development" else config["external"]


# -- cluster resources: mem_mb (MB) and runtime (minutes) of every rule --
# Jobs are single-threaded by design (crlmflow.pipeline.snakeio.logged pins BLAS to one thread so
# outputs are byte-identical however jobs are scheduled): parallelism comes from separate
# jobs, so no rule asks for more than one thread. Memory and time grow with the number of
# patients; the per-10,000 slopes come from runs at n = 389 and n = 100,000 (peak RSS and
# wall time, with at least 2x headroom). A retried job (profile `retries:`) asks for
# `attempt` times as much, so a job killed for memory or time can succeed.


def _cohort_patients(block):
    if block["source"] == "synthetic":
        return block["synthetic"]["n_eligible"]
    # rows measured, not guessed from the file size
    from crlmflow.data.size import estimate_rows_columns

    return estimate_rows_columns(block["file"]["path"], block["file"].get("sheet"))[0]


PATIENTS = sum(_cohort_patients(cohort_source(c)) for c in COHORTS)


def _scaled(base, per_10k):
    return base + math.ceil(per_10k * PATIENTS / 10_000)


def mem_for(base_mb, per_10k_mb=0):
    """mem_mb: base_mb plus per_10k_mb for every 10,000 patients."""
    return lambda wildcards, attempt: _scaled(base_mb, per_10k_mb) * attempt


def runtime_for(base_min, per_10k_min=0):
    """runtime in minutes: base_min plus per_10k_min for every 10,000 patients."""
    return lambda wildcards, attempt: _scaled(base_min, per_10k_min) * attempt


def chunk_runtime(wildcards, attempt):
    """A bootstrap chunk: ~0.5 s a replicate plus ~0.6 s per 10,000 patients (selection
    and refits on each resample), times 3 for slower nodes."""
    first, last = chunk_range(int(wildcards.chunk))
    seconds = (last - first) * (0.5 + 0.6 * PATIENTS / 10_000) * 3
    return (10 + math.ceil(seconds / 60)) * attempt


def is_generic(cohort):
    """A generic study declares its columns in the config (no CRLM indices to derive)."""
    block = cohort_source(cohort)
    return block["source"] == "file" and block["file"]["format"] == "generic"


def raw_input(wildcards):
    block = cohort_source(wildcards.cohort)
    if block["source"] == "file":
        return block["file"]["path"]
    return f"{OUT}/data/{wildcards.cohort}/raw_cohort.csv"


def data_outputs():
    files = [f"{OUT}/data/analysis_cohort.csv", f"{OUT}/data/split_summary.json"]
    for cohort in COHORTS:
        files += [
            f"{OUT}/data/{cohort}/flow.json",
            f"{OUT}/data/{cohort}/exclusions.csv",
        ]
        files += [f"{OUT}/data/{cohort}/data_quality.{ext}" for ext in ("csv", "html")]
    if config["data"]["source"] == "synthetic":
        files.append(f"{OUT}/data/simulation_calibration.csv")
    return files


def model_outputs():
    names = [
        "univariable.csv",
        "multivariable.csv",
        "ph_test.csv",
        "fit.json",
        "predictions.csv",
        "model.json",
        "risk_groups.csv",
    ]
    files = [f"{OUT}/models/{ep}/{name}" for ep in ENDPOINTS for name in names]
    for ep in ENDPOINTS:
        for fig in ("nomogram", "forest", "cutpoint"):
            files += [f"{OUT}/figures/{fig}_{ep}.pdf", f"{OUT}/figures/{fig}_{ep}.png"]
    return files


def survival_outputs():
    names = ["km_curves.csv", "km_at_risk.csv", "km_rates.csv", "km_tests.csv"]
    return [f"{OUT}/survival/{name}" for name in names]


def validation_outputs():
    names = [
        "performance.csv",
        "roc_curves.csv",
        "calibration.csv",
        "decision_curves.csv",
    ]
    if B > 0:
        names += ["optimism.csv", "selection_frequency.csv"]
    return [f"{OUT}/validation/{ep}/{name}" for ep in ENDPOINTS for name in names]


def tracked_outputs():
    """Every table and figure of the run (the provenance manifest covers each)."""
    return (
        data_outputs()
        + model_outputs()
        + survival_outputs()
        + validation_outputs()
        + [f"{OUT}/app/nomogram.html"]
        + exhibit_outputs()
    )


def all_outputs():
    return tracked_outputs() + [f"{OUT}/provenance.json"]


# -- exhibits (workflow/rules/exhibits.smk) --

FIG_NO = {ep: 2 + i for i, ep in enumerate(ENDPOINTS)}


def nb_params(**kw):
    """Notebook parameters (scripts/run_notebook.py adds the figure lineage)."""
    return kw


def ep_short(ep):
    return ep.upper()


def ep_files(pattern):
    """{endpoint: path} for a path pattern with {ep}."""
    return {ep: pattern.format(ep=ep) for ep in ENDPOINTS}


def bootstrap_inputs():
    """optimism.csv and selection_frequency.csv: real inputs when the bootstrap_gather rule
    is part of the workflow, else used only if already present (the tables then say
    'not available' instead of failing)."""
    files = expand(f"{OUT}/validation/{{ep}}/optimism.csv", ep=ENDPOINTS)
    files += expand(f"{OUT}/validation/{{ep}}/selection_frequency.csv", ep=ENDPOINTS)
    if hasattr(rules, "bootstrap_gather"):
        return files
    return [p for p in files if os.path.exists(p)]


def figure_files(base):
    return [f"{base}.pdf", f"{base}.png"]


def table_files(base, formats=("csv", "html", "md")):
    return [f"{base}.{fmt}" for fmt in formats]


def exhibit_outputs():
    """Every file the exhibit rules make (add to rule all)."""
    # KRAS and the paper's published numbers exist only for the CRLM study.
    crlm = not is_generic("development")
    files = figure_files(f"{OUT}/figures/figure1_flowchart")
    files += figure_files(f"{OUT}/figures/figure4_km")
    if crlm:
        files += figure_files(f"{OUT}/figures/suppl_kras")
        files += table_files(f"{OUT}/tables/paper_comparison", ("csv", "md", "html"))
    for name in (
        "table1",
        "table2",
        "table3",
        "selection_stability",
        "performance_comparison",
    ):
        files += table_files(f"{OUT}/tables/{name}")
    for ep in ENDPOINTS:
        for part in ("", "_A_forest", "_B_nomogram", "_CF_roc_dca"):
            files += figure_files(f"{OUT}/figures/figure_model_{ep}{part}")
        files += figure_files(f"{OUT}/figures/suppl_calibration_{ep}")
    names = [
        "figure1_flowchart",
        "table1",
        "table2",
        "table3",
        "figure4_km",
        "beyond_paper",
    ]
    if crlm:
        names += ["supplementary_kras", "paper_comparison"]
    names += [f"figure_model_{ep}" for ep in ENDPOINTS]
    names += [f"supplementary_calibration_{ep}" for ep in ENDPOINTS]
    files += [f"{OUT}/notebooks/{n}.ipynb" for n in names]
    return files
