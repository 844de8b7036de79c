"""Separation (monotone likelihood) in univariable screening: a candidate whose Cox
coefficient is infinite — e.g. no events at one level of a binary — cannot be screened.

Its rows are reported as not estimable, with the weighted n and events per level, and a
:class:`~crlmflow.survival.cox.SeparationWarning` the user sees; the candidate never
enters the multivariable model (Heinze & Schemper, Biometrics 2001, on monotone
likelihood in Cox regression).
"""

from __future__ import annotations

import warnings

import numpy as np

from crlmflow.survival.cox import SeparationWarning

__all__ = ["level_counts", "not_estimable_rows"]


def level_counts(pb, col: int) -> str:
    """'n/events' per level of a 0/1 design column (weighted counts) of the screening
    problem ``pb`` (:class:`~crlmflow.survival.selection.CoxProblem`)."""
    d = pb.data
    x, w = d.X_raw[:, col], d.weights
    if not np.isin(x, (0.0, 1.0)).all():
        return ""
    we = w * d.event
    parts = [f"{d.names[col]}={lv}: n={w[x == lv].sum():g}, events={we[x == lv].sum():g}" for lv in (0.0, 1.0)]
    return "; ".join(p.replace(".0:", ":") for p in parts)


def not_estimable_rows(pb, v: str, reason: str) -> list[dict]:
    """Univariable rows of a candidate whose coefficient is infinite (separation)."""
    cols = list(pb.design.groups[v])
    counts = " | ".join(c for c in (level_counts(pb, j) for j in cols) if c)
    endpoint = f"{pb.event_col or 'event'} / {pb.time_col or 'time'}"
    msg = f"univariable Cox of {v!r} ({endpoint}) not estimable, excluded from screening: {reason}"
    msg += f" [{counts}]" if counts else ""
    warnings.warn(msg, SeparationWarning, stacklevel=3)
    nan = float("nan")
    keys = ("coef", "se", "z", "hr", "hr_lower", "hr_upper", "p", "p_term", "chisq_term", "p_lr", "p_score")
    base = dict.fromkeys(keys, nan) | {"df_term": len(cols), "loglik": nan}
    base |= {"loglik_null": nan, "n": int(round(pb.data.n_eff)), "events": int(round(pb.data.n_events))}
    return [
        {"term": pb.design.columns[j], "variable": v, **base, "separated": True, "separation": f"{reason} [{counts}]"}
        for j in cols
    ]
