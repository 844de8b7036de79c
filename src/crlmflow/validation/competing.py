"""Validation of absolute-risk predictions with competing risks (van Geloven et al., BMJ 2022).

``status``: 0 censored, 1 the event of interest, 2 the competing event
(:mod:`crlmflow.survival.competing`); ``risk``: each patient's predicted cumulative
incidence of cause 1 by ``t``. Censoring weights are the reverse Kaplan–Meier of the
censoring distribution, G (Gerds & Schumacher 2006), as riskRegression's ``Score(...,
cause = 1, cens.model = "km")``:

* a patient with any event by t weighs 1/G(T_i−), one still event-free at t 1/G(t), one
  censored before t 0;
* Brier score: Σ w_i (1{T_i ≤ t, cause 1} − F̂_i(t))² / n;
* AUC (cumulative/dynamic, Blanche, Dartigues & Jacqmin-Gadda, Stat Med 2013, definition
  of controls 2): cases have cause 1 by t; controls are everyone else not censored before
  t (event-free at t, or the competing event by t); ties in risk count one half;
* observed/expected: Aalen–Johansen cumulative incidence by t over the mean predicted risk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.survival.competing import CAUSE, CENSORED, COMPETING, aalen_johansen, check_status
from crlmflow.validation._ipcw import censoring_weights


def _weights(time, status, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time, status, IPCW weight) with the weights of the module docstring."""
    time = np.asarray(time, dtype=float)
    s = check_status(status)
    cw = censoring_weights(time, (s > CENSORED).astype(float), t)
    w = np.where((time <= t) & (s > CENSORED), 1.0 / cw.G_Ti_minus, np.where(time > t, 1.0 / cw.G_t, 0.0))
    return time, s, w


def competing_brier(time, status, risk, t: float) -> float:
    """IPCW Brier score of the predicted cumulative incidence of cause 1 by ``t``."""
    time, s, w = _weights(time, status, t)
    y = ((time <= t) & (s == CAUSE)).astype(float)
    return float(np.mean(w * (y - np.asarray(risk, dtype=float)) ** 2))


def competing_auc(time, status, risk, t: float) -> float:
    """IPCW cumulative/dynamic AUC at ``t`` with competing events among the controls."""
    time, s, w = _weights(time, status, t)
    r = np.asarray(risk, dtype=float)
    case = (time <= t) & (s == CAUSE)
    control = (time > t) | ((time <= t) & (s == COMPETING))
    rc, wc = r[case], w[case]
    rk, wk = r[control], w[control]
    order = np.argsort(rk, kind="stable")
    rk, wk = rk[order], wk[order]
    cum = np.concatenate([[0.0], np.cumsum(wk)])
    below = cum[np.searchsorted(rk, rc, side="left")]
    equal = cum[np.searchsorted(rk, rc, side="right")] - below
    return float(np.sum(wc * (below + 0.5 * equal)) / (wc.sum() * wk.sum()))


def competing_observed_expected(time, status, risk, t: float) -> float:
    """Aalen–Johansen cumulative incidence of cause 1 by ``t`` / mean predicted risk."""
    observed = float(aalen_johansen(time, status, [t], cause=CAUSE)[0])
    return observed / float(np.mean(np.asarray(risk, dtype=float)))


def competing_performance(time, status, risk, horizons, *, min_events: int = 0, min_at_risk: int = 0):
    """AUC, Brier score and O/E of ``risk`` (n × len(horizons)) at every horizon.

    Rows ``horizon, measure, estimate, cases`` (cause 1 by t), ``competing`` (cause 2 by t),
    ``controls`` (event-free at t), ``estimable``; a horizon with fewer than ``min_events``
    cases or ``min_at_risk`` event-free patients is not estimable (estimate empty). Also
    ``observed`` (Aalen–Johansen) and ``expected`` (mean predicted risk).
    """
    time = np.asarray(time, dtype=float)
    s = check_status(status)
    risk = np.asarray(risk, dtype=float)
    rows = []
    for j, t in enumerate(horizons):
        cases = int(((time <= t) & (s == CAUSE)).sum())
        competing = int(((time <= t) & (s == COMPETING)).sum())
        controls = int((time > t).sum())
        ok = cases >= max(min_events, 1) and controls >= max(min_at_risk, 1)
        r = risk[:, j]
        values = {
            "auc": competing_auc(time, s, r, t) if ok else np.nan,
            "brier": competing_brier(time, s, r, t) if ok else np.nan,
            "observed_expected": competing_observed_expected(time, s, r, t) if ok else np.nan,
            "observed": float(aalen_johansen(time, s, [t])[0]),
            "expected": float(r.mean()),
        }
        for m, v in values.items():
            rows.append(dict(horizon=t, measure=m, estimate=v, cases=cases, competing=competing,
                             controls=controls, estimable=ok))  # fmt: skip
    return pd.DataFrame(rows)
