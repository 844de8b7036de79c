"""The linear predictor X beta with equal rows giving bit-identical values.

A BLAS matrix-vector product may round a row differently by its position in the matrix
(vectorised blocks with fused multiply-adds, a scalar remainder without), so two patients
with the same covariates can get linear predictors one unit in the last place apart.
Harrell's C counts a tied pair as 1/2 only when the predictions are exactly equal: such a
spurious difference turns a tie into a concordant or discordant pair, and which pairs it
hits changes with the last bits of the coefficients.  Summing column by column with
elementwise operations rounds every row the same way: equal rows, equal predictions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["linear_predictor"]


def linear_predictor(X, coef) -> np.ndarray:
    """sum_j X[:, j] coef[j], accumulated over the columns in order (n,)."""
    X = np.asarray(X, dtype=float)
    coef = np.asarray(coef, dtype=float)
    lp = np.zeros(X.shape[0])
    for j in range(coef.size):
        lp += X[:, j] * coef[j]
    return lp
