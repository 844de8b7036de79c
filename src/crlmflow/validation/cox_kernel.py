"""Compiled Cox kernels for small samples: Efron derivatives, whole Newton fits, score tests.

Method: rows sorted by descending time (``crlmflow.survival.risksets``), so the risk set of
the g-th event time is the prefix of rows up to ``risk_end[g]`` and its tied deaths one
block ``ds[g]..de[g]``.  Efron's (1977) term k of a time with d tied deaths has risk-set
sums E_k = R - f_k D (f_k = k/d; R the risk set, D the dying block), and

* log L = sum_i wd_i eta_i - sum_k c_k log E0_k,
* U = sum_i wd_i x_i - sum_k c_k M1_k (M1_k = E1_k / E0_k),
* I = sum_k c_k (E2_k / E0_k - M1_k M1_k') = sum_i r_i (A_i - 1{i dies} b_g(i)) x_i x_i'
  - sum_k c_k M1_k M1_k', with a_g = sum_(k in g) c_k / E0_k, A_i = sum of a_g over the risk
  sets holding row i and b_g = sum_(k in g) c_k f_k / E0_k (the second moments never formed
  per risk set, as ``CoxData._derivs``; Therneau & Grambsch 2000, §3.3).

One pass over the rows for the risk-set sums, one for the information: O(n q^2) per model.
Newton-Raphson with step halving and the stopping rule of ``CoxData.fit`` (relative
log-likelihood change <= tol; R ``coxph``, Therneau & Grambsch 2000, §3.2), one whole fit
per model in one call: the per-call overhead of NumPy on a few hundred rows, not the
arithmetic, is what a bootstrap with selection in every replicate pays for.  Linear systems
by LU with partial pivoting; an exactly singular one by minimum-norm least squares (as
``numpy.linalg.solve`` raising and ``lstsq`` taking over).

Compiled by numba with ``cache=True``: each process loads the machine code from the
package's ``__pycache__`` (or numba's user cache directory where that is read-only) after
the first compilation.  Pinned against ``CoxData`` in ``tests/validation/test_cox_kernel.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["solve", "derivs_batch", "newton_batch", "score_chisq"]

_HALVE_MAX = 40  # step halvings before a model's fit stops (as BatchedCox.newton)


@njit(cache=True, error_model="numpy")
def solve(A, b):
    """x with A x = b (A square): LU with partial pivoting; minimum-norm least squares
    (LAPACK gelsd, rcond = eps * q, numpy's default) if a pivot is exactly zero.  Non-finite
    entries propagate to NaN (as numpy.linalg.solve), never raise."""
    q = b.size
    LU = A.copy()
    x = b.copy()
    for j in range(q):
        p = j
        big = abs(LU[j, j])
        for i in range(j + 1, q):
            if abs(LU[i, j]) > big:
                big = abs(LU[i, j])
                p = i
        if big == 0.0:  # exactly singular (numpy.linalg.solve raises: lstsq instead)
            if not np.isfinite(A).all() or not np.isfinite(b).all():
                return np.full(q, np.nan)  # nothing to solve; NaN, as LAPACK propagates it
            return np.linalg.lstsq(A.copy(), b.copy(), np.finfo(np.float64).eps * q)[0]
        if p != j:
            for k in range(q):
                t = LU[j, k]
                LU[j, k] = LU[p, k]
                LU[p, k] = t
            t = x[j]
            x[j] = x[p]
            x[p] = t
        piv = LU[j, j]
        for i in range(j + 1, q):
            m = LU[i, j] / piv
            if m != 0.0:
                for k in range(j + 1, q):
                    LU[i, k] -= m * LU[j, k]
                x[i] -= m * x[j]
    for j in range(q - 1, -1, -1):
        s = x[j]
        for k in range(j + 1, q):
            s -= LU[j, k] * x[k]
        x[j] = s / LU[j, j]
    return x


@njit(cache=True, error_model="numpy")
def _work(n, G, K, q):
    """Scratch arrays of ``_derivs`` for one model (reused across its Newton iterations)."""
    return (np.empty(n), np.empty(n), np.empty(G), np.empty(G), np.empty((G, q)), np.empty((G, q)),
            np.empty(G), np.empty(G), np.empty((q, K)), np.empty(G + 1), np.empty(q))  # fmt: skip


@njit(cache=True, error_model="numpy")
def _derivs(x, beta, w, wdn, risk_end, ds, de, g, f, c, rfg, dgrp, need_info, U, I, work, blk):
    """Log-likelihood (returned), score U and information I (written) of one model:
    x (q, n) sorted centred columns, beta (q,); ``work`` from ``_work``; ``blk`` (q,) the
    block of each column: I between two different blocks > 0 is not computed (set to 0)."""
    q, n = x.shape
    G = risk_end.size
    K = g.size
    eta, r, R0, D0, R1, D1, a, b, M1, cumA, s1 = work
    eta[:] = 0.0
    for j in range(q):
        bj = beta[j]
        if bj != 0.0:
            for i in range(n):
                eta[i] += bj * x[j, i]
    ll = 0.0
    for j in range(q):
        U[j] = 0.0
    for i in range(n):
        r[i] = w[i] * np.exp(eta[i])
        if wdn[i] != 0.0:
            ll += wdn[i] * eta[i]
            for j in range(q):
                U[j] += wdn[i] * x[j, i]
    # risk-set sums (prefix up to risk_end) and dying-block sums of every group
    R0 = np.empty(G)
    D0 = np.empty(G)
    R1 = np.empty((G, q))
    D1 = np.empty((G, q))
    s0 = 0.0
    s1[:] = 0.0
    i = 0
    for gg in range(G):
        while i <= risk_end[gg]:
            s0 += r[i]
            for j in range(q):
                s1[j] += r[i] * x[j, i]
            i += 1
        R0[gg] = s0
        d0 = 0.0
        for j in range(q):
            R1[gg, j] = s1[j]
            D1[gg, j] = 0.0
        for ii in range(ds[gg], de[gg] + 1):
            d0 += r[ii]
            for j in range(q):
                D1[gg, j] += r[ii] * x[j, ii]
        D0[gg] = d0
    a[:] = 0.0
    b[:] = 0.0
    for k in range(K):
        gg = g[k]
        fk, ck = f[k], c[k]
        e0 = R0[gg] - fk * D0[gg]
        ll -= ck * np.log(e0)
        for j in range(q):
            m = (R1[gg, j] - fk * D1[gg, j]) / e0
            M1[j, k] = m
            U[j] -= ck * m
        a[gg] += ck / e0
        b[gg] += ck * fk / e0
    if not need_info:
        return ll
    # A_i: suffix sums of a over the groups whose risk set holds row i
    cumA[G] = 0.0
    for gg in range(G - 1, -1, -1):
        cumA[gg] = cumA[gg + 1] + a[gg]
    Wt = eta  # eta is not needed any more: the rows' weights of the information
    for i in range(n):
        wt = cumA[rfg[i]]
        if dgrp[i] >= 0:
            wt -= b[dgrp[i]]
        Wt[i] = wt * r[i]
    for j in range(q):
        for k in range(j, q):
            if blk[j] != blk[k] and blk[j] > 0 and blk[k] > 0:
                I[j, k] = I[k, j] = 0.0
                continue
            s = 0.0
            for i in range(n):
                s += Wt[i] * x[j, i] * x[k, i]
            for kk in range(K):
                s -= c[kk] * M1[j, kk] * M1[k, kk]
            I[j, k] = I[k, j] = s
    return ll


@njit(cache=True, error_model="numpy")
def derivs_batch(XT, beta, need_info, blk, w, wdn, risk_end, ds, de, g, f, c, rfg, dgrp):
    """loglik (M,), U (M, q), I (M, q, q) of M models: XT (M, q, n), beta (M, q); ``blk``
    as ``_derivs`` (all 0: the whole information)."""
    M, q, _ = XT.shape
    ll = np.empty(M)
    U = np.zeros((M, q))
    I = np.zeros((M, q, q))
    work = _work(XT.shape[2], risk_end.size, g.size, q)
    for m in range(M):
        ll[m] = _derivs(XT[m], beta[m], w, wdn, risk_end, ds, de, g, f, c, rfg, dgrp, need_info, U[m], I[m], work, blk)
    return ll, U, I


@njit(cache=True, error_model="numpy")
def _newton_one(x, beta, tol, max_iter, predict_last, ll, U, I, rs, work):
    """Newton-Raphson with step halving from ``beta`` (updated in place) with (ll, U, I)
    at ``beta``; returns (loglik, converged); U, I are left at the last evaluated iterate."""
    w, wdn, risk_end, ds, de, g, f, c, rfg, dgrp = rs
    q = beta.size
    blk = np.zeros(q, dtype=np.int64)
    U2 = np.empty(q)
    I2 = np.empty((q, q))
    for _ in range(max_iter):
        step = solve(I, U)
        new = beta + step
        if predict_last:
            gain = 0.5 * np.dot(U, step)
            if gain >= 0.0 and gain <= tol * max(abs(ll), 1.0):
                beta[:] = new
                return ll + gain, True
        ll_new = _derivs(x, new, w, wdn, risk_end, ds, de, g, f, c, rfg, dgrp, True, U2, I2, work, blk)
        thr = ll - 1e-13 * abs(ll)
        bad = not np.isfinite(ll_new) or ll_new < thr
        halve = 0
        while bad and halve < _HALVE_MAX:
            new = (beta + new) / 2.0
            ll_new = _derivs(x, new, w, wdn, risk_end, ds, de, g, f, c, rfg, dgrp, True, U2, I2, work, blk)
            bad = not np.isfinite(ll_new) or ll_new < thr
            halve += 1
        if bad:  # failed halving stops the fit, like CoxData
            return ll, False
        done = abs(ll_new - ll) <= tol * max(abs(ll_new), 1.0)
        beta[:] = new
        ll = ll_new
        U[:] = U2
        I[:, :] = I2
        if done:
            return ll, True
    return ll, False


@njit(cache=True, error_model="numpy")
def newton_batch(XT, pad, beta0, tol, max_iter, predict_last, has_start, ll0, U0, I0, rs):
    """Newton fits of M models: XT (M, q, n), pad (M, q) True for padding columns (kept at
    0), beta0 (M, q); with ``has_start``, (ll0, U0, I0) are every model's values at beta0.
    Returns beta, loglik, U, I (padding entries 0) and converged flags."""
    w, wdn, risk_end, ds, de, g, f, c, rfg, dgrp = rs
    M, qmax, n = XT.shape
    beta = np.zeros((M, qmax))
    ll = np.empty(M)
    U = np.zeros((M, qmax))
    I = np.zeros((M, qmax, qmax))
    conv = np.zeros(M, dtype=np.bool_)
    for m in range(M):
        cols = np.flatnonzero(~pad[m])
        q = cols.size
        x = np.empty((q, n))
        b = np.empty(q)
        for j in range(q):
            x[j] = XT[m, cols[j]]
            b[j] = beta0[m, cols[j]]
        Um = np.empty(q)
        Im = np.empty((q, q))
        work = _work(n, risk_end.size, g.size, q)
        if has_start:
            lm = ll0[m]
            for j in range(q):
                Um[j] = U0[m, cols[j]]
                for k in range(q):
                    Im[j, k] = I0[m, cols[j], cols[k]]
        else:
            lm = _derivs(
                x, b, w, wdn, risk_end, ds, de, g, f, c, rfg, dgrp, True, Um, Im, work, np.zeros(q, dtype=np.int64)
            )
        ll[m], conv[m] = _newton_one(x, b, tol, max_iter, predict_last, lm, Um, Im, rs, work)
        for j in range(q):
            beta[m, cols[j]] = b[j]
            U[m, cols[j]] = Um[j]
            for k in range(q):
                I[m, cols[j], cols[k]] = Im[j, k]
    return beta, ll, U, I, conv


@njit(cache=True, error_model="numpy")
def score_chisq(U, I, nb, starts, ks):
    """Score statistics U_s' I_ss^-1 U_s of the index sets s = (0..nb-1, starts[t]..starts[t]
    + ks[t] - 1), one per t: the tests of adding each term t to a base model of nb columns
    from one evaluation at (beta_base, 0) of the model with every term added."""
    T = starts.size
    out = np.empty(T)
    for t in range(T):
        k = ks[t]
        idx = np.empty(nb + k, dtype=np.int64)
        for j in range(nb):
            idx[j] = j
        for j in range(k):
            idx[nb + j] = starts[t] + j
        s = idx.size
        A = np.empty((s, s))
        u = np.empty(s)
        for j in range(s):
            u[j] = U[idx[j]]
            for l in range(s):
                A[j, l] = I[idx[j], idx[l]]
        out[t] = np.dot(u, solve(A, u))
    return out
