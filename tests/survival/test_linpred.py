"""linear_predictor: X beta to rounding, with equal rows giving bit-identical values."""

from __future__ import annotations

import numpy as np

from crlmflow.survival.linpred import linear_predictor


def test_equal_rows_equal_predictions_for_any_coefficients():
    """Three discrete columns (15 covariate patterns over 273 rows, as a model of two 0/1
    variables and a 0-5 score): for many coefficient vectors, every pattern's rows share one
    value, and the values equal X @ beta to rounding."""
    rng = np.random.default_rng(2)
    n = 273
    X = np.column_stack([rng.integers(0, 2, n), rng.integers(0, 6, n), rng.integers(0, 2, n)]).astype(float)
    X = np.asfortranarray(X)  # column-major, as a design matrix taken from a DataFrame
    _, pattern = np.unique(X, axis=0, return_inverse=True)
    pattern = pattern.ravel()
    for _ in range(200):
        beta = rng.normal(size=3)
        lp = linear_predictor(X, beta)
        np.testing.assert_allclose(lp, X @ beta, rtol=0, atol=1e-14)
        for k in np.unique(pattern):
            assert np.ptp(lp[pattern == k]) == 0.0


def test_no_columns_give_zero():
    assert not linear_predictor(np.zeros((4, 0)), np.zeros(0)).any()
