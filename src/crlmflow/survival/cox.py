"""Cox proportional-hazards regression: a vectorised NumPy partial-likelihood fitter.

Method references:
  * Cox (1972), JRSS-B 34:187 — partial likelihood; Efron (1977), JASA 72:557 — ties;
    Breslow (1974) — ties and baseline hazard.
  * Newton–Raphson with step halving, tests and baseline hazard as R ``survival::coxph``
    and ``survfit.coxph`` (Therneau & Grambsch 2000, Modeling Survival Data, ch. 3 and 10).

Design for speed (bootstrap fits thousands of small models):
  * ``CoxData`` sorts once by descending time and records, for every distinct event time,
    where its risk set ends and which rows die there.  Risk-set sums of r, r·x and r·x xᵀ
    are then one cumulative sum over rows of ``r · [1, x, x⊗x]``.
  * Column subsets share that structure (``CoxData.fit(cols=...)`` caches the per-subset
    product matrix), and bootstrap resamples are integer frequency weights
    (``CoxData.with_weights``) rather than copied rows.

Weights are *frequency* weights: a row with weight 2 counts as two identical rows, also
inside Efron's tie correction (d = summed weight of the tied deaths).  That is exactly
what a bootstrap resample with duplicated rows gives; it is not R's ``coxph(weights=)``
Efron convention (which counts tied rows, not weights) when tied deaths carry unequal
weights.  With unit weights the two agree.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crlmflow.survival.checks import check_survival
from crlmflow.survival.cox_result import CoxResult, Test, chisq_test
from crlmflow.survival.risksets import RiskSets, risk_sets

__all__ = [
    "SeparationError",
    "SeparationWarning",
    "CoxData",
    "SortedColumns",
    "coxph",
    "score_test",
    "wald_test_terms",
    "baseline_hazard",
    "baseline_survival_at",
    "predict_lp",
]

_SUBSET_CACHE_BYTES = 256 * 2**20  # memo of centred column subsets (CoxData.sorted_columns)
_TOLER_INF = np.sqrt(1e-9)  # coxph.control(toler.inf): relative size of a "still moving" step


class SeparationError(ValueError):
    """A coefficient diverges (monotone likelihood / separation)."""


class SeparationWarning(UserWarning):
    pass


@dataclass(frozen=True)
class SortedColumns:
    """Columns of a CoxData in its sorted row order, centred at their (unweighted) means."""

    X: np.ndarray  # n × q, sorted, centred
    X1T: np.ndarray  # (1 + q) × n: a row of ones over Xᵀ (contiguous for cumsum)
    Xd: np.ndarray  # deaths × q
    center: np.ndarray
    binary: np.ndarray  # q booleans: column is 0/1

    @property
    def nbytes(self) -> int:
        return self.X.nbytes + self.X1T.nbytes + self.Xd.nbytes


class CoxData:
    """Sorted, tie-grouped survival data reusable across column subsets and weights.

    Parameters: time, event (0/1), X (n × p), optional integer frequency ``weights``, ``ties``
    "efron" (default) or "breslow", ``names`` of the columns of X, ``order`` the sort when
    known (see ``risk_sets``).  Sort order and tie structure are the public :attr:`risk_sets`.
    """

    def __init__(self, time, event, X, weights=None, ties: str = "efron", names=None, order=None):
        t, e = check_survival(time, event)
        self.n = t.size
        self.time, self.event = t, e
        self.__dict__.update(self._risk_set_state(risk_sets(t, e, weights, ties, order)))
        self._set_columns(X, names)

    def _set_columns(self, X, names) -> None:
        X = np.asarray(X, dtype=float)
        X = X[:, None] if X.ndim == 1 else X
        if X.shape[0] != self.n:
            raise ValueError(f"X must have one row per subject: {X.shape[0]} rows for {self.n} times")
        if not np.isfinite(X).all():
            raise ValueError("X must be finite (filter complete cases first)")
        self.names = list(names) if names is not None else [f"x{j}" for j in range(X.shape[1])]
        if len(self.names) != X.shape[1]:
            raise ValueError(f"names ({len(self.names)}) must match the columns of X ({X.shape[1]})")
        self.X_raw, self._Xs = X, X[self.order]
        self._subsets: dict[tuple, SortedColumns] = {}

    # -- risk sets and weights -----------------------------------------------------
    def _risk_set_state(self, rs: RiskSets) -> dict:
        """The attributes that follow from the risk sets (weights, effective n, events)."""
        weights = np.empty(self.n)
        weights[rs.order] = rs.weights
        return {
            "_rs": rs,
            "ties": rs.ties,
            "order": rs.order,
            "event_times_desc": rs.event_times,
            "weights": weights,
            "n_eff": float(rs.weights.sum()),
            "n_events": float(rs.death_weights.sum()),
        }

    @property
    def risk_sets(self) -> RiskSets:
        """Sort order, event-time groups, tie structure and weights (see ``risksets``)."""
        return self._rs

    def _view(self, rs: RiskSets) -> CoxData:
        # a shallow copy shares the data, sort and column memo; only the weights differ
        new = copy.copy(self)
        new.__dict__.update(self._risk_set_state(rs))
        return new

    def with_weights(self, weights) -> CoxData:
        """A view of the same data with other frequency weights (e.g. a bootstrap draw)."""
        return self._view(self._rs.with_weights(weights))

    def with_ties(self, ties: str) -> CoxData:
        """A view of the same data and weights with another tie method."""
        return self._view(self._rs.with_ties(ties))

    def with_columns(self, X, names=None) -> CoxData:
        """The same rows, sort, ties and weights with other columns ``X`` (n × p, data row
        order): models of one outcome on different covariates share one sort."""
        new = copy.copy(self)
        new._set_columns(X, names)
        return new

    def bootstrap_weights(self, idx) -> np.ndarray:
        """Frequency weights of a resample given as row indices (with repeats)."""
        return np.bincount(np.asarray(idx), minlength=self.n).astype(float)

    # -- column subsets ------------------------------------------------------------
    def columns_index(self, cols) -> tuple:
        if cols is None:
            return tuple(range(len(self.names)))
        return tuple(self.names.index(c) if isinstance(c, str) else int(c) for c in cols)

    def sorted_columns(self, cols=None) -> SortedColumns:
        """Columns ``cols`` (names or indices) in sorted row order, centred (memoised)."""
        cols = self.columns_index(cols)
        sub = self._subsets.get(cols)
        if sub is None:
            Xs = self._Xs[:, list(cols)]
            center = Xs.mean(axis=0) if Xs.shape[1] else np.zeros(0)
            Xc = np.ascontiguousarray(Xs - center)
            X1T = np.ascontiguousarray(np.vstack([np.ones((1, self.n)), Xc.T]))
            binary = np.array([np.isin(Xs[:, j], (0.0, 1.0)).all() for j in range(Xs.shape[1])], dtype=bool)
            sub = SortedColumns(Xc, X1T, np.ascontiguousarray(Xc[self._rs.death_pos]), center, binary)
            # bounded memo: stepwise selection on a large cohort visits hundreds of column
            # subsets (each O(n q) doubles); keep the most recent ones within the budget
            total = sub.nbytes + sum(u.nbytes for u in self._subsets.values())
            while self._subsets and total > _SUBSET_CACHE_BYTES:
                total -= self._subsets.pop(next(iter(self._subsets))).nbytes
            self._subsets[cols] = sub
        return sub

    # -- likelihood ----------------------------------------------------------------
    def _derivs(self, sub: SortedColumns, beta: np.ndarray, need_info: bool = True):
        """Log partial likelihood, score and information at beta (centred columns).

        Second moments are never formed per risk set: Σ_k c_k E2_k/E0_k is rewritten as
        Xᵀ diag(r·A) X − X_dᵀ diag(r_d·B) X_d with A, B cumulative sums of the per-term
        weights, so the cost is O(n q²) BLAS instead of O(n q²) cumulative sums.
        """
        rs = self._rs
        q = beta.size
        eta = sub.X @ beta if q else np.zeros(self.n)
        r = rs.weights * np.exp(eta)
        A1 = sub.X1T * r
        C = np.cumsum(A1, axis=1)
        R = C.take(rs.risk_end, axis=1)
        dpos = rs.death_pos
        ds = rs.block_start
        D = C.take(rs.block_end, axis=1) - C.take(ds, axis=1) + A1.take(ds, axis=1)
        g, f, c = rs.term_group, rs.term_frac, rs.term_weight
        E = R.take(g, axis=1) - D.take(g, axis=1) * f
        E0 = E[0]
        loglik = float(rs.death_weights @ eta[dpos] - c @ np.log(E0))
        if q == 0:
            return loglik, np.zeros(0), np.zeros((0, 0))
        M1 = E[1:] / E0
        U = rs.death_weights @ sub.Xd - M1 @ c
        if not need_info:
            return loglik, U, None
        cE = c / E0
        G = rs.n_groups
        # a has an extra trailing 0 for rows later than every risk set
        a = np.bincount(g, weights=cE, minlength=G + 1)
        b = np.bincount(g, weights=cE * f, minlength=G)
        # A_i = Σ a_g over risk sets containing row i (row i <= risk_end[g])
        cumA = np.cumsum(a[::-1])[::-1]
        rA = r * cumA.take(rs.row_first_group)
        rB = r[dpos] * b[rs.death_group]
        I = (sub.X1T[1:] * rA) @ sub.X - (sub.Xd.T * rB) @ sub.Xd - (M1 * c) @ M1.T
        return loglik, U, I

    def derivatives(self, beta, cols=None):
        """(log partial likelihood, score U, information I) at ``beta`` on columns ``cols``
        (centred at their means, which changes none of the three)."""
        return self._derivs(self.sorted_columns(cols), np.asarray(beta, dtype=float))

    def loglik(self, beta, cols=None) -> float:
        sub = self.sorted_columns(cols)
        b = np.asarray(beta, dtype=float)
        return self._derivs(sub, b, need_info=False)[0] if b.size else self._derivs(sub, b)[0]

    # -- fitting ---------------------------------------------------------------------
    def fit(
        self,
        cols=None,
        init=None,
        max_iter: int = 50,
        tol: float = 1e-12,
        on_separation: str = "raise",
    ) -> CoxResult:
        """Newton–Raphson with step halving (R coxph's algorithm), tighter convergence.

        Stops when the relative change in log-likelihood is <= ``tol``.  ``max_iter=0``
        evaluates at ``init`` only (R ``iter.max = 0``: score test at init).
        ``on_separation``: "raise" (SeparationError), "warn" or "ignore".
        """
        cols = self.columns_index(cols)
        sub = self.sorted_columns(cols)
        names = [self.names[j] for j in cols]
        q = len(cols)
        if on_separation not in ("raise", "warn", "ignore"):
            raise ValueError("on_separation must be 'raise', 'warn' or 'ignore'")
        if self.n_events <= 0:
            raise ValueError("no events: the Cox model is not estimable")
        if q and on_separation != "ignore" and max_iter > 0:
            self._check_binary_separation(cols, names, on_separation)
        b0 = np.zeros(q) if init is None else np.asarray(init, dtype=float).copy()
        if b0.shape != (q,):
            raise ValueError(f"init must have length {q}")
        # overflow in exp() during a too-long step is expected; step halving handles it
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._fit(sub, cols, names, q, b0, max_iter, tol, on_separation)

    def _fit(self, sub, cols, names, q, b0, max_iter, tol, on_separation) -> CoxResult:
        beta = b0.copy()
        ll, U, I = self._derivs(sub, beta)
        ll_init, U_init, I_init = ll, U, I
        it = 0
        converged = q == 0
        if q:
            for it in range(1, max_iter + 1):  # noqa: B007 - read after the loop: iterations used
                step = _solve(I, U)
                new = beta + step
                ll_new, U_new, I_new = self._derivs(sub, new)
                halve = 0
                # tiny decreases are rounding noise at the optimum, not a bad step
                while (not np.isfinite(ll_new) or ll_new < ll - 1e-13 * abs(ll)) and halve < 40:
                    new = (beta + new) / 2.0
                    ll_new, U_new, I_new = self._derivs(sub, new)
                    halve += 1
                if not np.isfinite(ll_new) or ll_new < ll - 1e-13 * abs(ll):
                    break
                done = abs(ll_new - ll) <= tol * max(abs(ll_new), 1.0)
                beta, ll, U, I = new, ll_new, U_new, I_new
                if done:
                    converged = True
                    break
            else:
                it = max_iter
            if max_iter == 0:
                converged = True
        var = _inverse(I) if q else np.zeros((0, 0))
        se = np.sqrt(np.diag(var))
        ll_null = ll_init if not np.any(b0) else self._derivs(sub, np.zeros(q), need_info=False)[0] if q else ll_init
        score_chisq = float(U_init @ _solve(I_init, U_init)) if q else 0.0
        d = beta - b0
        wald = float(d @ _solve(var, d)) if q else 0.0
        res = CoxResult(
            names=names,
            coef=beta,
            se=se,
            var=var,
            loglik_init=float(ll_init),
            loglik_null=float(ll_null),
            loglik=float(ll),
            wald_test=chisq_test(wald, q),
            lr_test=chisq_test(2.0 * (ll - ll_init), q),
            score_test=chisq_test(score_chisq, q),
            n=int(round(self.n_eff)),
            events=self.n_events,
            converged=bool(converged),
            iterations=int(it),
            ties=self.ties,
            means=_weighted_means(self, cols),
            cols=cols,
            init=b0,
            score=U,
        )
        if q and max_iter > 0:
            # R's test: one more Newton step would still move beta noticeably
            infs = np.abs(var @ U)
            bad = (infs > 1e-9) & (infs > _TOLER_INF * np.abs(beta))
            bad |= ~np.isfinite(beta)
            if not converged:
                bad |= np.abs(beta) * _column_sd(self, cols) > 10.0
            res.separated = [nm for nm, b in zip(names, bad) if b]
            if res.separated and on_separation != "ignore":
                msg = (
                    f"Cox fit: coefficient(s) of {', '.join(res.separated)} appear to diverge "
                    "(monotone likelihood / separation); estimates and HRs are not finite"
                    + ("" if converged else f"; no convergence after {it} iterations")
                )
                if on_separation == "raise":
                    raise SeparationError(msg)
                warnings.warn(msg, SeparationWarning, stacklevel=2)
        return res

    def _check_binary_separation(self, cols, names, on_separation) -> None:
        """A 0/1 column whose events all sit in one level has an infinite MLE."""
        sub = self.sorted_columns(cols)
        if not sub.binary.any():
            return
        jb = [j for j, isb in zip(cols, sub.binary) if isb]
        nb = [nm for nm, isb in zip(names, sub.binary) if isb]
        Xb = self.X_raw[:, jb]
        w = self.weights
        we = w * self.event
        n1, e1 = w @ Xb, we @ Xb
        n_all, e_all = w.sum(), we.sum()
        for k, nm in enumerate(nb):
            if n1[k] == 0 or n1[k] == n_all:
                msg = f"Cox fit: column {nm!r} is constant among the rows used"
            elif e1[k] == e_all:
                msg = f"Cox fit: every event has {nm} = 1 - its coefficient diverges to +inf"
            elif e1[k] == 0:
                msg = f"Cox fit: no events with {nm} = 1 - its coefficient diverges to -inf"
            else:
                continue
            if on_separation == "raise":
                raise SeparationError(msg)
            warnings.warn(msg, SeparationWarning, stacklevel=3)


def _weighted_means(data: CoxData, cols) -> np.ndarray:
    w = data.weights
    X = data.X_raw[:, list(cols)]
    return (w @ X) / w.sum() if len(cols) else np.zeros(0)


def _column_sd(data: CoxData, cols) -> np.ndarray:
    return data.X_raw[:, list(cols)].std(axis=0)


def _solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(A, b, rcond=None)[0]


def _inverse(I: np.ndarray) -> np.ndarray:
    try:
        V = np.linalg.inv(I)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(I)
    return (V + V.T) / 2.0


# -- convenience API ----------------------------------------------------------------


def coxph(
    time,
    event,
    X,
    names=None,
    weights=None,
    ties: str = "efron",
    init=None,
    max_iter: int = 50,
    tol: float = 1e-12,
    on_separation: str = "raise",
) -> CoxResult:
    """Fit a Cox model (Cox 1972; Efron or Breslow ties) — one-shot wrapper of CoxData.fit."""
    data = CoxData(time, event, X, weights=weights, ties=ties, names=names)
    return data.fit(init=init, max_iter=max_iter, tol=tol, on_separation=on_separation)


def score_test(data: CoxData, base: CoxResult | None, add_cols) -> Test:
    """Score test of adding ``add_cols`` to a fitted model, evaluated at (β̂_base, 0).

    Equals R ``coxph(..., init = c(beta_hat, 0), iter.max = 0)$score``
    (Therneau & Grambsch 2000, §3.4); df = number of added columns.
    """
    add = list(data.columns_index(add_cols))
    base_cols = list(base.cols) if base is not None else []
    cols = tuple(base_cols + add)
    b = np.concatenate([base.coef if base is not None else np.zeros(0), np.zeros(len(add))])
    _, U, I = data.derivatives(b, cols)
    chisq = float(U @ _solve(I, U))
    return chisq_test(chisq, len(add))


def wald_test_terms(fit: CoxResult, idx) -> Test:
    """Joint Wald test β_Sᵀ V_SS⁻¹ β_S of a group of coefficients (e.g. a factor's dummies)."""
    idx = list(idx)
    b = fit.coef[idx]
    V = fit.var[np.ix_(idx, idx)]
    return chisq_test(float(b @ np.linalg.solve(V, b)), len(idx))


@dataclass(frozen=True)
class BaselineHazard:
    """Cumulative baseline hazard H0(t) at covariates = 0 at each distinct event time."""

    time: np.ndarray
    cumhaz: np.ndarray
    ctype: int

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"time": self.time, "cumhaz": self.cumhaz})


