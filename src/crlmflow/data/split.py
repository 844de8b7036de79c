"""Seeded, stratified, order-independent training/validation split.

Rule (documented so it can be reproduced by hand):

1. Patients are sorted by ``id_column`` (text order of the identifiers) so the result does
   not depend on the row order of the input.
2. Size: the training set has ``ceil(n * train_fraction)`` patients — the size that
   ``caret::createDataPartition`` (used by the paper) gives for one stratum; for the
   paper's 389 patients and 0.7 this is 273 training / 116 validation.
3. Stratification: the training seats are shared among the strata (levels of ``stratify``,
   sorted) by the largest-remainder rule: each stratum first gets
   ``floor(n_s * train_fraction)``, the remaining seats go to the strata with the largest
   fractional parts (ties: stratum order). Each stratum's share therefore differs from the
   exact proportion by less than one patient, and the total is always exactly
   ``ceil(n * train_fraction)``. A numeric ``stratify`` column with more than 10 distinct
   values is cut into 5 quantile groups first (as caret does).
4. Randomness: the named stream ``stream(seed, "split")`` (:mod:`crlmflow.pipeline.streams`)
   permutes the members of each stratum (strata in sorted order); the first seats of each
   permutation are training.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crlmflow.pipeline.streams import stream

TRAIN = "train"
VALIDATION = "validation"
_EPS = 1e-9


def train_size(n: int, train_fraction: float) -> int:
    """``ceil(n * train_fraction)`` (robust to floating-point error)."""
    return int(math.ceil(n * train_fraction - _EPS))


def _strata(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values.dtype) and values.nunique() > 10:
        q = values.quantile([0.2, 0.4, 0.6, 0.8]).to_numpy()
        return pd.Series(np.searchsorted(np.unique(q), values.to_numpy(), side="right"), index=values.index)
    return values


def train_validation_split(
    df: pd.DataFrame,
    train_fraction: float = 0.7,
    seed: int = 0,
    stratify: str | None = None,
    *,
    id_column: str = "patient_id",
    no_split: bool = False,
) -> pd.Series:
    """``"train"``/``"validation"`` per row of ``df`` (a Series named ``"set"``, same index).

    ``stratify``: the column to keep balanced (None: no stratification). The workflow
    passes ``split.stratify``, which defaults to the first configured endpoint's event
    column (:func:`crlmflow.pipeline.config.validate_config`).
    ``no_split=True`` puts everyone in ``"train"`` (model development on all patients).
    """
    if no_split:
        return pd.Series(TRAIN, index=df.index, name="set", dtype=object)
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be strictly between 0 and 1, got {train_fraction}")
    if id_column not in df.columns:
        raise KeyError(f"split needs the identifier column {id_column!r}")
    ids = df[id_column].astype(str)
    if ids.duplicated().any():
        raise ValueError(
            f"{id_column!r} must be unique to split reproducibly; duplicated: "
            + ", ".join(ids[ids.duplicated()].unique()[:5])
        )
    n = len(df)
    pos_sorted = np.argsort(ids.to_numpy(), kind="stable")
    if stratify is None:
        groups = np.zeros(n, dtype=np.int64)
    else:
        if stratify not in df.columns:
            raise KeyError(f"stratification column {stratify!r} not in the data")
        col = df[stratify]
        if col.isna().any():
            raise ValueError(f"stratification column {stratify!r} has missing values")
        codes, _ = pd.factorize(_strata(col), sort=True)
        groups = np.asarray(codes, dtype=np.int64)

    levels = np.unique(groups)
    sizes = np.array([(groups == g).sum() for g in levels], dtype=np.int64)
    exact = sizes * float(train_fraction)
    base = np.floor(exact + _EPS).astype(np.int64)
    left = train_size(n, train_fraction) - int(base.sum())
    frac = exact - base
    order = sorted(range(len(levels)), key=lambda i: (-round(frac[i], 9), i))
    for i in order[: max(left, 0)]:
        base[i] += 1

    rng = stream(seed, "split")
    is_train = np.zeros(n, dtype=bool)
    g_sorted = groups[pos_sorted]
    for k, g in enumerate(levels):
        members = pos_sorted[g_sorted == g]  # positions in df, in identifier order
        perm = rng.permutation(members.size)
        is_train[members[perm[: base[k]]]] = True
    return pd.Series(np.where(is_train, TRAIN, VALIDATION).astype(object), index=df.index, name="set")
