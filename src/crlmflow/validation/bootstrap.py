"""Harrell's bootstrap optimism correction with the *whole* modelling procedure repeated in
every replicate (univariable screening at p < screen_p, then stepAIC / Forward-LR), plus a
percentile bootstrap CI of Harrell's C for a fixed model.

Method (Harrell, Lee & Mark, Stat Med 1996; Steyerberg, Clinical Prediction Models, ch. 17):
for replicate b draw n patients with replacement, re-run the procedure on that sample, and
evaluate the refitted model on the bootstrap sample ("training") and on the original data
("test").  optimism = mean(training - test); corrected = apparent - optimism.

Conventions (documented because R differs in places):

* Harrell's C is in the *risk* convention (higher lp = shorter survival), as
  ``survival::concordance(coxph)``; Dxy = 2C - 1 is then positive for a useful model.  This
  equals rms ``validate.cph``'s Dxy, which is ``dxy.cens(lp, Surv, type = "hazard")`` =
  minus Somers' Dxy between lp and survival time.
* rms ``validate``'s ``index.orig`` refits the model with ``coxphFit(eps = 1e-4,
  iter.max = 10)``; those loosely converged coefficients can reorder one or two pairs of lp,
  so Dxy moves by ~1e-4.  ``apparent_performance(..., fit_tol=1e-4, fit_max_iter=10)``
  reproduces R's ``index.orig`` Dxy and R2 exactly; the default is a fully converged fit.
* Calibration slope: coefficient of a Cox model of the outcome on the refit's lp in the
  evaluation data.  On the bootstrap sample it is 1 by construction (the lp is that sample's
  MLE), so ``slope_training`` is 1.0 without a fit.  Replicates that select nothing (null
  model: constant lp) have C = 0.5, Dxy = 0, R2 = 0, slope NaN (left out of the slope mean:
  rms would count 1 / 1 there), and the Brier score of the bootstrap sample's Kaplan-Meier
  estimate.
* R2 is rms's: (1 - exp(-LR/n)) / (1 - exp(2 loglik0 / n)), LR of the fit (training) or of
  the slope fit (test), n = number of patients.
* Brier score at each horizon: IPCW Brier with reverse-KM censoring weights, as
  ``crlmflow.validation.roc.brier_score`` (riskRegression::Score); on the bootstrap sample
  with frequency weights (identical to ``brier_score`` on the duplicated rows).
* Predicted survival S(t | x) = exp(-H0(t) exp(lp)) with the Efron-type baseline hazard of
  the (weighted) fitting sample, as ``modelling.predict``.

Speed: a resample is integer frequency weights on one ``CoxData`` (sorted once); all Cox
models of a selection step (the 27 univariable screens, every "- term"/"+ term" model of a
stepAIC step, every entry / removal model of Forward-LR) are fitted *together* by a batched
Newton-Raphson (same algorithm and stopping rule as ``CoxData.fit``: step halving, relative
log-likelihood change <= 1e-12), warm-started from the parent model; on large samples
(cumulative-sum path) the selection fits reuse the previous iterate's information matrix
(quasi-Newton, O(n q) per iteration; same maximum, pinned by a test).  Harrell's C of a
replicate is two quadratic forms in the weights with a comparable-pair matrix built once
(n <= _PAIR_LIMIT), else ``WeightedConcordance`` (O(n log n), training and test C together).

Reproducibility: replicate b of endpoint k uses ``replicate_rng(seed, k, b)`` only, so any
chunking of the replicates and any number of processes give identical results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from crlmflow.survival.cox import CoxData, baseline_hazard, baseline_survival_at
from crlmflow.survival.design import normalise_candidates
from crlmflow.report.formats import horizon_key
from crlmflow.model.modelling import select_model
from crlmflow.survival.selection import (CoxProblem, check_method, prepare, screen_terms, select_terms,
                                         univariable_cox)
from crlmflow.validation.concordance import WeightedConcordance, concordance_index, timefix
from crlmflow.validation._km import km_at
from crlmflow.validation.roc import brier_score

__all__ = [
    "replicate_rng",
    "bootstrap_indices",
    "ReplicateEngine",
    "run_replicates",
    "run_replicates_parallel",
    "apparent_performance",
    "summarise_optimism",
    "selection_frequency",
    "BootstrapCI",
    "bootstrap_c_index_ci",
    "harrell_c_weighted",
    "ipcw_brier_weighted",
]

_TOL = 1e-12      # CoxData.fit's default relative log-likelihood tolerance
_MAX_ITER = 50    # CoxData.fit's default
_PAIR_LIMIT = 6000
# bootstrap_c_index_ci: above this n the B x n x n pair products (W @ K) cost more than
# WeightedConcordance's O(B n log n) cumulative sums (the two agree to rounding; tests pin them)
_CI_PAIR_LIMIT = 2000
_MATMUL_CELLS = 4_000_000  # n x (weighted deaths) above this: cumulative sums instead of matmul


def replicate_rng(seed: int, endpoint_index: int, b: int) -> np.random.Generator:
    """The random stream of replicate ``b`` of endpoint ``endpoint_index``: depends on nothing else."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(endpoint_index), int(b)]))