def baseline_hazard(data: CoxData, fit: CoxResult, ctype: int | None = None) -> BaselineHazard:
    """Baseline cumulative hazard at X = 0 (R ``survfit.coxph``, Therneau & Grambsch §10.2).

    ctype=2 (default with Efron ties): Efron-type increments Σ_k 1/(R − (k/d)·D) over the
    d tied deaths, R = Σ_risk w·exp(xβ), D = Σ_deaths w·exp(xβ).  ctype=1: Breslow
    (Nelson–Aalen type) increments d/R.
    """
    if ctype is None:
        ctype = 2 if data.ties == "efron" else 1
    if ctype not in (1, 2):
        raise ValueError("ctype must be 1 (Breslow) or 2 (Efron)")
    dd = data if (ctype == 2) == (data.ties == "efron") else data.with_ties("efron" if ctype == 2 else "breslow")
    rs = dd.risk_sets
    sub = dd.sorted_columns(fit.cols)
    q = fit.coef.size
    eta = sub.X @ fit.coef if q else np.zeros(dd.n)
    r = rs.weights * np.exp(eta)
    R = np.cumsum(r)[rs.risk_end]
    D = np.add.reduceat(r[rs.death_pos], rs.death_start) if rs.death_pos.size else np.zeros(0)
    g = rs.term_group
    inc = np.zeros(rs.n_groups)
    np.add.at(inc, g, rs.term_weight / (R[g] - rs.term_frac * D[g]))
    # undo the centring: exp(x_c β) = exp(xβ) · exp(−cβ)
    inc *= np.exp(-(sub.center @ fit.coef)) if q else 1.0
    times = rs.event_times[::-1]
    inc = inc[::-1]
    keep = rs.deaths[::-1] > 0
    return BaselineHazard(times[keep], np.cumsum(inc[keep]), ctype)


