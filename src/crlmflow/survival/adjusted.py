"""An adjusted Cox model with named terms: the public entry point for a supplementary
analysis (e.g. a hazard ratio by primary tumour site adjusted for the model's predictors).

:func:`adjusted_cox` builds the design with R's treatment coding
(:func:`crlmflow.survival.design.design_matrix`), fits the Cox model (Cox 1972; Efron
ties by default, as R's ``coxph``) with :func:`crlmflow.survival.cox.coxph`, and returns
one row per model column (log-HR, SE, HR with its Wald 95% CI ``exp(β ± z·SE)``, Wald p)
and one joint Wald test per term (a factor's k−1 columns together, as R's
``car::Anova(type = 3)`` / ``rms::anova``), so that no private function is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from crlmflow.survival.cox import coxph, wald_test_terms
from crlmflow.survival.cox_result import CoxResult
from crlmflow.survival.design import design_matrix

__all__ = ["AdjustedCox", "adjusted_cox"]


@dataclass
class AdjustedCox:
    """Result of :func:`adjusted_cox`."""

    fit: CoxResult
    #: one row per model column: term, column, coef, se, hr, lower, upper, p
    coefficients: pd.DataFrame
    #: one row per term: term, chisq, df, p (joint Wald test of its columns)
    terms: pd.DataFrame


def adjusted_cox(
    df: pd.DataFrame, time: str, event: str, terms, *, ties: str = "efron", level: float = 0.95
) -> AdjustedCox:
    """Fit a Cox model on named terms.

    Parameters
    ----------
    df : DataFrame
        One row per patient; complete cases in ``time``, ``event`` and every term (a
        missing value raises, naming the row and column: no row is dropped silently).
    time, event : str
        Columns of follow-up time and event indicator (1 = event, 0 = censored).
    terms : iterable
        Term names (numeric) or spec dicts ``{"name", "type": numeric|binary|factor,
        "levels", "ref"}`` as in the config's ``candidates``.
    ties : {"efron", "breslow"}
    level : float
        Confidence level of the hazard-ratio intervals.

    Returns
    -------
    AdjustedCox
    """
    for col in (time, event):
        if col not in df.columns:
            raise KeyError(f"column {col!r} not in the data; expected the {('time', 'event')[col == event]} column")
        bad = df[col].isna()
        if bad.any():
            raise ValueError(f"column {col!r}, row {bad.idxmax()}: missing value ({int(bad.sum())} row(s))")
    design = design_matrix(df, terms)
    fit = coxph(df[time].to_numpy(float), df[event].to_numpy(float), design.X, names=design.columns, ties=ties)
    z = special.ndtri(0.5 + level / 2)
    term_of = {i: t for t, idx in design.groups.items() for i in idx}
    coefs = pd.DataFrame(
        {
            "term": [term_of[i] for i in range(len(design.columns))],
            "column": design.columns,
            "coef": fit.coef,
            "se": fit.se,
            "hr": np.exp(fit.coef),
            "lower": np.exp(fit.coef - z * fit.se),
            "upper": np.exp(fit.coef + z * fit.se),
            "p": 2 * special.ndtr(-np.abs(fit.coef / fit.se)),
        }
    )
    rows = []
    for t, idx in design.groups.items():
        test = wald_test_terms(fit, idx)
        rows.append({"term": t, "chisq": test.chisq, "df": test.df, "p": test.p})
    return AdjustedCox(fit, coefs, pd.DataFrame(rows))
