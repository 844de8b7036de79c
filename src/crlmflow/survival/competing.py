"""Competing risks: event codings of one status column.

``status`` follows R's ``Surv(time, factor(status), type = "mstate")`` and riskRegression's
``Hist(time, status)``: 0 censored, 1 the event of interest (recurrence), 2 the competing
event (death without recurrence). The classic endpoints are codings of it:

* recurrence with death censored (the paper's RFS): event = status == 1 — time to
  recurrence under the assumption, false here, that death is non-informative censoring;
* composite recurrence-free survival: event = status > 0 (death is an event).
"""

from __future__ import annotations

import numpy as np

#: Codes of a competing-risk status column.
CENSORED, CAUSE, COMPETING = 0, 1, 2


def check_status(status) -> np.ndarray:
    """``status`` as an int array of 0/1/2; anything else is an error naming the value."""
    s = np.asarray(status, dtype=float)
    bad = ~np.isin(s, (CENSORED, CAUSE, COMPETING))
    if bad.any():
        raise ValueError(
            f"competing-risk status must be 0 (censored), 1 (event) or 2 (competing event); "
            f"found {s[bad][0]:g} at position {int(np.flatnonzero(bad)[0])}"
        )
    return s.astype(np.int64)


def event_from_status(status, *, death_is_event: bool) -> np.ndarray:
    """0/1 event of the single-event endpoint coded from ``status``: the composite
    (``death_is_event=True``: status 1 or 2) or the cause with the competing event
    censored (status 1)."""
    s = check_status(status)
    return ((s > CENSORED) if death_is_event else (s == CAUSE)).astype(np.int64)


def _step_at(event_times: np.ndarray, values: np.ndarray, times) -> np.ndarray:
    """A right-continuous step function (0 before the first jump) at ``times``."""
    idx = np.searchsorted(event_times, np.atleast_1d(np.asarray(times, dtype=float)), side="right") - 1
    return np.where(idx < 0, 0.0, values[np.maximum(idx, 0)])


def aalen_johansen(time, status, times, cause: int = CAUSE) -> np.ndarray:
    """Aalen–Johansen cumulative incidence of ``cause`` at ``times``.

    F_k(t) = Σ_{t_j ≤ t} S(t_j−) · d_kj / n_j, with S the all-cause Kaplan–Meier, d_kj the
    events of cause k at t_j and n_j the number at risk (Aalen & Johansen 1978; R
    ``survfit(Surv(time, factor(status)) ~ 1)``, the ``pstate`` of the cause's state).
    """
    t = np.asarray(time, dtype=float)
    s = check_status(status)
    if t.shape != s.shape:
        raise ValueError(f"time and status differ in length ({t.size} vs {s.size})")
    ut = np.unique(t[s > CENSORED])
    at_risk = t.size - np.searchsorted(np.sort(t), ut, side="left")
    d_all = np.array([np.sum((t == u) & (s > CENSORED)) for u in ut], dtype=float)
    d_k = np.array([np.sum((t == u) & (s == cause)) for u in ut], dtype=float)
    surv = np.cumprod(1.0 - d_all / at_risk)
    surv_before = np.concatenate([[1.0], surv[:-1]])
    cif = np.cumsum(surv_before * d_k / at_risk)
    return _step_at(ut, cif, times)


def cause_specific_absolute_risk(
    hazards, lps, times, cause_index: int = 0, *, product_limit: bool = True
) -> np.ndarray:
    """Absolute risk of one cause from cause-specific Cox models (Benichou & Gail 1990).

    ``hazards``: one :class:`~crlmflow.survival.cox.BaselineHazard` (at covariates 0) per
    cause; ``lps``: per cause, the uncentred linear predictors of the patients (n,).
    F_c(t | x) = Σ_{s ≤ t} S(s− | x) · dH_c(s | x), dH_k(s | x) = dH_0k(s)·exp(x β_k), with
    S(s− | x) = Π_{u < s} (1 − Σ_k dH_k(u | x)) (``product_limit=True``) or
    exp(−Σ_k H_k(s− | x)); riskRegression's ``predictRisk`` of a ``CSC`` fit with the same
    ``product.limit``. Returns an (n, len(times)) array.
    """
    grid = np.unique(np.concatenate([np.asarray(h.time, dtype=float) for h in hazards]))
    lps = [np.atleast_1d(np.asarray(lp, dtype=float)) for lp in lps]
    jumps = []
    for h, lp in zip(hazards, lps):
        H = _step_at(np.asarray(h.time, dtype=float), np.asarray(h.cumhaz, dtype=float), grid)
        dH0 = np.diff(np.concatenate([[0.0], H]))
        jumps.append(np.outer(np.exp(lp), dH0))  # (n, grid)
    total = np.sum(jumps, axis=0)
    if product_limit:
        surv = np.cumprod(1.0 - total, axis=1)
    else:
        surv = np.exp(-np.cumsum(total, axis=1))
    surv_before = np.hstack([np.ones((surv.shape[0], 1)), surv[:, :-1]])
    risk = np.cumsum(surv_before * jumps[cause_index], axis=1)
    idx = np.searchsorted(grid, np.atleast_1d(np.asarray(times, dtype=float)), side="right") - 1
    out = np.where(idx[None, :] < 0, 0.0, risk[:, np.maximum(idx, 0)])
    return out