def bootstrap_indices(n: int, seed: int, endpoint_index: int, b: int) -> np.ndarray:
    """Row indices (with repeats) of replicate b: n draws from ``replicate_rng``."""
    return replicate_rng(seed, endpoint_index, b).integers(0, n, size=n)


# ---------------------------------------------------------------------------------------
# batched Cox Newton-Raphson on one CoxData (one set of frequency weights)
# ---------------------------------------------------------------------------------------


class _Batch:
    """Risk-set structure of a weighted CoxData, for derivatives of many models at once."""

    def __init__(self, data: CoxData):
        self.d = data
        self.w = data._w
        self.wd = data._wd
        self.dpos = data._death_pos
        self.risk_end = data._risk_end
        self.ds = data._dblock_start
        self.de = data._dblock_end
        g = data._term_g
        self.g = g
        self.f = data._term_f
        self.c = data._term_c
        self.G = data._risk_end.size
        self.rfg = data._row_first_group
        self.death_group = data._death_group
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
        I = (np.matmul(XT * Wt[:, None, :], XT.transpose(0, 2, 1))
             - np.matmul(M1 * self.c, M1.transpose(0, 2, 1)))
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
        for m in range(M):   # per-model BLAS products beat numpy's stacked matmul here
            I[m] = (XT[m] * Wt[m]) @ XT[m].T
            I[m] -= (M1[m] * self.c) @ M1[m].T
        return loglik, U, I

    def newton(self, XT: np.ndarray, pad: np.ndarray, beta0: np.ndarray, tol: float = _TOL,
               max_iter: int = _MAX_ITER, predict_last: bool = False):
        """Newton-Raphson with step halving for every model of the batch, as CoxData._fit.

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
                step = _batched_solve(Ia + padI[active], Ua)
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
                active = active[ok & ~done]   # failed halving stops a model, like CoxData
        return beta, ll, U, I, converged


def _batched_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
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


@dataclass
class _Fit:
    terms: tuple
    coef: dict          # term -> coefficient array
    loglik: float
    converged: bool
    info: np.ndarray | None = None   # information near the estimate (columns in term order)

    def vector(self, terms) -> np.ndarray:
        return np.concatenate([self.coef[t] for t in terms]) if terms else np.zeros(0)


class _ReplicateModels:
    """Fits of term sets on one bootstrap sample, cached by term set, batched per step."""

    def __init__(self, engine: "ReplicateEngine", w: np.ndarray):
        self.e = engine
        # rows drawn at least once: zero-weight rows add nothing to any risk-set sum
        self.sub = np.flatnonzero(w > 0)
        self.w_sub = w[self.sub]
        d = CoxData(engine.time[self.sub], engine.event[self.sub], engine.X_raw[self.sub],
                    weights=self.w_sub, names=engine.data.names)
        self.data = d
        self.n = d.n
        self.XcT = np.ascontiguousarray((d._Xs - engine.Xmean).T)
        self.batch = _Batch(d)
        self.cache: dict[frozenset, _Fit] = {}
        self.n_fits = 0
        self.all_converged = True

    def fit_many(self, term_sets, parent: _Fit | None = None) -> list[_Fit]:
        todo, seen = [], set()
        for ts in term_sets:
            key = frozenset(ts)
            if ts and key not in self.cache and key not in seen:
                todo.append(tuple(ts))
                seen.add(key)
        if todo:
            e = self.e
            qs = [sum(e.ncol[t] for t in ts) for ts in todo]
            q = max(qs)
            M = len(todo)
            XT = np.zeros((M, q, self.n))
            pad = np.ones((M, q), dtype=bool)
            beta0 = np.zeros((M, q))
            if parent is not None:
                pcols = {}   # term -> positions in the parent's coefficient vector
                pos = 0
                for t in parent.terms:
                    pcols[t] = list(range(pos, pos + e.ncol[t]))
                    pos += e.ncol[t]
                pbeta = parent.vector(parent.terms)
                V = None
                if parent.info is not None:
                    try:
                        V = np.linalg.inv(parent.info)
                    except np.linalg.LinAlgError:
                        V = None
            for m, ts in enumerate(todo):
                cols = [j for t in ts for j in e.groups[t]]
                XT[m, :len(cols)] = self.XcT[cols]
                pad[m, :len(cols)] = False
                if parent is not None:
                    beta0[m, :len(cols)] = self._warm_start(ts, parent, pcols, pbeta, V)
            beta, ll, _, I, conv = self.batch.newton(XT, pad, beta0, predict_last=True)
            self.n_fits += M
            self.all_converged &= bool(conv.all())
            for m, ts in enumerate(todo):
                coef, pos = {}, 0
                for t in ts:
                    k = e.ncol[t]
                    coef[t] = beta[m, pos:pos + k].copy()
                    pos += k
                qm = qs[m]
                self.cache[frozenset(ts)] = _Fit(ts, coef, float(ll[m]), bool(conv[m]), I[m, :qm, :qm])
        return [self.cache[frozenset(ts)] if ts else None for ts in term_sets]

    def _warm_start(self, ts, parent: _Fit, pcols: dict, pbeta: np.ndarray, V) -> np.ndarray:
        """Start of a fit from a fitted parent model: the parent's coefficients (0 for new
        terms); for a sub-model of the parent, the maximiser of the parent's quadratic
        approximation with the dropped coefficients d at 0: b_k - V_kd V_dd^-1 b_d
        (V = the parent's inverse information)."""
        e = self.e
        if V is not None and all(t in pcols for t in ts):
            keep = [j for t in ts for j in pcols[t]]
            drop = [j for t in parent.terms if t not in ts for j in pcols[t]]
            b0 = pbeta[keep]
            if drop:
                Vd = V[drop][:, drop]
                adj = V[keep][:, drop] @ (pbeta[drop] / Vd[0, 0] if len(drop) == 1
                                          else np.linalg.lstsq(Vd, pbeta[drop], rcond=None)[0])
                if np.all(np.isfinite(adj)):
                    b0 = b0 - adj
            return b0
        out = [pbeta[pcols[t]] if t in pcols else np.zeros(e.ncol[t]) for t in ts]
        return np.concatenate(out)

    # -- the SelectionModels interface of crlmflow.survival.selection ----------------------
    @property
    def n_events(self) -> float:
        return self.data.n_events

    def loglik(self, terms) -> float:
        if not terms:
            return self.batch.loglik_null
        f = self.cache.get(frozenset(terms))
        return f.loglik if f is not None else self.fit_many([tuple(terms)])[0].loglik

    def n_params(self, terms) -> int:
        return int(sum(self.e.ncol[t] for t in terms))

    def prefetch(self, term_sets, parent=()) -> None:
        """Fit one selection step's models in one batch, warm-started from ``parent``."""
        self.fit_many([tuple(ts) for ts in term_sets],
                      parent=self.cache.get(frozenset(parent)) if parent else None)

    def fit(self, terms) -> _Fit:
        return self.fit_many([tuple(terms)])[0]

    def score_add(self, base, term) -> tuple[float, int, float]:
        """Score test of adding ``term`` to the fitted ``base`` at (β̂_base, 0):
        U' I⁻¹ U with df = its number of columns (Therneau & Grambsch 2000, §3.4)."""
        e = self.e
        base = list(base)
        cols = [j for t in base + [term] for j in e.groups[t]]
        beta = np.zeros(len(cols))
        if base:
            beta[:self.n_params(base)] = self.fit(base).vector(base)
        _, U, I = self.batch.derivs(self.XcT[cols][None], beta[None])
        chisq = float(U[0] @ _batched_solve(I, U)[0])
        df = e.ncol[term]
        return chisq, df, float(special.chdtrc(df, chisq))

    # -- univariable screening: all candidates in one batch -------------------------------
    def univariable_p(self) -> dict:
        e = self.e
        names = e.cand_names
        q = max(e.ncol[v] for v in names)
        M = len(names)
        XT = np.zeros((M, q, self.n))
        pad = np.ones((M, q), dtype=bool)
        for m, v in enumerate(names):
            cols = e.groups[v]
            XT[m, :len(cols)] = self.XcT[cols]
            pad[m, :len(cols)] = False
        sep = self._separated(names)
        # warm start: the univariable estimates on the original data (fixed per engine)
        beta0 = e.univ_start[:, :q] if e.univ_start is not None else np.zeros((M, q))
        beta, ll, U, I, conv = self.batch.newton(XT, pad, beta0)
        # joint Wald chi-square b' V^-1 b with V = I^-1 at the estimate
        chisq = np.einsum("mi,mij,mj->m", beta, I, beta)
        df = np.array([e.ncol[v] for v in names], dtype=float)
        p = special.chdtrc(df, chisq)
        self.n_fits += M
        out = {}
        for m, v in enumerate(names):
            out[v] = float("nan") if sep[m] else float(p[m])
            if not sep[m]:
                self.cache[frozenset((v,))] = _Fit((v,), {v: beta[m, :e.ncol[v]].copy()},
                                                   float(ll[m]), bool(conv[m]))
        return out

    def _separated(self, names) -> np.ndarray:
        """A 0/1 column that is constant or whose events all sit in one level (CoxData.fit
        raises SeparationError there; R gives an infinite estimate): not screened."""
        e = self.e
        d = self.data
        w, we = d.weights, d.weights * d.event
        n1, e1 = w @ d.X_raw, we @ d.X_raw
        n_all, e_all = w.sum(), we.sum()
        col_bad = e.binary & ((n1 == 0) | (n1 == n_all) | (e1 == e_all) | (e1 == 0))
        # constant columns in the sample
        col_bad |= d.X_raw.min(axis=0) == d.X_raw.max(axis=0)
        return np.array([col_bad[e.groups[v]].any() for v in names])


# ---------------------------------------------------------------------------------------
# fast evaluation helpers (pinned by tests to concordance_index / brier_score)
# ---------------------------------------------------------------------------------------


def _pair_matrix(time, event) -> np.ndarray:
    """P[i, j] = 1 when (i, j) is comparable with i the shorter, event member (survival's
    convention: a censored time tied with an event time counts as longer; timefix applied)."""
    t = timefix(np.asarray(time, dtype=float))
    e = np.asarray(event).astype(bool)
    later = (t[None, :] > t[:, None]) | ((t[None, :] == t[:, None]) & ~e[None, :])
    P = later & e[:, None]
    np.fill_diagonal(P, False)
    return P.astype(float)


def _concordance_kernel(lp: np.ndarray) -> np.ndarray:
    """H[i, j] = 1 if lp_i > lp_j, 1/2 if equal, 0 otherwise."""
    return (lp[:, None] > lp[None, :]) + 0.5 * (lp[:, None] == lp[None, :])


def harrell_c_weighted(time, event, risk, weights=None) -> float:
    """Harrell's C with frequency weights via the n x n comparable-pair matrix (small n).
    Equals ``concordance_index(...).c_index`` on the duplicated rows."""
    P = _pair_matrix(time, event)
    x = np.asarray(risk, dtype=float)
    w = np.ones(x.size) if weights is None else np.asarray(weights, dtype=float)
    K = P * _concordance_kernel(x)
    return float(w @ K @ w / (w @ P @ w))


class _BrierFrame:
    """IPCW Brier score with frequency weights on fixed (time, event): reverse-KM G with
    prodlim's reverse convention (deaths leave the censoring risk set first), as
    ``roc.brier_score``; weights recompute G per replicate in O(n)."""

    def __init__(self, time, event, horizons):
        self.t = np.asarray(time, dtype=float)
        self.e = np.asarray(event).astype(bool)
        self.h = np.asarray(horizons, dtype=float)
        self.uniq, self.inv = np.unique(self.t, return_inverse=True)
        self.nu = self.uniq.size
        self.pos = np.searchsorted(self.uniq, self.t, side="left")     # times strictly before T_i
        self.hpos = np.searchsorted(self.uniq, self.h, side="right")   # times <= h
        self.case = (self.t[:, None] <= self.h[None, :]) & self.e[:, None]   # n x H
        self.ctrl = self.t[:, None] > self.h[None, :]
        self.inv_e = self.inv[self.e]
        self.inv_c = self.inv[~self.e]

    def weights_G(self, w):
        cnt = np.bincount(self.inv, weights=w, minlength=self.nu)
        n_risk = np.cumsum(cnt[::-1])[::-1]
        n_cens = np.bincount(self.inv_c, weights=w[~self.e], minlength=self.nu)
        n_dead = np.bincount(self.inv_e, weights=w[self.e], minlength=self.nu)
        with np.errstate(divide="ignore", invalid="ignore"):
            G = np.cumprod(np.where(n_cens > 0, 1.0 - n_cens / (n_risk - n_dead), 1.0))
            km = np.cumprod(np.where(n_dead > 0, 1.0 - n_dead / n_risk, 1.0))
        Gpad = np.concatenate([[1.0], G])
        kmpad = np.concatenate([[1.0], km])
        return Gpad[self.pos], Gpad[self.hpos], kmpad[self.hpos]

    def brier(self, S: np.ndarray, w=None, G=None) -> np.ndarray:
        """S: n x H predicted survival at the horizons -> Brier per horizon."""
        w = np.ones(self.t.size) if w is None else w
        G_Ti, G_t, _ = self.weights_G(w) if G is None else G
        with np.errstate(divide="ignore", invalid="ignore"):
            resid = np.where(self.case, S**2 / G_Ti[:, None], 0.0) + np.where(self.ctrl, (1.0 - S) ** 2 / G_t, 0.0)
        # rows outside the sample (weight 0) may sit where G = 0: they contribute nothing
        resid[w == 0] = 0.0
        return (w @ resid) / w.sum()


def ipcw_brier_weighted(time, event, surv_pred, t: float, weights=None) -> float:
    """IPCW Brier score at t with frequency weights (``roc.brier_score`` on duplicated rows)."""
    bf = _BrierFrame(time, event, [t])
    w = None if weights is None else np.asarray(weights, dtype=float)
    return float(bf.brier(np.asarray(surv_pred, dtype=float)[:, None], w)[0])


# ---------------------------------------------------------------------------------------
# the replicate engine
# ---------------------------------------------------------------------------------------


@dataclass
class ReplicateEngine:
    """Everything prepared once per (training data, endpoint): sorted Cox data, centred
    design, comparable pairs, Brier structures.  ``run(b)`` returns one replicate's row."""

    train_df: pd.DataFrame
    candidates: list
    time_col: str
    event_col: str
    horizons: list
    seed: int = 0
    endpoint_index: int = 0
    screen_p: float = 0.10
    exclude: tuple = ()
    method: str = "stepaic_both"
    entry_p: float = 0.05
    removal_p: float = 0.10
    problem: CoxProblem = field(init=False, repr=False)

    def __post_init__(self):
        check_method(self.method)
        self.horizons = list(self.horizons)
        self.exclude = tuple(self.exclude)
        self.problem = prepare(self.train_df, self.candidates, self.time_col, self.event_col)
        pb = self.problem
        d = pb.data
        self.data = d
        self.n = d.n
        self.cand_names = [c.name for c in normalise_candidates(self.candidates)]
        self.groups = {v: list(pb.design.groups[v]) for v in self.cand_names}
        self.ncol = {v: len(g) for v, g in self.groups.items()}
        self.X_raw = d.X_raw                      # data order
        Xs = d._Xs
        self.Xmean = Xs.mean(axis=0)   # common centring of every replicate's columns
        self.binary = np.array([np.isin(self.X_raw[:, j], (0.0, 1.0)).all() for j in range(Xs.shape[1])])
        self.time = self.train_df[self.time_col].to_numpy(float)
        self.event = self.train_df[self.event_col].to_numpy(float)
        self.use_pairs = self.n <= _PAIR_LIMIT
        if self.use_pairs:
            self.P = _pair_matrix(self.time, self.event)
            self.npair_test = float(self.P.sum())
        self.brier = _BrierFrame(self.time, self.event, self.horizons)
        self.G_test = self.brier.weights_G(np.ones(self.n))
        self.batch_test = _Batch(d)
        self.hnames = [horizon_key(h) for h in self.horizons]
        self.univ_start = None
        rm0 = _ReplicateModels(self, np.ones(self.n))
        qmax = max(self.ncol.values())
        start = np.zeros((len(self.cand_names), qmax))
        rm0.univariable_p()
        for m, v in enumerate(self.cand_names):
            f = rm0.cache.get(frozenset((v,)))
            if f is not None and f.converged and np.all(np.isfinite(f.coef[v])):
                start[m, :self.ncol[v]] = f.coef[v]
        self.univ_start = start

    # -- one replicate ----------------------------------------------------------------------
    def weights(self, b: int) -> np.ndarray:
        idx = bootstrap_indices(self.n, self.seed, self.endpoint_index, b)
        return np.bincount(idx, minlength=self.n).astype(float)

    def select(self, w: np.ndarray):
        """(screened-pool, selected terms, models) of the procedure on weights w."""
        rm = _ReplicateModels(self, w)
        pool = screen_terms(rm.univariable_p(), self.screen_p, self.exclude)
        if not pool:
            return pool, [], rm
        res = select_terms(rm, pool, self.method, entry_p=self.entry_p, removal_p=self.removal_p)
        return pool, list(res.selected), rm

    def run(self, b: int) -> dict:
        w = self.weights(b)
        pool, selected, rm = self.select(w)
        row = {"b": int(b), "n_pool": len(pool), "n_selected": len(selected),
               "pool": ";".join(pool), "selected": ";".join(selected)}
        for v in self.cand_names:
            row[f"sel_{v}"] = int(v in selected)
        row.update(self.evaluate(w, selected, rm))
        row["n_fits"] = rm.n_fits
        row["all_converged"] = rm.all_converged
        return row

    def evaluate(self, w: np.ndarray, selected, rm: _ReplicateModels) -> dict:
        out = {}
        n = self.n
        if selected:
            fit = rm.fit_many([tuple(selected)])[0]
            cols = [j for t in selected for j in self.groups[t]]
            beta = fit.vector(selected)
            lp = self.X_raw[:, cols] @ beta                       # data order, uncentred
            S = self._survival(rm, beta, lp)
            ll_fit = fit.loglik
        else:
            lp = np.zeros(n)
            S = None
            ll_fit = rm.batch.loglik_null
        # --- Harrell's C (training: weighted bootstrap sample; test: original rows)
        if self.use_pairs:
            K = self.P * _concordance_kernel(lp)
            c_tr = float(w @ K @ w / (w @ self.P @ w))
            c_te = float(K.sum() / self.npair_test)
        else:
            c_tr, c_te = WeightedConcordance(self.time, self.event, lp).c_index(np.vstack([w, np.ones(n)]))
        out["c_index_training"], out["c_index_test"] = c_tr, c_te
        out["dxy_training"], out["dxy_test"] = 2 * c_tr - 1, 2 * c_te - 1
        # --- calibration slope and R2
        ll0_tr = rm.batch.loglik_null
        out["r2_training"] = _r2(2.0 * (ll_fit - ll0_tr), -2.0 * ll0_tr, w.sum())
        if selected and np.ptp(lp) > 0:
            out["slope_training"] = 1.0
            XT = (lp[self.data.order] - lp.mean())[None, None, :]
            beta, ll, _, _, _ = self.batch_test.newton(XT, np.zeros((1, 1), bool), np.ones((1, 1)))
            out["slope_test"] = float(beta[0, 0])
            ll0 = self.batch_test.loglik_null
            out["r2_test"] = _r2(2.0 * (float(ll[0]) - ll0), -2.0 * ll0, n)
        else:
            out["slope_training"] = out["slope_test"] = float("nan")
            out["r2_test"] = 0.0
        # --- Brier at the horizons
        G_tr = self.brier.weights_G(w)
        if S is None:  # null model: the bootstrap sample's Kaplan-Meier estimate for everyone
            S = np.broadcast_to(G_tr[2][None, :], (n, len(self.horizons)))
        b_tr = self.brier.brier(S, w, G_tr)
        b_te = self.brier.brier(S, None, self.G_test)
        for j, h in enumerate(self.hnames):
            out[f"brier_{h}_training"] = float(b_tr[j])
            out[f"brier_{h}_test"] = float(b_te[j])
        return out

    def _survival(self, rm: _ReplicateModels, beta, lp) -> np.ndarray:
        """S_i(h) = exp(-H0(h) exp(lp_i)) with the Efron-type baseline of the weighted sample
        (baseline_hazard(ctype=2) of ``cox.py``)."""
        batch, d = rm.batch, rm.data
        center = float(np.mean(lp))
        eta = lp[rm.sub][d.order] - center
        r = batch.w * np.exp(eta)
        Csum = np.cumsum(r)
        R = Csum[batch.risk_end]
        D = Csum[batch.de] - Csum[batch.ds] + r[batch.ds]
        g = batch.g
        inc = np.zeros(batch.G)
        if g.size:
            inc = np.bincount(g, weights=batch.c / (R[g] - batch.f * D[g]), minlength=batch.G)
        keep = d._d_g[::-1] > 0
        times = d.event_times_desc[::-1][keep]
        H = np.cumsum(inc[::-1][keep])
        idx = np.searchsorted(times, np.asarray(self.horizons, float), side="right") - 1
        H0 = np.where(idx < 0, 0.0, H[np.maximum(idx, 0)])
        return np.exp(-np.outer(np.exp(lp - center), H0))


def _r2(lr: float, ll0m2: float, n: float) -> float:
    """rms R2: (1 - exp(-LR/n)) / (1 - exp(-(-2 loglik0)/n))."""
    return float((1.0 - math.exp(-lr / n)) / (1.0 - math.exp(-ll0m2 / n)))


def run_replicates(train_df: pd.DataFrame, candidates, time_col: str, event_col: str, horizons,
                   replicates, *, seed: int, endpoint_index: int = 0, screen_p: float = 0.10,
                   exclude=(), method: str = "stepaic_both", entry_p: float = 0.05,
                   removal_p: float = 0.10) -> pd.DataFrame:
    """One row per replicate b in ``replicates`` (any subset / order of 0..B-1).

    Columns: b, n_pool, n_selected, pool, selected (";"-joined, selection order), sel_<var>
    (0/1 per candidate), {c_index, dxy, slope, r2, brier_<h>}_{training, test}, n_fits,
    all_converged (every Newton fit of the replicate met the tolerance).
    """
    with _one_blas_thread():
        eng = ReplicateEngine(train_df, list(candidates), time_col, event_col, list(horizons), seed=seed,
                              endpoint_index=endpoint_index, screen_p=screen_p, exclude=tuple(exclude),
                              method=method, entry_p=entry_p, removal_p=removal_p)
        return pd.DataFrame([eng.run(b) for b in replicates])


def _one_blas_thread():
    """The matrices here are tiny: a multi-threaded BLAS only adds overhead (and contention
    when replicates already run in parallel processes)."""
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(1)
    except ImportError:  # pragma: no cover
        import contextlib
        return contextlib.nullcontext()


def _run_task(args):
    kwargs, reps = args
    return run_replicates(replicates=reps, **kwargs)


def run_replicates_parallel(jobs: list[dict], B: int, cores: int = 1, chunk_size: int | None = None) -> list[pd.DataFrame]:
    """Run replicates 0..B-1 of several endpoints over ``cores`` processes.

    ``jobs``: keyword arguments of ``run_replicates`` (without ``replicates``) per endpoint,
    each with its own ``endpoint_index``.  Results are identical for any cores / chunk_size.
    """
    chunk = chunk_size or max(1, math.ceil(B / max(1, 2 * cores)))
    tasks = [(job, list(range(s, min(B, s + chunk)))) for job in jobs for s in range(0, B, chunk)]
    if cores <= 1:
        parts = [_run_task(t) for t in tasks]
    else:
        import multiprocessing as mp
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        with ctx.Pool(cores) as pool:
            parts = pool.map(_run_task, tasks, chunksize=1)
    out = []
    for j, _ in enumerate(jobs):
        mine = [p for (job, _), p in zip(tasks, parts) if job is jobs[j]]
        out.append(pd.concat(mine, ignore_index=True).sort_values("b", ignore_index=True))
    return out


# ---------------------------------------------------------------------------------------
# apparent performance and the summaries
# ---------------------------------------------------------------------------------------


def apparent_performance(train_df: pd.DataFrame, candidates, time_col: str, event_col: str, horizons, *,
                         screen_p: float = 0.10, exclude=(), method: str = "stepaic_both",
                         entry_p: float = 0.05, removal_p: float = 0.10, terms=None,
                         fit_tol: float = _TOL, fit_max_iter: int = _MAX_ITER) -> dict:
    """Performance of the original model on its own training data (the unoptimised path:
    ``univariable_cox`` + ``select_model``, ``concordance_index``, ``roc.brier_score``).

    ``terms`` fixes the model (skip selection).  ``fit_tol=1e-4, fit_max_iter=10`` refit as
    rms ``validate``'s index.orig does.  Returns c_index, dxy, slope (1), r2, brier_<h>,
    selected (list), lp (array, data order, uncentred).
    """
    pb = prepare(train_df, candidates, time_col, event_col)
    if terms is None:
        univ = univariable_cox(train_df, candidates, time_col, event_col, problem=pb)
        terms = select_model(pb, univ, screen_p=screen_p, exclude=exclude, method=method,
                             entry_p=entry_p, removal_p=removal_p).selected
    terms = list(terms)
    time = train_df[time_col].to_numpy(float)
    event = train_df[event_col].to_numpy(float)
    n = len(train_df)
    d = pb.data
    ll0 = d.loglik(np.zeros(0), cols=[])
    out: dict = {"selected": terms}
    if terms:
        fit = d.fit(cols=pb.columns(terms), tol=fit_tol, max_iter=fit_max_iter, on_separation="ignore")
        lp = d.X_raw[:, list(fit.cols)] @ fit.coef
        S = baseline_survival_at(baseline_hazard(d, fit), horizons, lp=lp)
        out["c_index"] = concordance_index(time, event, lp).c_index
        out["slope"] = 1.0
        out["r2"] = _r2(2.0 * (fit.loglik - ll0), -2.0 * ll0, n)
    else:
        lp = np.zeros(n)
        km = np.array([km_at(time, event, h).surv for h in horizons])
        S = np.broadcast_to(km[None, :], (n, len(horizons)))
        out["c_index"] = 0.5
        out["slope"] = float("nan")
        out["r2"] = 0.0
    out["dxy"] = 2.0 * out["c_index"] - 1.0
    for j, h in enumerate(horizons):
        out[f"brier_{horizon_key(h)}"] = brier_score(time, event, S[:, j], h).brier
    out["lp"] = lp
    return out


MEASURES = ("c_index", "dxy", "slope", "r2")


def summarise_optimism(apparent: dict, replicates: pd.DataFrame) -> pd.DataFrame:
    """Rows per measure (c_index, dxy, slope, r2, brier_<h>...); columns apparent,
    training_mean, test_mean, optimism = mean(training - test), corrected = apparent -
    optimism, n_replicates (replicates where both are defined; a null model's slope is NaN)."""
    measures = [m for m in MEASURES if f"{m}_training" in replicates] + sorted(
        (c[:-len("_training")] for c in replicates.columns if c.startswith("brier_") and c.endswith("_training")),
        key=lambda s: float(s.split("_")[1]))
    rows = []
    for m in measures:
        tr = replicates[f"{m}_training"].to_numpy(float)
        te = replicates[f"{m}_test"].to_numpy(float)
        ok = np.isfinite(tr) & np.isfinite(te)
        app = float(apparent.get(m, np.nan))
        opt = float(np.mean(tr[ok] - te[ok])) if ok.any() else float("nan")
        rows.append({"measure": m, "apparent": app,
                     "training_mean": float(np.mean(tr[ok])) if ok.any() else float("nan"),
                     "test_mean": float(np.mean(te[ok])) if ok.any() else float("nan"),
                     "optimism": opt, "corrected": app - opt, "n_replicates": int(ok.sum())})
    return pd.DataFrame(rows).set_index("measure")


def selection_frequency(replicates: pd.DataFrame, candidates) -> pd.DataFrame:
    """Stability table: variable, times_selected, proportion (over all replicates)."""
    names = [c.name for c in normalise_candidates(candidates)]
    B = len(replicates)
    sets = [set(s.split(";")) if isinstance(s, str) and s else set() for s in replicates["selected"]]
    rows = []
    for v in names:
        k = int(sum(v in s for s in sets))
        rows.append({"variable": v, "times_selected": k, "proportion": k / B if B else float("nan")})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# percentile bootstrap CI of Harrell's C for a fixed model
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapCI:
    c_index: float      # on the original data
    lower: float
    upper: float
    level: float
    B: int
    replicates: np.ndarray  # C of each replicate (NaN if a resample has no comparable pair)


def bootstrap_c_index_ci(time, event, risk, B: int = 1000, seed: int = 0, level: float = 0.95,
                         chunk: int = 256) -> BootstrapCI:
    """Percentile CI of Harrell's C of a FIXED risk score (no refit): resample patients with
    ``np.random.default_rng(seed)`` (B x n draws, replicate by replicate), recompute C.

    Vectorised: with P the comparable-pair matrix and K = P * [risk_i > risk_j] (+1/2 ties),
    C_b = w_b' K w_b / w_b' P w_b for frequency weights w_b (n <= _CI_PAIR_LIMIT); for larger n
    ``WeightedConcordance`` (O(n log n) per replicate, O(n log n) memory).  Quantiles: numpy
    "linear" (R type 7)."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event).astype(bool)
    x = np.asarray(risk, dtype=float)
    n = t.size
    rng = np.random.default_rng(seed)
    c0 = concordance_index(t, e, x).c_index
    reps = np.empty(B)
    use_pairs = n <= _CI_PAIR_LIMIT
    if use_pairs:
        P = _pair_matrix(t, e)
        K = P * _concordance_kernel(x)
    else:
        wc = WeightedConcordance(t, e, x)
    for s in range(0, B, chunk):
        m = min(chunk, B - s)
        idx = rng.integers(0, n, size=(m, n))
        W = np.bincount((idx + n * np.arange(m)[:, None]).ravel(), minlength=m * n).reshape(m, n).astype(float)
        del idx
        if use_pairs:
            num = np.einsum("bi,bi->b", W @ K, W)
            den = np.einsum("bi,bi->b", W @ P, W)
            with np.errstate(invalid="ignore", divide="ignore"):
                reps[s:s + m] = np.where(den > 0, num / den, np.nan)
        else:
            reps[s:s + m] = wc.c_index(W)
    a = (1.0 - level) / 2.0
    ok = reps[np.isfinite(reps)]
    lo, hi = np.quantile(ok, [a, 1.0 - a])
    return BootstrapCI(float(c0), float(lo), float(hi), float(level), int(B), reps)
