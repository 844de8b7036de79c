"""BatchedCox's large-sample derivatives equal CoxData's exact ones (Efron ties, weights)."""

from __future__ import annotations

import numpy as np
import pytest

import crlmflow.validation.batch_cox as batch_cox
from crlmflow.survival.cox import CoxData


def _tied_data(n: int = 4000, seed: int = 11):
    """Day-resolution times (many tied deaths), bootstrap-like integer weights, 3 columns."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.gamma(2.0, 1.0, n)])
    lp = 0.4 * X[:, 0] - 0.5 * X[:, 1] + 0.2 * X[:, 2]
    t = np.ceil(rng.exponential(400.0 * np.exp(-lp)))
    c = np.ceil(rng.uniform(50, 1500, n))
    time, event = np.minimum(t, c), (t <= c).astype(float)
    w = rng.poisson(1.0, n).astype(float)
    return CoxData(time, event, X, weights=w)


@pytest.mark.parametrize("series_rho", [batch_cox._SERIES_RHO, -1.0])
def test_cumsum_path_equals_exact_derivatives(monkeypatch, series_rho):
    """Segment sums over rows and the tie terms' power series in D0/R0 (where D0/R0 <=
    _SERIES_RHO; term by term elsewhere) give CoxData.derivatives' log-likelihood, score
    and information to rounding, for several models at once; -1 forces term-by-term sums
    everywhere.  The default data use both branches."""
    monkeypatch.setattr(batch_cox, "_MATMUL_CELLS", 0)
    monkeypatch.setattr(batch_cox, "_SERIES_RHO", series_rho)
    d = _tied_data()
    bc = batch_cox.BatchedCox(d)
    assert not bc.use_matmul
    assert d.risk_sets.n_groups < 0.5 * d.n_events  # many tied event times
    Xs = d.X_raw[d.order]
    XcT = (Xs - Xs.mean(axis=0)).T
    cols = [[0, 1, 2], [0, 2, 1], [1, 2, 0]]  # three models, columns permuted
    XT = np.stack([XcT[c] for c in cols])
    betas = np.array([[0.3, -0.4, 0.1], [0.5, 0.25, -0.2], [-0.6, 0.0, 0.35]])
    ll, U, I = bc.derivs(XT, betas)
    rho_max, rho_min = 0.0, 1.0
    for m, c in enumerate(cols):
        ll_ref, U_ref, I_ref = d.derivatives(betas[m], cols=c)
        assert ll[m] == pytest.approx(ll_ref, rel=1e-13)
        np.testing.assert_allclose(U[m], U_ref, rtol=1e-10, atol=1e-9 * np.abs(U_ref).max())
        np.testing.assert_allclose(I[m], I_ref, rtol=1e-11)
        r = d.risk_sets.weights * np.exp(XT[m].T @ betas[m])
        C = np.cumsum(r)
        rs = d.risk_sets
        live = rs.deaths > 0
        D = (C[rs.block_end] - C[rs.block_start] + r[rs.block_start])[live]
        rho = D / C[rs.risk_end][live]
        rho_max, rho_min = max(rho_max, float(rho.max())), min(rho_min, float(rho.min()))
    if series_rho > 0:  # both the series and the term-by-term branch were used
        assert rho_min <= series_rho < rho_max


def test_one_column_models_take_second_moments_as_risk_set_sums(monkeypatch):
    """Models of one column (univariable screening) sum r x^2 over risk sets instead of the
    weighted cross-product over rows: the same derivatives as CoxData's exact ones."""
    monkeypatch.setattr(batch_cox, "_MATMUL_CELLS", 0)
    d = _tied_data(seed=12)
    bc = batch_cox.BatchedCox(d)
    Xs = d.X_raw[d.order]
    XT = (Xs - Xs.mean(axis=0)).T[:, None, :]  # three models of one column each
    betas = np.array([[0.35], [-0.45], [0.2]])
    ll, U, I = bc.derivs(XT, betas)
    assert I.shape == (3, 1, 1)
    for m in range(3):
        ll_ref, U_ref, I_ref = d.derivatives(betas[m], cols=[m])
        assert ll[m] == pytest.approx(ll_ref, rel=1e-13)
        np.testing.assert_allclose(U[m], U_ref, rtol=1e-10)
        np.testing.assert_allclose(I[m], I_ref, rtol=1e-11)
