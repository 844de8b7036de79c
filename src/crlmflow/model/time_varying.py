"""The final model refitted with a time-varying coefficient for one flagged term.

For an endpoint whose final model holds the flagged term (``proportional_hazards.
time_varying.term``), :func:`time_varying_table` refits the selected terms on the training
patients with β(t) = β + γ·g(t) for that term (:mod:`crlmflow.survival.time_varying`) and
reports every coefficient, the Wald test of γ = 0 (a test of proportional hazards for the
term) and the term's log-HR β(t) at each horizon. A term that is not in the final model, or
a factor or a spline (several columns), gets one row saying so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from crlmflow.model.modelling import model_matrix_from_fit
from crlmflow.survival.time_varying import cox_time_varying, time_function

COLUMNS = ["term", "coef", "se", "z", "p", "note"]


def time_varying_table(fit: dict, candidates: list[dict], train: pd.DataFrame, term: str, form: str, step_at, horizons):
    """Rows ``term, coef, se, z, p, note``: the refitted coefficients, ``<term>:g(t)`` (γ)
    and ``<term> log-HR at <h> months`` (β + γ·g(h), SE from the covariance)."""
    terms = list(fit.get("terms") or [])
    spline = term in (fit.get("knots") or {})  # rcs columns: varying the linear one alone misleads
    if term not in (fit.get("selected") or []) or term not in terms or spline:
        why = (
            "not in the final model"
            if term not in (fit.get("selected") or [])
            else "a spline (several columns)"
            if spline
            else "a factor (several columns)"
        )
        return pd.DataFrame([dict(term=term, note=f"no time-varying fit: {why}")], columns=COLUMNS)
    X = model_matrix_from_fit(fit, candidates, train)
    j = terms.index(term)
    res = cox_time_varying(train[fit["time"]], train[fit["event"]], X, j, form, step_at=step_at)
    g_name = "log(t)" if form == "log" else f"1(t > {step_at:g})"
    names = [*terms, f"{term}:{g_name}"]
    rows = []
    for k, name in enumerate(names):
        z = res.coef[k] / res.se[k]
        rows.append(dict(term=name, coef=res.coef[k], se=res.se[k], z=z, p=2 * special.ndtr(-abs(z)), note=""))
    rows[-1]["note"] = "gamma: Wald test of proportional hazards for the term"
    for h in horizons:
        g = float(time_function([h], form, step_at)[0])
        a = np.zeros(len(names))
        a[j], a[-1] = 1.0, g
        est, se = float(a @ res.coef), float(np.sqrt(a @ res.var @ a))
        rows.append(dict(term=f"{term} log-HR at {h:g} months", coef=est, se=se, z=est / se,
                         p=2 * special.ndtr(-abs(est / se)), note="beta + gamma * g(t)"))  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)
