"""Batched Cox Newton–Raphson: many Cox models on one weighted data set fitted together.

Method: the partial-likelihood derivatives of M models (Cox 1972; Efron 1977 ties) share
one risk-set structure, so the log-likelihood, score and information of all M come from
one stacked product.  On small samples the Efron-corrected risk-set sums are a matrix
product with a fixed at-risk-minus-dying matrix; on large samples (n × terms above
``_MATMUL_CELLS``) cumulative sums, as ``CoxData.derivatives``.  Newton–Raphson with step
halving and the stopping rule of ``CoxData.fit`` (relative log-likelihood change <=
1e-12), as R ``coxph`` (Therneau & Grambsch 2000, §3.2).

Used by the optimism bootstrap, where every selection step of every replicate fits a
batch of models warm-started from the parent model.
"""

from __future__ import annotations

import numpy as np

from crlmflow.survival.cox import CoxData

__all__ = ["FIT_TOL", "FIT_MAX_ITER", "BatchedCox", "batched_solve"]

FIT_TOL = 1e-12  # CoxData.fit's default relative log-likelihood tolerance
FIT_MAX_ITER = 50  # CoxData.fit's default
_MATMUL_CELLS = 4_000_000  # n x (weighted deaths) above this: cumulative sums instead of matmul


class BatchedCox:
    """Risk-set structure of a weighted CoxData, for derivatives of many models at once."""

    def __init__(self, data: CoxData):
        rs = data.risk_sets
        self.w = rs.weights
        self.wd = rs.death_weights
        self.dpos = rs.death_pos
        self.risk_end = rs.risk_end
        self.ds = rs.block_start
        self.de = rs.block_end
        g = rs.term_group
        self.g = g
        self.f = rs.term_frac
        self.c = rs.term_weight
        self.G = rs.n_groups
        self.rfg = rs.row_first_group
        self.death_group = rs.death_group
        # term segments per group (terms are sorted by group): reduceat starts
        if g.size:
            new = np.ones(g.size, dtype=bool)
            new[1:] = g[1:] != g[:-1]
            self.seg_start = np.flatnonzero(new)
            self.seg_group = g[self.seg_start]
        else:
            self.seg_start = np.zeros(0, dtype=np.intp)
            self.seg_group = np.zeros(0, dtype=np.intp)
        self.cf = self.c * self.f
        n = data.n
        self.wdn = np.zeros(n)
        self.wdn[self.dpos] = self.wd
        # Risk-set sums as one matrix product: E = A @ Et with Et[i, k] = 1{row i at risk at
        # term k} - f_k 1{row i dies in term k's tied block} (Efron), so that E[:, k] is the
        # Efron-corrected risk-set sum of term k.  The information's E2 part uses the same
        # matrix: sum_k c_k/E0_k * (at-risk - f_k * dying) = Et @ (c/E0).
        self.use_matmul = n * max(g.size, 1) <= _MATMUL_CELLS
        if self.use_matmul and g.size:
            ar = np.arange(n)[:, None]
            at_risk = ar <= self.risk_end[g][None, :]
            dying = (ar >= self.ds[g][None, :]) & (ar <= self.de[g][None, :])
            self.Et = np.ascontiguousarray(at_risk - dying * self.f[None, :])
            self.EtT = np.ascontiguousarray(self.Et.T)
        # log-likelihood of the empty model
        r = self.w
        C = np.cumsum(r)
        R = C[self.risk_end]
        D = C[self.de] - C[self.ds] + r[self.ds]
        E0 = R[g] - D[g] * self.f
        self.loglik_null = float(-(self.c @ np.log(E0))) if g.size else 0.0

    def derivs(self, XT: np.ndarray, beta: np.ndarray, need_info: bool = True):
        """XT: (M, q, n) sorted centred columns (zero rows for padding); beta: (M, q).
        Returns loglik (M,), U (M, q), I (M, q, q)."""
        if self.use_matmul and self.g.size:
            return self._derivs_matmul(XT, beta, need_info)
        return self._derivs_cumsum(XT, beta, need_info)

    def _derivs_matmul(self, XT, beta, need_info):
        M, q, n = XT.shape
        eta = np.matmul(beta[:, None, :], XT)[:, 0, :]
        r = self.w * np.exp(eta)
        A1 = np.empty((M, q + 1, n))
        A1[:, 0, :] = r
        np.multiply(XT, r[:, None, :], out=A1[:, 1:, :])
        E = (A1.reshape(M * (q + 1), n) @ self.Et).reshape(M, q + 1, -1)
        E0 = E[:, 0, :]
        loglik = eta @ self.wdn - np.log(E0) @ self.c
        M1 = E[:, 1:, :] / E0[:, None, :]
        U = XT @ self.wdn - M1 @ self.c
        if not need_info:
            return loglik, U, None
        Wt = r * ((self.c / E0) @ self.EtT)
        I = np.matmul(XT * Wt[:, None, :], XT.transpose(0, 2, 1)) - np.matmul(M1 * self.c, M1.transpose(0, 2, 1))
        return loglik, U, I

    def _derivs_cumsum(self, XT, beta, need_info):
        eta = np.matmul(beta[:, None, :], XT)[:, 0, :]
        r = self.w * np.exp(eta)
        M, q, n = XT.shape
        A1 = np.empty((M, q + 1, n))
        A1[:, 0, :] = r
        np.multiply(XT, r[:, None, :], out=A1[:, 1:, :])
        C = np.cumsum(A1, axis=2)
        R = C[:, :, self.risk_end]
        D = C[:, :, self.de] - C[:, :, self.ds] + A1[:, :, self.ds]
        E = R[:, :, self.g] - D[:, :, self.g] * self.f
        E0 = E[:, 0, :]
        loglik = eta[:, self.dpos] @ self.wd - np.log(E0) @ self.c
        M1 = E[:, 1:, :] / E0[:, None, :]
        XdT = XT[:, :, self.dpos]
        U = XdT @ self.wd - M1 @ self.c
        if not need_info:
            return loglik, U, None
        cE = self.c / E0
        a = np.zeros((M, self.G + 1))
        b = np.zeros((M, self.G))
        if self.seg_start.size:
            a[:, self.seg_group] = np.add.reduceat(cE, self.seg_start, axis=1)
            b[:, self.seg_group] = np.add.reduceat(cE * self.f, self.seg_start, axis=1)
        cumA = np.cumsum(a[:, ::-1], axis=1)[:, ::-1]
        # one weighted cross-product over all rows: the death rows' Efron correction enters
        # as a negative weight on the same rows (I = X' diag(rA - rB) X - M1 diag(c) M1')
        Wt = r * cumA[:, self.rfg]
        Wt[:, self.dpos] -= r[:, self.dpos] * b[:, self.death_group]
        I = np.empty((M, q, q))
        for m in range(M):  # per-model BLAS products beat numpy's stacked matmul here
            I[m] = (XT[m] * Wt[m]) @ XT[m].T
            I[m] -= (M1[m] * self.c) @ M1[m].T
        return loglik, U, I

    def newton(
        self,
        XT: np.ndarray,
        pad: np.ndarray,
        beta0: np.ndarray,
        tol: float = FIT_TOL,
        max_iter: int = FIT_MAX_ITER,
        predict_last: bool = False,
    ):
        """Newton-Raphson with step halving for every model of the batch, as CoxData.fit.

        pad: (M, q) True where a column is padding (kept at 0).  Returns beta, loglik, U, I
        (at beta) and converged flags.

        ``predict_last``: when the Newton decrement predicts a log-likelihood gain U'I^-1U/2
        within the stopping tolerance, take that last step without evaluating it (loglik +=
        the predicted gain; the error is O(|step|^3), ~1e-14 here).  This saves the
        confirming evaluation CoxData.fit does; U and I are then those of the previous
        iterate, so it is used only where the log-likelihood and coefficients are needed
        (selection, refit), not for Wald tests."""
        M, q, _ = XT.shape
        # Large samples (cumulative-sum path): after the first iteration keep the information
        # matrix of the previous iterate (re-evaluated only after a step halving) and
        # evaluate just loglik and score, O(n q) instead of O(n q^2).  From the warm starts
        # used in selection this converges in the same few steps to the same maximum (same
        # stopping rule); the information returned is then that of a nearby iterate, which
        # is only used for warm starts.  Small samples keep the exact Newton path.
        quasi = predict_last and not (self.use_matmul and self.g.size)
        beta = beta0.copy()
        padI = np.zeros((M, q, q))
        ii = np.arange(q)
        padI[:, ii, ii] = pad
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            ll, U, I = self.derivs(XT, beta)
            converged = np.zeros(M, dtype=bool)
            active = np.arange(M)
            for _ in range(max_iter):
                if active.size == 0:
                    break
                Xa, Ia, Ua, ba, lla = XT[active], I[active], U[active], beta[active], ll[active]
                step = batched_solve(Ia + padI[active], Ua)
                new = ba + step
                if predict_last:
                    gain = 0.5 * np.einsum("mq,mq->m", Ua, step)
                    last = (gain >= 0) & (gain <= tol * np.maximum(np.abs(lla), 1.0))
                    if last.any():
                        jl = active[last]
                        beta[jl] = new[last]
                        ll[jl] = lla[last] + gain[last]
                        converged[jl] = True
                        keep = ~last
                        active = active[keep]
                        if active.size == 0:
                            break
                        Xa, ba, lla, new, Ia = Xa[keep], ba[keep], lla[keep], new[keep], Ia[keep]
                ll_new, U_new, I_new = self.derivs(Xa, new, need_info=not quasi)
                if quasi:
                    I_new = Ia.copy()
                thr = lla - 1e-13 * np.abs(lla)
                bad = ~np.isfinite(ll_new) | (ll_new < thr)
                halve = 0
                while bad.any() and halve < 40:
                    jb = np.flatnonzero(bad)
                    new[jb] = (ba[jb] + new[jb]) / 2.0
                    l2, u2, i2 = self.derivs(Xa[jb], new[jb])
                    ll_new[jb], U_new[jb], I_new[jb] = l2, u2, i2
                    bad[jb] = ~np.isfinite(l2) | (l2 < thr[jb])
                    halve += 1
                ok = ~bad
                done = ok & (np.abs(ll_new - lla) <= tol * np.maximum(np.abs(ll_new), 1.0))
                acc = active[ok]
                beta[acc], ll[acc], U[acc], I[acc] = new[ok], ll_new[ok], U_new[ok], I_new[ok]
                converged[active[done]] = True
                active = active[ok & ~done]  # failed halving stops a model, like CoxData
        return beta, ll, U, I, converged


def batched_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve A[m] x[m] = b[m] for a stack of systems (least squares where A[m] is singular)."""
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.empty_like(b)
        for m in range(A.shape[0]):
            try:
                out[m] = np.linalg.solve(A[m], b[m])
            except np.linalg.LinAlgError:
                out[m] = np.linalg.lstsq(A[m], b[m], rcond=None)[0]
        return out
