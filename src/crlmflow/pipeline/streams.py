"""Named random streams: every random draw of the workflow comes from ``stream(seed, purpose, *keys)``.

One study seed (``config: seed``) feeds every random step. Each step asks for its own stream
by a *purpose* name and integer keys (endpoint, replicate, …); the stream is a
``numpy.random.Generator`` on ``numpy.random.SeedSequence(seed, spawn_key=(purpose id, *keys))``.
Streams of different purposes or keys are statistically independent (SeedSequence's
guarantee, O'Neill's PCG64 hashing), and one stream never depends on how many draws another
made, so chunking jobs, reordering them or adding a new purpose changes no existing number.

Purposes (the id is part of the stream and must never change once used):

==========================  ====  ====================================================
purpose                     id    keys
==========================  ====  ====================================================
``simulate_cohort``         1     (): the synthetic raw export of the default study
``split``                   2     (): the stratified 7:3 training/validation split
``optimism_bootstrap``      3     (endpoint index, replicate): Harrell's optimism
                                  bootstrap with selection repeated (also the
                                  selection-stability table, the bias-corrected
                                  calibration curves' first calibration_B
                                  replicates, and the same replicates within each
                                  imputed dataset of multiple imputation)
``calibration_bootstrap``   4     retired (was: the calibration curves' own
                                  resamples); kept so no id is ever reused
``c_index_bootstrap``       5     (endpoint index, set index): percentile CI of C
``cutpoint_permutation``    6     (endpoint index,): permutation p of the cut-off
``simstudy_replicate``      7     (replicate,): one cohort of the simulation study
``simstudy_truth``          8     (): the large truth cohort of the simulation study
``figure_jitter``           9     (): jitter of points drawn in figures
``cutpoint_bootstrap``      10    (endpoint index, replicate): percentile interval of
                                  the cut-off (resampled training patients, score fixed)
``penalty_cv_folds``        11    (endpoint index,): fold labels of the penalised
                                  models' cross-validation (shared by LASSO, elastic
                                  net and ridge)
``multiple_imputation``     12    (endpoint index, imputation): one imputation of the
                                  chained equations (``data.missing_predictors:
                                  multiple_imputation``)
``mi_bootstrap_imputation`` 13    (endpoint index, replicate, imputation): one
                                  imputation of one bootstrap sample (multiple
                                  imputation's bootstrap-then-impute optimism)
``simstudy_missingness``    14    (): a simulation-study scenario's MAR missingness,
                                  on the replicate's simulation seed
==========================  ====  ====================================================

Add a purpose by appending a row with a new id; never reuse or renumber one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PURPOSES", "stream", "seed_sequence", "integer_seed"]

PURPOSES: dict[str, int] = {
    "simulate_cohort": 1,
    "split": 2,
    "optimism_bootstrap": 3,
    "calibration_bootstrap": 4,
    "c_index_bootstrap": 5,
    "cutpoint_permutation": 6,
    "simstudy_replicate": 7,
    "simstudy_truth": 8,
    "figure_jitter": 9,
    "cutpoint_bootstrap": 10,
    "penalty_cv_folds": 11,
    "multiple_imputation": 12,
    "mi_bootstrap_imputation": 13,
    "simstudy_missingness": 14,
}


def seed_sequence(seed: int, purpose: str, *keys: int) -> np.random.SeedSequence:
    """The ``SeedSequence`` of a named stream (see the module table)."""
    try:
        pid = PURPOSES[purpose]
    except KeyError:
        raise ValueError(f"unknown random-stream purpose {purpose!r}; known: {sorted(PURPOSES)}") from None
    if int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.SeedSequence(int(seed), spawn_key=(pid, *(int(k) for k in keys)))


def stream(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    """A ``numpy.random.Generator`` (PCG64) for one purpose and key tuple.

    Parameters
    ----------
    seed : int
        The study seed (``config: seed``).
    purpose : str
        One of :data:`PURPOSES`.
    *keys : int
        The stream's position within its purpose (endpoint index, replicate, …).

    Returns
    -------
    numpy.random.Generator
    """
    return np.random.default_rng(seed_sequence(seed, purpose, *keys))


def integer_seed(seed: int, purpose: str, *keys: int) -> int:
    """A 32-bit integer seed drawn from a named stream, for APIs that take an int seed."""
    return int(seed_sequence(seed, purpose, *keys).generate_state(1)[0])