def baseline_survival_at(bh: BaselineHazard, times, lp=0.0) -> np.ndarray:
    """S(t | lp) = exp(−H0(t)·exp(lp)) as a right-continuous step function of t.

    ``lp`` is the uncentred linear predictor Xβ (scalar or per-row array); returns an
    array of shape (len(lp), len(times)) for array lp, or (len(times),) for scalar lp.
    """
    H = cumhaz_at(bh, times)
    lp_arr = np.asarray(lp, dtype=float)
    if lp_arr.ndim == 0:
        return np.exp(-H * np.exp(lp_arr))
    return np.exp(-np.outer(np.exp(lp_arr), H))


def cumhaz_at(bh: BaselineHazard, times) -> np.ndarray:
    """H0 at arbitrary times (step function, 0 before the first event)."""
    t = np.atleast_1d(np.asarray(times, dtype=float))
    idx = np.searchsorted(bh.time, t, side="right") - 1
    return np.where(idx < 0, 0.0, bh.cumhaz[np.maximum(idx, 0)])


def predict_lp(fit: CoxResult, X, centered: bool = True, center=None) -> np.ndarray:
    """Linear predictor Xβ; centred at ``center`` (default: the fit's column means).

    Centred = Xβ − meansᵀβ, the rms ``cph`` / lifelines convention (not survival ≥ 3's
    ``predict.coxph``, which leaves 0/1 columns uncentred).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    lp = X @ fit.coef
    if centered:
        c = fit.means if center is None else np.asarray(center, dtype=float)
        lp = lp - c @ fit.coef
    return lp
