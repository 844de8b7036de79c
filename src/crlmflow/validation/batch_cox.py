"""Batched Cox Newton–Raphson: many Cox models on one weighted data set fitted together.

Method: the partial-likelihood derivatives of M models (Cox 1972; Efron 1977 ties) share
one risk-set structure.  On small samples (n × terms up to ``_MATMUL_CELLS``) compiled
kernels (``crlmflow.validation.cox_kernel``: one pass over the rows per model, whole
Newton fits in one call); on large samples segment sums over the rows between event
times, accumulated over the distinct event times, with every sum over tied deaths' Efron
terms collapsed to sums of scalars per distinct time (``_derivs_cumsum``), each a short
power series in the dying share D0/R0 of the risk set (``_term_sums``).  Newton–Raphson
with step halving and the stopping rule of ``CoxData.fit`` (relative log-likelihood
change <= 1e-12), as R ``coxph`` (Therneau & Grambsch 2000, §3.2).

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
_SERIES_RHO = 0.01  # dying-block share D0/R0 up to which tie-term sums use the power series
_SERIES_J = 9  # its last power: tail below (J + 2) rho^(J+1) / (1 - rho)^2 ~ 1.1e-19


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
        # below _MATMUL_CELLS: the compiled kernels of ``cox_kernel`` (one call per batch,
        # whole Newton fits), on the risk-set arrays below
        self.use_matmul = n * max(g.size, 1) <= _MATMUL_CELLS
        if not self.use_matmul:
            self._collapse_to_groups(n)
        dgrp = np.full(n, -1, dtype=np.intp)  # group of each row of a dying block, else -1
        dgrp[self.dpos] = self.death_group
        self.kernel_arrays = tuple(
            np.ascontiguousarray(a)
            for a in (self.w, self.wdn, self.risk_end, self.ds, self.de, g, self.f, self.c, self.rfg, dgrp)
        )
        # log-likelihood of the empty model
        r = self.w
        C = np.cumsum(r)
        R = C[self.risk_end]
        D = C[self.de] - C[self.ds] + r[self.ds]
        E0 = R[g] - D[g] * self.f
        self.loglik_null = float(-(self.c @ np.log(E0))) if g.size else 0.0

    def _collapse_to_groups(self, n: int) -> None:
        """Row segments and tie-term power sums of the cumulative-sum path.

        Rows are cut at every death block and risk-set end, so each group's risk-set sum is
        a prefix of segment sums and its dying block one segment.  Each live group's tie
        terms enter through their power sums Q_j (see ``_term_sums``); live groups are kept
        in descending order of their number of terms."""
        live = self.seg_group  # groups with at least one term (deaths of positive weight)
        cuts = np.concatenate([[0], self.ds[live], self.de[live] + 1, self.risk_end[live] + 1])
        self.row_seg = np.unique(cuts[cuts < n])
        self.seg_bounds = np.append(self.row_seg, n)
        counts = np.diff(np.append(self.seg_start, self.g.size))
        perm = np.argsort(-counts, kind="stable")
        self.live_perm = live[perm]  # live groups, most tie terms first
        self.risk_seg = np.searchsorted(self.row_seg, self.risk_end[self.live_perm], side="right") - 1
        self.death_seg = np.searchsorted(self.row_seg, self.ds[self.live_perm])
        self.term_count = counts[perm]
        self.term_first = self.seg_start[perm]  # first term of each live group (that order)
        # power sums Q_j = sum_k c_k f_k^j of every live group's tie terms, j = 0..J+2
        Q = np.zeros((0, _SERIES_J + 3))
        if self.seg_start.size:
            Q = np.stack([np.add.reduceat(self.c * self.f**j, self.seg_start) for j in range(_SERIES_J + 3)], axis=1)[
                perm
            ]
        j = np.arange(_SERIES_J + 1, dtype=float)
        ll_coef = np.zeros(_SERIES_J + 1)
        ll_coef[1:] = 1.0 / j[1:]
        J1 = _SERIES_J + 1
        # (live groups, j, 6): coefficients of rho^j in s0, s1, t0, t1, t2 and the log sum
        self.Q0 = Q[:, 0]
        self.series_coef = np.ascontiguousarray(
            np.stack(
                [
                    Q[:, :J1],
                    Q[:, 1 : J1 + 1],
                    (j + 1) * Q[:, :J1],
                    (j + 1) * Q[:, 1 : J1 + 1],
                    (j + 1) * Q[:, 2 : J1 + 2],
                    ll_coef * Q[:, :J1],
                ],
                axis=2,
            )
        )
        # row weight of the information: sum of a_g over the risk sets holding the row, less
        # b_g for a row dying at group g; one gather from [cumA (G + 1), cumA[:G] - b (G)]
        self.row_w = self.rfg.copy()
        self.row_w[self.dpos] = self.G + 1 + self.death_group

    def derivs(
        self, XT: np.ndarray, beta: np.ndarray, need_info: bool = True, sd: np.ndarray | None = None, blocks=None
    ):
        """XT: (M, q, n) sorted centred columns (zero rows for padding); beta: (M, q).
        ``sd``: (M, q) weighted column sums over the deaths, XT @ death weights (computed
        if not given).  ``blocks``: (q,) block of each column; on small samples the
        information between two different blocks > 0 is left 0 (not needed by score tests
        of single terms).  Returns loglik (M,), U (M, q), I (M, q, q)."""
        if self.use_matmul and self.g.size:
            return self._derivs_small(XT, beta, need_info, blocks)
        return self._derivs_cumsum(XT, beta, need_info, XT @ self.wdn if sd is None else sd)

    def _derivs_small(self, XT, beta, need_info, blocks):
        """The compiled small-sample derivatives (``cox_kernel.derivs_batch``)."""
        from crlmflow.validation import cox_kernel  # numba: imported where needed (0.2 s)

        blk = np.zeros(XT.shape[1], dtype=np.int64) if blocks is None else np.asarray(blocks, dtype=np.int64)
        ll, U, I = cox_kernel.derivs_batch(
            np.ascontiguousarray(XT, dtype=float),
            np.ascontiguousarray(beta, dtype=float),
            need_info,
            blk,
            *self.kernel_arrays,
        )
        return ll, U, (I if need_info else None)

    def _derivs_cumsum(self, XT, beta, need_info, sd):
        """Risk-set sums from segment sums (one pass over the rows), then every Efron sum
        per distinct event time: with E0_k = R0 - f_k D0 for the terms k of a time,
        sum_k c_k (R1 - f_k D1)/E0_k = R1 s0 - D1 s1 (s_j = sum_k c_k f_k^j / E0_k) and
        sum_k c_k M1_k M1_k' = R1 R1' t0 - (R1 D1' + D1 R1') t1 + D1 D1' t2
        (t_j = sum_k c_k f_k^j / E0_k^2): O(G q^2) instead of O(K q^2) for K terms.
        Models of one column (univariable screening) also take their second moments as
        risk-set sums: sum_k c_k E2_k / E0_k = R2 s0 - D2 s1."""
        M, q, n = XT.shape
        one = q == 1
        eta = XT[:, 0, :] * beta[:, :1] if one else np.matmul(beta[:, None, :], XT)[:, 0, :]
        if not self.g.size:  # no deaths of positive weight: a flat likelihood
            return np.zeros(M), np.zeros((M, q)), (np.zeros((M, q, q)) if need_info else None)
        from crlmflow.validation._compiled import segment_sums  # numba: imported where needed (0.2 s)

        r = self.w * np.exp(eta)
        S = segment_sums(XT, r, self.seg_bounds, one)
        R = np.cumsum(S, axis=2)[:, :, self.risk_seg]
        D = S[:, :, self.death_seg]
        ll_terms, s = self._term_sums(R[:, 0, :], D[:, 0, :])
        loglik = np.einsum("mq,mq->m", beta, sd) - ll_terms
        s0, s1 = s[0], s[1]
        R1, D1 = R[:, 1 : q + 1, :], D[:, 1 : q + 1, :]
        U = sd - np.einsum("mqg,mg->mq", R1, s0) + np.einsum("mqg,mg->mq", D1, s1)
        if not need_info:
            return loglik, U, None
        t0, t1, t2 = s[2], s[3], s[4]
        if one:
            r1, d1 = R1[:, 0, :], D1[:, 0, :]
            I = np.einsum("mg,mg->m", R[:, 2, :], s0) - np.einsum("mg,mg->m", D[:, 2, :], s1)
            I -= np.einsum("mg,mg->m", r1 * r1, t0) - 2.0 * np.einsum("mg,mg->m", r1 * d1, t1)
            I -= np.einsum("mg,mg->m", d1 * d1, t2)
            return loglik, U, I[:, None, None]
        G = self.G
        ab = np.zeros((M, 2 * G + 1))
        ab[:, self.live_perm] = s0
        ab[:, : G + 1] = np.cumsum(ab[:, G::-1], axis=1)[:, ::-1]
        ab[:, G + 1 :] = ab[:, :G]
        ab[:, G + 1 + self.live_perm] -= s1
        # one weighted cross-product over all rows: the death rows' Efron correction enters
        # as a negative weight on the same rows
        Wt = r * ab[:, self.row_w]
        I = np.empty((M, q, q))
        for m in range(M):  # per-model BLAS products beat numpy's stacked matmul here
            R1t1 = R1[m] * t1[m]
            I[m] = (XT[m] * Wt[m]) @ XT[m].T
            I[m] -= (R1[m] * t0[m]) @ R1[m].T - R1t1 @ D1[m].T - D1[m] @ R1t1.T + (D1[m] * t2[m]) @ D1[m].T
        return loglik, U, I

    def _term_sums(self, R0: np.ndarray, D0: np.ndarray):
        """Sums over the tie terms of every live group (``live_perm`` order), for M models:
        sum_k c_k log E0_k (M,) and, stacked as (s0, s1, t0, t1, t2) in one (5, M, live
        groups) array, s_j = sum_k c_k f_k^j / E0_k (j = 0, 1) and t_j = sum_k c_k f_k^j /
        E0_k^2 (j = 0, 1, 2); E0_k = R0 - f_k D0 of the term's group.

        With rho = D0 / R0, 1 / E0_k = (1 / R0) sum_j (f_k rho)^j, so every sum is a power
        series in rho whose coefficients are the group's power sums Q_j = sum_k c_k f_k^j
        (fixed for the sample): s0 = sum_j rho^j Q_j / R0, s1 = sum_j rho^j Q_(j+1) / R0,
        t_i = sum_j (j + 1) rho^j Q_(j+i) / R0^2, sum_k c_k log E0_k = Q_0 log R0 -
        sum_(j>=1) rho^j Q_j / j.  Where rho <= _SERIES_RHO (all but the last few event
        times, where few remain at risk) the series to j = _SERIES_J leaves out less than
        (J + 2) rho^(J+1) / (1 - rho)^2 ~ 1e-19 of each sum (below rounding): O(J) per
        group instead of O(d) per tied death.  Other groups are summed term by term."""
        from crlmflow.validation._compiled import series_sums  # numba: imported where needed (0.2 s)

        with np.errstate(divide="ignore", invalid="ignore"):
            rho = D0 / R0
        s, logterm = series_sums(R0, D0, self.series_coef, self.Q0)
        late = np.flatnonzero(~(rho <= _SERIES_RHO).all(axis=0))
        if late.size:
            logterm[:, late] = self._direct_sums(R0[:, late], D0[:, late], late, s)
        return logterm.sum(axis=1), s

    def _direct_sums(self, R0, D0, late, s):
        """Term-by-term sums of the groups ``late`` (written into ``s``); returns their log sums."""
        cnt = self.term_count[late]
        seg = np.cumsum(cnt) - cnt
        rep = np.repeat(np.arange(late.size), cnt)
        tidx = np.repeat(self.term_first[late], cnt) + (np.arange(rep.size) - np.repeat(seg, cnt))
        f, c = self.f[tidx], self.c[tidx]
        E = R0[:, rep] - f * D0[:, rep]
        a = c / E
        a2 = a / E
        for i, v in enumerate((a, a * f, a2, a2 * f, a2 * (f * f))):
            s[i][:, late] = np.add.reduceat(v, seg, axis=1)
        return np.add.reduceat(np.log(E) * c, seg, axis=1)

    def newton(
        self,
        XT: np.ndarray,
        pad: np.ndarray,
        beta0: np.ndarray,
        tol: float = FIT_TOL,
        max_iter: int = FIT_MAX_ITER,
        predict_last: bool = False,
        start: tuple | None = None,
    ):
        """Newton-Raphson with step halving for every model of the batch, as CoxData.fit
        (on small samples the same algorithm compiled: ``cox_kernel.newton_batch``).

        pad: (M, q) True where a column is padding (kept at 0).  Returns beta, loglik, U, I
        (at beta) and converged flags.

        ``predict_last``: when the Newton decrement predicts a log-likelihood gain U'I^-1U/2
        within the stopping tolerance, take that last step without evaluating it (loglik +=
        the predicted gain; the error is O(|step|^3), ~1e-14 here).  This saves the
        confirming evaluation CoxData.fit does; U and I are then those of the previous
        iterate, so it is used only where the log-likelihood and coefficients are needed
        (selection, refit), not for Wald tests.

        ``start``: (loglik, U, I) of every model at ``beta0`` when already computed (e.g.
        by the score test that chose the entering term), saving the first evaluation."""
        if self.use_matmul and self.g.size:  # one compiled call fits the whole batch
            from crlmflow.validation import cox_kernel  # numba: imported where needed (0.2 s)

            has = start is not None
            ll0, U0, I0 = start if has else (np.zeros(1), np.zeros((1, 1)), np.zeros((1, 1, 1)))
            return cox_kernel.newton_batch(
                np.ascontiguousarray(XT, dtype=float),
                np.ascontiguousarray(pad, dtype=bool),
                np.ascontiguousarray(beta0, dtype=float),
                float(tol),
                int(max_iter),
                bool(predict_last),
                has,
                np.ascontiguousarray(ll0, dtype=float),
                np.ascontiguousarray(U0, dtype=float),
                np.ascontiguousarray(I0, dtype=float),
                self.kernel_arrays,
            )
        M, q, _ = XT.shape
        beta = beta0.copy()
        padI = np.zeros((M, q, q))
        ii = np.arange(q)
        padI[:, ii, ii] = pad
        sd = XT @ self.wdn  # death sums of the columns: fixed across iterations
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            ll, U, I = self.derivs(XT, beta, sd=sd) if start is None else (a.copy() for a in start)
            converged = np.zeros(M, dtype=bool)
            active = np.arange(M)
            for _ in range(max_iter):
                if active.size == 0:
                    break
                if active.size == M:  # every model still moving: views, not copies of XT
                    Xa, Ia, Ua, ba, lla, sa = XT, I, U, beta.copy(), ll.copy(), sd
                else:
                    Xa, Ia, Ua, ba, lla, sa = XT[active], I[active], U[active], beta[active], ll[active], sd[active]
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
                        Xa, ba, lla, new, sa = Xa[keep], ba[keep], lla[keep], new[keep], sa[keep]
                ll_new, U_new, I_new = self.derivs(Xa, new, sd=sa)
                thr = lla - 1e-13 * np.abs(lla)
                bad = ~np.isfinite(ll_new) | (ll_new < thr)
                halve = 0
                while bad.any() and halve < 40:
                    jb = np.flatnonzero(bad)
                    new[jb] = (ba[jb] + new[jb]) / 2.0
                    l2, u2, i2 = self.derivs(Xa[jb], new[jb], sd=sa[jb])
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
