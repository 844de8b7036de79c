# Cluster resources: mem_mb (MB) and runtime (minutes) of every rule.
# Jobs are single-threaded by design (crlmflow.pipeline.snakeio.logged pins BLAS to one thread so
# outputs are byte-identical however jobs are scheduled): parallelism comes from separate
# jobs, so no rule asks for more than one thread. Memory and time grow with the number of
# patients; the per-10,000 slopes come from runs at n = 389 and n = 100,000 (peak RSS and
# wall time, with at least 2x headroom). A retried job (profile `retries:`) asks for
# `attempt` times as much, so a job killed for memory or time can succeed.
import math

from crlmflow.data.size import estimate_rows_columns


def _cohort_patients(block):
    if block["source"] == "synthetic":
        return block["synthetic"]["n_eligible"]
    # rows measured, not guessed from the file size
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
    first, last = VALIDATION.chunk_range(int(wildcards.chunk))
    seconds = (last - first) * (0.5 + 0.6 * PATIENTS / 10_000) * 3
    return (10 + math.ceil(seconds / 60)) * attempt
