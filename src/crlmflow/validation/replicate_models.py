"""The Cox models of one bootstrap replicate, fitted in batches for stepwise selection.

``ReplicateModels`` implements :class:`crlmflow.survival.selection.SelectionModels` on a
resample given as frequency weights, so the optimism bootstrap runs the very same
``stepaic_both`` / ``forward_lr`` as the analysis.  All models of one selection step
(every "- term" / "+ term" of a stepAIC step, every entry or removal model of Forward-LR)
are fitted together by :class:`~crlmflow.validation.batch_cox.BatchedCox`, warm-started
from the parent model (for a sub-model, the maximiser of the parent's quadratic
approximation); fits are cached by term set.  Same maximum as ``CoxData.fit`` (pinned by
tests against ``select_model`` on the weighted ``CoxProblem``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from crlmflow.survival.cox import CoxData
from crlmflow.validation.batch_cox import BatchedCox

if TYPE_CHECKING:  # the engine owns the replicate models; only its public attributes are read
    from crlmflow.validation.optimism import ReplicateEngine

__all__ = ["ReplicateFit", "ReplicateModels"]


@dataclass
class ReplicateFit:
    """One fitted model of a replicate: coefficients per term and the log-likelihood."""

    terms: tuple
    coef: dict  # term -> coefficient array
    loglik: float
    converged: bool
    info: np.ndarray | None = None  # information near the estimate (columns in term order)

    def vector(self, terms) -> np.ndarray:
        return np.concatenate([self.coef[t] for t in terms]) if terms else np.zeros(0)


class ReplicateModels:
    """Fits of term sets on one bootstrap sample, cached by term set, batched per step.

    ``engine``: the replicate engine (its design: ``groups``, ``ncol``, ``X_raw``,
    ``Xmean``, ``binary``, candidate names and univariable start values); ``w``: the
    resample's frequency weights on the engine's rows.
    """

    def __init__(self, engine: ReplicateEngine, w: np.ndarray):
        self.e = engine
        # rows drawn at least once: zero-weight rows add nothing to any risk-set sum
        drawn = w > 0
        self.sub = np.flatnonzero(drawn)
        self.w_sub = w[self.sub]
        # the drawn rows keep their order in the engine's sort: their own sort, without sorting
        in_sort = drawn[engine.data.order]
        d = CoxData(
            engine.time[self.sub],
            engine.event[self.sub],
            engine.X_raw[self.sub],
            weights=self.w_sub,
            names=engine.data.names,
            order=(np.cumsum(drawn) - 1)[engine.data.order[in_sort]],
        )
        self.data = d
        self.n = d.n
        self.XcT = np.ascontiguousarray(engine.XcT_sorted[:, in_sort])
        self.batch = BatchedCox(d)
        self.cache: dict[frozenset, ReplicateFit] = {}
        self.n_fits = 0
        self.all_converged = True
        self.separated: list[str] = []  # candidates not screened: separation in this sample
        self._score_point = None  # (base, beta, term positions, loglik, U, I) of the last score step

    def fit_many(self, term_sets, parent: ReplicateFit | None = None) -> list[ReplicateFit]:
        """Fit every term set not yet cached in one batched Newton run (warm-started from
        ``parent`` when given); returns the fits in order (None for an empty set)."""
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
                pcols = {}  # term -> positions in the parent's coefficient vector
                pos = 0
                for t in parent.terms:
                    pcols[t] = list(range(pos, pos + e.ncol[t]))
                    pos += e.ncol[t]
                pbeta = parent.vector(parent.terms)
                V = None  # the parent's inverse information: only sub-models start from it
                if parent.info is not None and any(all(t in pcols for t in ts) for ts in todo):
                    try:
                        V = np.linalg.inv(parent.info)
                    except np.linalg.LinAlgError:
                        V = None
            for m, ts in enumerate(todo):
                cols = [j for t in ts for j in e.groups[t]]
                XT[m, : len(cols)] = self.XcT[cols]
                pad[m, : len(cols)] = False
                if parent is not None:
                    beta0[m, : len(cols)] = self._warm_start(ts, parent, pcols, pbeta, V)
            start = self._entry_start(todo, beta0) if parent is not None else None
            beta, ll, _, I, conv = self.batch.newton(XT, pad, beta0, predict_last=True, start=start)
            self.n_fits += M
            self.all_converged &= bool(conv.all())
            for m, ts in enumerate(todo):
                coef, pos = {}, 0
                for t in ts:
                    k = e.ncol[t]
                    coef[t] = beta[m, pos : pos + k].copy()
                    pos += k
                qm = qs[m]
                self.cache[frozenset(ts)] = ReplicateFit(ts, coef, float(ll[m]), bool(conv[m]), I[m, :qm, :qm])
        return [self.cache[frozenset(ts)] if ts else None for ts in term_sets]

    def _entry_start(self, todo, beta0):
        """(loglik, U, I) at the start of the fit of base + t when the last score step
        evaluated them at the same point (β̂_base, 0): the (base, t) entries of its score and
        information are the sums the model base + t alone gives there.  None otherwise."""
        sp = self._score_point
        if sp is None or len(todo) != 1 or todo[0][:-1] != sp[0] or todo[0][-1] not in sp[2]:
            return None
        base, beta, pos, ll, U, I = sp
        nb = beta.size
        idx = np.concatenate((np.arange(nb), pos[todo[0][-1]]))
        if idx.size != beta0.shape[1] or not np.array_equal(beta0[0, :nb], beta):
            return None
        return ll, U[idx][None], I[idx][:, idx][None]

    def _warm_start(self, ts, parent: ReplicateFit, pcols: dict, pbeta: np.ndarray, V) -> np.ndarray:
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
                adj = V[keep][:, drop] @ (
                    pbeta[drop] / Vd[0, 0] if len(drop) == 1 else np.linalg.lstsq(Vd, pbeta[drop], rcond=None)[0]
                )
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
        self.fit_many([tuple(ts) for ts in term_sets], parent=self.cache.get(frozenset(parent)) if parent else None)

    def fit(self, terms) -> ReplicateFit:
        return self.fit_many([tuple(terms)])[0]

    def score_add(self, base, term) -> tuple[float, int, float]:
        """Score test of adding ``term`` to the fitted ``base`` at (β̂_base, 0):
        U' I⁻¹ U with df = its number of columns (Therneau & Grambsch 2000, §3.4)."""
        return self.score_add_many(base, [term])[0]

    def score_add_many(self, base, terms) -> list[tuple[float, int, float]]:
        """``score_add(base, t)`` for every t of ``terms`` from one evaluation of the score
        and information at (β̂_base, 0) of the model with all of them added: the test of
        each t uses the (base, t) entries of that score and information, which are the
        very sums the model base + t alone would give."""
        e = self.e
        base, terms = list(base), list(terms)
        if not terms:
            return []
        cols = [j for t in base + terms for j in e.groups[t]]
        nb = self.n_params(base)
        beta = np.zeros(len(cols))
        if base:
            beta[:nb] = self.fit(base).vector(base)
        ks = np.array([e.ncol[t] for t in terms], dtype=np.int64)
        starts = nb + np.cumsum(ks) - ks
        # only the (base, t) blocks of the information are read: block 0 the base, t + 1 term t
        blocks = np.concatenate([np.zeros(nb, dtype=np.int64), np.repeat(np.arange(1, len(terms) + 1), ks)])
        ll, U, I = self.batch.derivs(self.XcT[cols][None], beta[None], blocks=blocks)
        U, I = U[0], I[0]
        pos = {t: np.arange(st, st + k) for t, st, k in zip(terms, starts, ks)}
        self._score_point = (tuple(base), beta[:nb].copy(), pos, ll, U, I)
        # each (base, t) system solved in one compiled call
        from crlmflow.validation import cox_kernel  # numba: imported where needed (0.2 s)

        chisq = cox_kernel.score_chisq(U, I, nb, starts, ks)
        p = special.chdtrc(ks.astype(float), chisq)
        return [(float(c), int(k), float(pv)) for c, k, pv in zip(chisq, ks, p)]

    # -- univariable screening: all candidates in one batch -------------------------------
    def univariable_p(self) -> dict:
        """Univariable joint Wald p per candidate; NaN (never screened) for a candidate with
        separation in this sample (listed in ``separated``, counted per replicate)."""
        e = self.e
        names = e.cand_names
        q = max(e.ncol[v] for v in names)
        M = len(names)
        XT = np.zeros((M, q, self.n))
        pad = np.ones((M, q), dtype=bool)
        for m, v in enumerate(names):
            cols = e.groups[v]
            XT[m, : len(cols)] = self.XcT[cols]
            pad[m, : len(cols)] = False
        sep = self._separated(names)
        self.separated = [v for v, bad in zip(names, sep) if bad]
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
                self.cache[frozenset((v,))] = ReplicateFit(
                    (v,), {v: beta[m, : e.ncol[v]].copy()}, float(ll[m]), bool(conv[m])
                )
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
