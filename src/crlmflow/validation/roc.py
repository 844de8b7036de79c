"""Time-dependent discrimination and accuracy at a horizon t.

* ``time_dependent_roc`` – Heagerty, Lumley & Pepe (Biometrics 2000) Kaplan–Meier ROC, as
  ``survivalROC::survivalROC(method = "KM")``.
* ``cumulative_dynamic_auc`` – IPCW cumulative/dynamic AUC (Uno et al. 2007; Blanche et al.
  Stat Med 2013) with the influence-function SE of ``riskRegression::Score`` (cens.model "km").
* ``brier_score`` – IPCW Brier score (Graf et al. Stat Med 1999; Gerds & Schumacher 2006) with
  Score's influence-function SE and the index of prediction accuracy (IPA; Kattan & Gerds,
  Diagn Progn Res 2018) against the Kaplan–Meier null model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from crlmflow.survival.checks import check_survival
from crlmflow.validation._ipcw import censoring_weights, km_censoring_term
from crlmflow.validation._km import km_at

# ------------------------------------------------------------------ survivalROC (KM)


@dataclass(frozen=True)
class TimeDependentROC:
    """Heagerty KM ROC curve at ``predict_time``; first point is the cut at -inf (FP=TP=1)."""

    predict_time: float
    cut: np.ndarray  # -inf, then the sorted unique marker values
    FP: np.ndarray
    TP: np.ndarray
    auc: float
    survival: float  # pooled KM S(t)
    method: str = "KM"


def _km_surv_at_all_prefixes(time_sorted, event_sorted, t, max_cells=2_000_000):
    """KM S(t) among the first L rows, for every L = 1..n (rows already in marker-descending
    order); element L-1 belongs to prefix L.

    Work is O(n * D_t), D_t = number of distinct event times <= t (not O(n * distinct
    markers), and not O(n^2)): for each event time u_k the
    at-risk count of every prefix is a running count and the KM factor is 1 until the first
    event at u_k enters the prefix, so each column only touches rows from that point on
    (columns are processed in blocks ordered by that first position).  Adding a row to a
    product-limit estimate changes every factor before its time, so no O(log n) update exists
    in general; D_t is bounded by the time resolution (<= 1,827 for daily times over 5 years)
    and the original survivalROC is O(n^2).

    Why not O(n log n): log S_L(t) = sum_k log(1 - d_k(L) / Y_k(L)) and appending a row adds
    1 to Y_k for every k up to its time, a range update under a non-linear function, which
    no prefix-sum or Fenwick structure carries exactly (an O(n log n) method would have to
    approximate, and the R fixtures are matched to 1e-12).  At fixed time resolution the
    cost is linear in n: 70,000 rows with daily times take ~1-3 s per horizon.
    """
    n = time_sorted.shape[0]
    surv = np.ones(n)
    is_ev = event_sorted & (time_sorted <= t)
    u = np.unique(time_sorted[is_ev])
    D = u.size
    if D == 0:
        return surv
    # row i is at risk at u_k iff k < K_i; an event row at u_k has column K_i - 1
    K = np.searchsorted(u, time_sorted, side="right").astype(np.int32)
    ev_rows = np.flatnonzero(is_ev)  # ascending positions
    ev_col = K[ev_rows] - 1
    n_at = np.bincount(ev_col, minlength=D)
    first_pos = np.full(D, n, dtype=np.int64)
    np.minimum.at(first_pos, ev_col, ev_rows)
    col_order = np.argsort(first_pos, kind="stable")
    block = max(1, min(D, max_cells // max(n, 1)))
    for b0 in range(0, D, block):
        cols = col_order[b0 : b0 + block].astype(np.int32)
        r0 = int(first_pos[cols].min())  # rows before r0 have factor 1 in every column here
        # at-risk counts among rows < r0 (K_i > k), then running counts from r0 on
        hist = np.bincount(K[:r0], minlength=D + 1)
        base = (np.cumsum(hist[::-1])[::-1])[cols + 1]
        n_risk = np.cumsum(cols[:, None] < K[None, r0:], axis=1, dtype=np.int32)
        n_risk += base[:, None].astype(np.int32)
        # factor 1 - d/n_risk; before the column's first event d = 0 -> use 1/inf = 0
        q = n_risk.astype(np.float64)
        q[np.arange(r0, n)[None, :] < first_pos[cols][:, None]] = np.inf
        np.reciprocal(q, out=q)
        tied = np.flatnonzero(n_at[cols] > 1)
        for j in tied:  # several events at u_k: d grows with the prefix
            rows_k = ev_rows[ev_col == cols[j]]
            d = np.zeros(n - r0)
            np.add.at(d, rows_k - r0, 1.0)
            q[j] *= np.cumsum(d)
        np.subtract(1.0, q, out=q)
        surv[r0:] *= q.prod(axis=0)
    return surv


def time_dependent_roc(time, event, marker, t: float, method: str = "KM") -> TimeDependentROC:
    """Heagerty (2000) KM estimator of the cumulative/dynamic ROC curve at time t.

    Cut-offs are the sorted unique marker values; for each cut c, with S(t | X > c) the KM
    among subjects with marker above c and P(X > c) the empirical proportion:
    TP(c) = (1 - S(t|X>c)) P(X>c) / (1 - S(t)),  FP(c) = S(t|X>c) P(X>c) / S(t).
    The curve starts at (FP, TP) = (1, 1) for the cut -inf; AUC is the trapezoid rule over
    the points in that order.  Not an IPCW estimator and may be non-monotone.

    Cost: one sort plus O(n * D_t) vectorised work (D_t = distinct event times <= t; exact,
    see ``_km_surv_at_all_prefixes`` for why there is no exact O(n log n) form).
    """
    if method != "KM":
        raise NotImplementedError("only the Kaplan-Meier (method='KM') estimator is implemented")
    time, event, x = check_survival(time, event, marker, names=("time", "event", "marker"))
    event = event == 1.0
    n = x.shape[0]
    order = np.argsort(-x, kind="stable")  # marker descending: {X > c} is a prefix
    cuts = np.unique(x)
    n_above = n - np.searchsorted(np.sort(x), cuts, side="right")
    s_pooled = km_at(time, event, t).surv
    s_prefix = _km_surv_at_all_prefixes(time[order], event[order], t)
    # prefix length 0 (the top cut) is handled below
    s0 = np.where(n_above > 0, s_prefix[np.maximum(n_above - 1, 0)], np.nan)
    p0 = n_above / n
    with np.errstate(divide="ignore", invalid="ignore"):
        tp = (1.0 - s0) * p0 / (1.0 - s_pooled)
        fp = s0 * p0 / s_pooled
    # the top cut has nobody above it: (0, 0)
    tp[-1], fp[-1] = 0.0, 0.0
    FP = np.concatenate([[1.0], fp])
    TP = np.concatenate([[1.0], tp])
    auc = float(np.sum((FP[:-1] - FP[1:]) * (TP[:-1] + TP[1:]) / 2.0))
    return TimeDependentROC(
        predict_time=float(t),
        cut=np.concatenate([[-np.inf], cuts]),
        FP=FP,
        TP=TP,
        auc=auc,
        survival=float(s_pooled),
    )


# ------------------------------------------------------------------ IPCW AUC (Score)


@dataclass(frozen=True)
class IPCWAUC:
    """riskRegression::Score-style cumulative/dynamic AUC at ``horizon``."""

    horizon: float
    auc: float
    se: float
    lower: float
    upper: float
    n_cases: int
    n_controls: int
    influence: np.ndarray  # per-row influence function (se = sd(IF) / sqrt(n))


def _weighted_below_equal(query, ref, ref_w):
    """For each query value: sum of ref_w with ref < query, and with ref == query."""
    o = np.argsort(ref, kind="stable")
    return _sorted_below_equal(query, ref[o], np.concatenate([[0.0], np.cumsum(ref_w[o])]))


def _sorted_below_equal(query, ref_sorted, cum_w):
    """``_weighted_below_equal`` on a sorted reference with the prefix sums of its weights
    (``cum_w[k]``: the first k weights)."""
    lo = np.searchsorted(ref_sorted, query, side="left")
    hi = np.searchsorted(ref_sorted, query, side="right")
    return cum_w[lo], cum_w[hi] - cum_w[lo]


def _auc_weights(time, event, t: float, cw):
    """Cases (event by t, weight 1/G(T-)), controls (T > t, weight 1/G(t)) and the IPCW
    weights W of both (0 for rows censored before t)."""
    case = (time <= t) & event
    ctrl = time > t
    if not case.any() or not ctrl.any():
        raise ValueError("AUC at t needs at least one case (event <= t) and one control (T > t)")
    W = np.zeros(time.shape[0])
    W[case] = 1.0 / cw.G_Ti_minus[case]
    W[ctrl] = 1.0 / cw.G_t
    return case, ctrl, W


@dataclass(frozen=True)
class MarkerSort:
    """A marker's stable sort and, per row, the sorted positions of its tie block: ``lo``
    rows have a smaller marker and ``hi`` a smaller or equal one (what ``searchsorted`` of
    the row's own value, left and right, gives)."""

    order: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def marker_sort(risk, order=None) -> MarkerSort:
    """``MarkerSort`` of ``risk``; ``order``: its stable argsort when already known."""
    r = np.asarray(risk, dtype=float)
    o = np.argsort(r, kind="stable") if order is None else np.asarray(order)
    n = r.size
    rs = r[o]
    new = np.ones(n, dtype=bool)
    new[1:] = rs[1:] != rs[:-1]
    start = np.flatnonzero(new)
    block = np.cumsum(new) - 1
    lo, hi = np.empty(n, dtype=np.intp), np.empty(n, dtype=np.intp)
    lo[o] = start[block]
    hi[o] = np.append(start[1:], n)[block]
    return MarkerSort(o, lo, hi)


def _case_kernel_sums(r, case, ctrl, W, ranks: MarkerSort | None = None):
    """Per case i: W_i times the control weight with a lower marker plus half the tied one
    (the Mann–Whitney kernel).  ``ranks``: the ``marker_sort`` of the whole marker ``r``;
    with it the controls are read off that one sort (zero weight elsewhere), which adds the
    same weights in the same order as sorting the controls alone: the sums are identical."""
    if ranks is None:
        below, equal = _weighted_below_equal(r[case], r[ctrl], W[ctrl])
    else:
        cum = np.concatenate([[0.0], np.cumsum(np.where(ctrl, W, 0.0)[ranks.order])])
        lo = cum[ranks.lo[case]]
        below, equal = lo, cum[ranks.hi[case]] - lo
    return W[case] * (below + 0.5 * equal)


def ipcw_auc(time, event, risk, t: float, *, censoring=None, ranks: MarkerSort | None = None) -> float:
    """The point estimate of ``cumulative_dynamic_auc`` alone (no influence function), for
    the optimism bootstrap's many evaluations.  ``ranks``: ``marker_sort(risk)``, shared by
    the horizons of one marker.  Raises ValueError without a case or control."""
    time, event, r = check_survival(time, event, risk, names=("time", "event", "risk"))
    event = event == 1.0
    cw = censoring_weights(time, event, t) if censoring is None else censoring
    case, ctrl, W = _auc_weights(time, event, t, cw)
    return float(_case_kernel_sums(r, case, ctrl, W, ranks).sum() / (W[case].sum() * W[ctrl].sum()))


def _ci(est, se, conf_level):
    z = special.ndtri(0.5 + conf_level / 2.0)
    return est - z * se, est + z * se


def cumulative_dynamic_auc(
    time, event, risk, t: float, *, conf_level: float = 0.95, conservative: bool = False, censoring=None
) -> IPCWAUC:
    """IPCW cumulative/dynamic AUC at t as riskRegression::Score(metrics = "auc", cens.model = "km").

    Cases: T <= t with an event (weight 1/G(T-)); controls: T > t (weight 1/G(t)); subjects
    censored before t carry no weight.  Ties in ``risk`` count 1/2.  G is the reverse
    Kaplan–Meier.  SE = sd(IF)/sqrt(n) with Score's influence function, including the term
    for estimating G unless ``conservative``; CI = AUC -/+ z SE truncated to [0, 1].
    ``censoring``: the censoring weights of (time, event) at t, if already computed (they do
    not depend on the marker; the optimism bootstrap evaluates many markers on one sample).
    """
    time, event, r = check_survival(time, event, risk, names=("time", "event", "risk"))
    event = event == 1.0
    n = time.shape[0]
    cw = censoring_weights(time, event, t) if censoring is None else censoring
    case, ctrl, W = _auc_weights(time, event, t, cw)
    mu_case, mu_ctrl = W[case].sum(), W[ctrl].sum()

    # Mann–Whitney kernel sums per case (controls below it) and per control (cases above it)
    ic0_case = _case_kernel_sums(r, case, ctrl, W)
    below_c, equal_c = _weighted_below_equal(-r[ctrl], -r[case], W[case])
    ic0_ctrl = W[ctrl] * (below_c + 0.5 * equal_c)
    auc = float(ic0_case.sum() / (mu_case * mu_ctrl))

    # influence function of the ratio nu/mu (Score's getIC0AUC + KM censoring term)
    mu = mu_case * mu_ctrl / n**2
    nu = auc * mu
    k_num = np.zeros(n)
    k_num[case], k_num[ctrl] = ic0_case, ic0_ctrl
    k_den = np.zeros(n)
    k_den[case], k_den[ctrl] = W[case] * mu_ctrl, W[ctrl] * mu_case
    ic = (k_num / n * mu - k_den / n * nu) / mu**2
    if not conservative:
        at_minus = ~ctrl  # cases use G(T_i-), controls G(t)
        num = km_censoring_term(cw, k_num, at_minus) / n**2
        den = km_censoring_term(cw, k_den, at_minus) / n**2
        ic = ic + (num * mu - den * nu) / mu**2
    se = float(np.std(ic, ddof=1) / np.sqrt(n))
    lo, hi = _ci(auc, se, conf_level)
    return IPCWAUC(
        horizon=float(t),
        auc=auc,
        se=se,
        lower=max(0.0, lo),
        upper=min(1.0, hi),
        n_cases=int(case.sum()),
        n_controls=int(ctrl.sum()),
        influence=ic,
    )


# ------------------------------------------------------------------ IPCW Brier (Score)


@dataclass(frozen=True)
class BrierScore:
    """IPCW Brier score at ``horizon`` with Score's SE, and IPA against the KM null model."""

    horizon: float
    brier: float
    se: float
    lower: float
    upper: float
    brier_null: float
    se_null: float
    lower_null: float
    upper_null: float
    ipa: float  # 1 - brier / brier_null
    km_surv: float  # the null model's prediction S_KM(t)
    influence: np.ndarray


def _brier_with_se(cw, time, event, t, risk, conservative):
    n = time.shape[0]
    case = (time <= t) & event
    ctrl = time > t
    resid = np.zeros(n)
    resid[case] = (1.0 - risk[case]) ** 2 / cw.G_Ti_minus[case]
    resid[ctrl] = risk[ctrl] ** 2 / cw.G_t
    brier = float(resid.mean())
    ic = resid - brier
    if not conservative:
        ic = ic + km_censoring_term(cw, resid, ~ctrl) / n
    se = float(np.std(ic, ddof=1) / np.sqrt(n))
    return brier, se, ic


def brier_score(
    time, event, surv_pred_at_t, t: float, *, conf_level: float = 0.95, conservative: bool = False
) -> BrierScore:
    """IPCW Brier score of predicted survival S_i(t) as riskRegression::Score(metrics = "brier",
    summary = "ipa", cens.model = "km", null.model = TRUE).

    Loss (1 - F_i)^2 / G(T_i-) for events before t, F_i^2 / G(t) for T_i > t, 0 for rows
    censored before t, with F = 1 - S the predicted risk.  SE = sd(IF)/sqrt(n); CI = -/+ z SE
    (Score truncates at 0 and 1).  IPA = 1 - Brier / Brier(KM null model).
    """
    time, event, s = check_survival(time, event, surv_pred_at_t, names=("time", "event", "surv_pred_at_t"))
    event = event == 1.0
    cw = censoring_weights(time, event, t)
    b, se, ic = _brier_with_se(cw, time, event, t, 1.0 - s, conservative)
    km = km_at(time, event, t).surv
    b0, se0, _ = _brier_with_se(cw, time, event, t, np.full_like(s, 1.0 - km), conservative)
    lo, hi = _ci(b, se, conf_level)
    lo0, hi0 = _ci(b0, se0, conf_level)
    return BrierScore(
        horizon=float(t),
        brier=b,
        se=se,
        lower=max(0.0, lo),
        upper=min(1.0, hi),
        brier_null=b0,
        se_null=se0,
        lower_null=max(0.0, lo0),
        upper_null=min(1.0, hi0),
        # No event before t (a small training set at 12 months): the null model is
        # perfect, so the IPA is undefined rather than an error.
        ipa=1.0 - b / b0 if b0 > 0 else float("nan"),
        km_surv=float(km),
        influence=ic,
    )
