"""The compiled loops of ``validation._compiled`` against plain NumPy."""

import numpy as np
import pytest

from crlmflow.validation._compiled import segment_sums


@pytest.mark.parametrize("q", [1, 3])
@pytest.mark.parametrize("second", [True, False])
def test_segment_sums_are_the_sums_over_each_segment(q, second):
    """Every model's sums of r, r x_j (and r x_0^2) over the rows of each segment, one
    column or many (the one-column loop keeps its sums in registers: the same numbers)."""
    rng = np.random.default_rng(3)
    M, n = 4, 200
    XT = rng.normal(size=(M, q, n))
    r = rng.exponential(size=(M, n))
    bounds = np.unique(np.r_[0, rng.integers(1, n, 30), n])
    got = segment_sums(XT, r, bounds, second)
    parts = [r, *(r * XT[:, j, :] for j in range(q))] + ([r * XT[:, 0, :] ** 2] if second else [])
    want = np.stack([np.add.reduceat(a, bounds[:-1], axis=1) for a in parts], axis=1)
    assert got.shape == (M, q + 1 + int(second), bounds.size - 1)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    if q == 1:  # the general loop on the same column: the same sums, added in the same order
        wide = segment_sums(np.concatenate([XT, np.zeros_like(XT)], axis=1), r, bounds, second)
        np.testing.assert_array_equal(got[:, :2], wide[:, :2])
        if second:
            np.testing.assert_array_equal(got[:, 2], wide[:, 3])
