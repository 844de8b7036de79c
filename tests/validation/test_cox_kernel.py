"""The compiled small-sample Cox kernels equal CoxData (pinned to R's coxph) to ~1e-10."""

from __future__ import annotations

import numpy as np
import pytest

from crlmflow.survival.cox import CoxData
from crlmflow.survival.design import Design
from crlmflow.survival.selection import CoxProblem
from crlmflow.validation import cox_kernel
from crlmflow.validation.batch_cox import BatchedCox


def _data(n: int = 240, seed: int = 5, ties: str = "efron"):
    """Month-resolution times (tied deaths), bootstrap-like weights with zeros, 4 columns
    (normal, 0/1, skewed, 0/1 rare)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [rng.normal(size=n), rng.integers(0, 2, n), rng.gamma(2.0, 1.0, n), (rng.uniform(size=n) < 0.1) * 1.0]
    )
    lp = 0.5 * X[:, 0] - 0.6 * X[:, 1] + 0.25 * X[:, 2] + 0.4 * X[:, 3]
    t = np.ceil(rng.exponential(30.0 * np.exp(-lp)))
    c = np.ceil(rng.uniform(3, 90, n))
    time, event = np.minimum(t, c), (t <= c).astype(float)
    w = rng.poisson(1.0, n).astype(float)
    return CoxData(time, event, X, weights=w, ties=ties, names=["a", "b", "c", "d"])


def _sorted_centred(d: CoxData) -> np.ndarray:
    Xs = d.X_raw[d.order]
    return np.ascontiguousarray((Xs - Xs.mean(axis=0)).T)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_derivatives_equal_coxdata(ties):
    """Log-likelihood, score and information of several models in one call (one padded
    with a zero column) against CoxData.derivatives."""
    d = _data(ties=ties)
    bc = BatchedCox(d)
    assert bc.use_matmul  # the small-sample (compiled) path
    XcT = _sorted_centred(d)
    cols = [[0, 1, 2, 3], [2, 0, 3, 1], [1, 3]]
    betas = np.array([[0.3, -0.4, 0.1, 0.5], [0.2, 0.25, -0.2, -0.6], [-0.6, 0.35, 0.0, 0.0]])
    XT = np.zeros((3, 4, d.n))
    for m, c in enumerate(cols):
        XT[m, : len(c)] = XcT[c]
    ll, U, I = bc.derivs(XT, betas)
    for m, c in enumerate(cols):
        ll_ref, U_ref, I_ref = d.derivatives(betas[m, : len(c)], cols=c)
        assert ll[m] == pytest.approx(ll_ref, rel=1e-13)
        np.testing.assert_allclose(U[m, : len(c)], U_ref, rtol=1e-10, atol=1e-10 * np.abs(U_ref).max())
        np.testing.assert_allclose(I[m, : len(c), : len(c)], I_ref, rtol=1e-10, atol=1e-12 * np.abs(I_ref).max())
    assert not U[2, 2:].any() and not I[2, 2:].any() and not I[2, :, 2:].any()


def test_newton_equals_coxdata_fit():
    """Whole Newton fits of a batch (padding kept at 0; a start from beta != 0) reach
    CoxData.fit's maximum: coefficients to 1e-10, log-likelihood to 1e-12 relative; with
    ``predict_last`` (the last step's gain predicted, not evaluated) as well."""
    d = _data(seed=7)
    bc = BatchedCox(d)
    XcT = _sorted_centred(d)
    cols = [[0, 1, 2, 3], [0, 2], [3]]
    XT = np.zeros((3, 4, d.n))
    pad = np.ones((3, 4), dtype=bool)
    for m, c in enumerate(cols):
        XT[m, : len(c)] = XcT[c]
        pad[m, : len(c)] = False
    beta0 = np.where(pad, 0.0, 0.2)
    for predict_last in (False, True):
        beta, ll, U, I, conv = bc.newton(XT, pad, beta0, predict_last=predict_last)
        assert conv.all()
        assert not beta[pad].any()
        for m, c in enumerate(cols):
            ref = d.fit(cols=c)
            np.testing.assert_allclose(beta[m, : len(c)], ref.coef, rtol=0, atol=1e-10)
            assert ll[m] == pytest.approx(ref.loglik, rel=1e-12)
            if not predict_last:  # U and I at the estimate
                _, U_ref, I_ref = d.derivatives(beta[m, : len(c)], cols=c)
                np.testing.assert_allclose(I[m, : len(c), : len(c)], I_ref, rtol=1e-10)


def test_newton_from_a_given_start_and_a_constant_column():
    """``start``: (ll, U, I) at beta0 given instead of evaluated: the same fit.  A column
    constant in the sample (singular information) is solved by least squares and stays at
    0, as numpy's solve falling back to lstsq."""
    d = _data(seed=8)
    bc = BatchedCox(d)
    XcT = _sorted_centred(d)
    XT = XcT[[0, 2]][None]
    pad = np.zeros((1, 2), dtype=bool)
    beta0 = np.array([[0.1, 0.1]])
    start = bc.derivs(XT, beta0)
    a = bc.newton(XT, pad, beta0)
    b = bc.newton(XT, pad, beta0, start=start)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    XT0 = np.stack([XcT[0], np.zeros(d.n)])[None]
    beta, ll, _, _, conv = bc.newton(XT0, pad, np.zeros((1, 2)))
    ref = d.fit(cols=[0])
    assert conv[0] and beta[0, 1] == 0.0
    np.testing.assert_allclose(beta[0, 0], ref.coef[0], rtol=0, atol=1e-10)


def test_solve_matches_numpy():
    """LU with partial pivoting = numpy.linalg.solve to rounding; a singular system = lstsq;
    a non-finite one NaN."""
    rng = np.random.default_rng(3)
    for q in (1, 2, 5, 9):
        B = rng.normal(size=(q, q))
        A = B @ B.T + q * np.eye(q)
        A[0] = A[0] * 1e-3  # not symmetric, still regular: pivoting matters
        b = rng.normal(size=q)
        np.testing.assert_allclose(cox_kernel.solve(A, b), np.linalg.solve(A, b), rtol=1e-12, atol=1e-14)
    S = np.array([[2.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 3.0]])
    b = np.array([1.0, 0.0, -1.0])
    np.testing.assert_allclose(cox_kernel.solve(S, b), np.linalg.lstsq(S, b, rcond=None)[0], rtol=1e-12)
    S[0, 2] = S[2, 0] = np.inf  # non-finite information (a diverging fit): NaN, never an error
    assert np.isnan(cox_kernel.solve(S, b)).all()


def test_score_statistics_equal_score_tests():
    """score_chisq from one evaluation at (beta_base, 0) of the model with every term
    added = the score test of adding each term alone (CoxProblem.score_add, R coxph's
    iter.max = 0 score test)."""
    d = _data(seed=9)
    design = Design(d.X_raw, ["a", "b", "c", "d"], {"a": [0], "b": [1], "c": [2], "d": [3]})
    pb = CoxProblem(design, d)
    base, terms = ["a"], ["b", "c", "d"]
    fit = pb.fit(base)
    bc = BatchedCox(d)
    XcT = _sorted_centred(d)
    beta = np.zeros((1, 4))
    beta[0, 0] = fit.coef[0]
    _, U, I = bc.derivs(XcT[[0, 1, 2, 3]][None], beta)
    chisq = cox_kernel.score_chisq(U[0], I[0], 1, np.array([1, 2, 3]), np.array([1, 1, 1]))
    for t, x in zip(terms, chisq):
        assert x == pytest.approx(pb.score_add(base, t)[0], rel=1e-9)
