"""Replicates of the simulation study grouped into jobs.

A job (rule ``simstudy_batch``) pays the fixed cost of a Python process (interpreter start,
imports, reading the large truth cohort) once for its whole batch instead of once per
replicate.  Which replicates share a job changes nothing in the results: replicate ``r``
draws every random number from its own named stream (``simstudy_replicate`` with key ``r``,
:func:`crlmflow.simulation.study.replicate_seeds`), so the gathered table is the same for
any number of batches and any ``--cores`` (pinned by a test).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["replicate_batches", "run_batch"]


def replicate_batches(replicates: int, batches: int) -> list[list[int]]:
    """Replicates ``0..replicates-1`` cut into ``min(batches, replicates)`` contiguous
    batches whose sizes differ by at most one (the first ones take the remainder)."""
    if replicates < 1 or batches < 1:
        raise ValueError(f"need replicates >= 1 and batches >= 1, got {replicates} and {batches}")
    k = min(int(batches), int(replicates))
    size, extra = divmod(int(replicates), k)
    out, start = [], 0
    for b in range(k):
        stop = start + size + (b < extra)
        out.append(list(range(start, stop)))
        start = stop
    return out


def run_batch(config: dict, reps, seed: int, truth_cohort, run_one: Callable, log: Callable | None = None):
    """Run replicates ``reps`` in order and stack their tables (a DataFrame).

    ``run_one(config, rep, seed, truth_cohort)`` runs one replicate
    (:func:`crlmflow.simulation.study.run_replicate`); ``log``, if given, is called with
    each replicate's table as it finishes.  (Kept free of heavy imports: the Snakefile
    imports :func:`replicate_batches` at parse time.)
    """
    import pandas as pd

    parts = []
    for rep in reps:
        table = run_one(config, int(rep), seed, truth_cohort)
        if log is not None:
            log(table)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)
