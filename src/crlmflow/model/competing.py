"""Recurrence with death as a competing event: cause-specific Cox models and the absolute
risk of recurrence (Putter, Fiocco & Geskus, Stat Med 2007; van Geloven et al., BMJ 2022).

:func:`develop_cause_specific` develops the model of the cause of interest (recurrence)
with the configured screening and stepwise selection on its cause-specific hazard — the
paper's RFS model with death censored *is* this model — and fits the competing cause
(death without recurrence) on the same terms, as riskRegression's ``CSC`` does with one
formula. :func:`predict_absolute_risk` turns the two into each patient's cumulative
incidence of recurrence by each horizon (Aalen–Johansen type, product limit), which the
Kaplan–Meier-type 1 − exp(−H₁) of a model that censors deaths overstates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crlmflow.model.modelling import DevelopedModel, develop_model, model_matrix
from crlmflow.survival.competing import CAUSE, COMPETING, cause_specific_absolute_risk, check_status
from crlmflow.survival.cox import BaselineHazard, CoxData, baseline_hazard
from crlmflow.survival.cox_result import CoxResult


@dataclass
class CauseSpecificModels:
    """The cause of interest's developed model and the competing cause's fit on its terms."""

    cause: DevelopedModel
    competing_fit: CoxResult | None
    competing_baseline: BaselineHazard
    competing_events: int


def develop_cause_specific(
    train: pd.DataFrame, candidates: list[dict], endpoint: str, time_col: str, status_col: str, **selection
) -> CauseSpecificModels:
    """Cause-specific Cox models of ``status_col`` (0/1/2) on the training patients.

    ``selection``: the keyword arguments of :func:`crlmflow.model.modelling.develop_model`
    (``screen_p, exclude, method, entry_p, removal_p, entry_test``).
    """
    status = check_status(train[status_col])
    data = train.assign(_cause=(status == CAUSE).astype(int), _competing=(status == COMPETING).astype(int))
    model = develop_model(data, candidates, endpoint, time_col, "_cause", **selection)
    X = model_matrix(model, data)
    names = list(model.fit.names) if model.fit is not None else []
    cd = CoxData(data[time_col].to_numpy(float), data["_competing"].to_numpy(float), X, names=names)
    # few competing events: a binary term may have none in a category (monotone
    # likelihood); its coefficient then runs to -inf, as in R, with a warning
    fit = cd.fit(on_separation="warn") if X.shape[1] else None
    if fit is not None:
        bh = baseline_hazard(cd, fit)
    else:
        bh = baseline_hazard(cd, cd.fit(cols=[]))
    return CauseSpecificModels(model, fit, bh, int(data["_competing"].sum()))


def predict_absolute_risk(models: CauseSpecificModels, df: pd.DataFrame, horizons) -> np.ndarray:
    """Cumulative incidence of the cause of interest by each horizon, (n, len(horizons))."""
    X = model_matrix(models.cause, df)
    lp1 = X @ models.cause.fit.coef if models.cause.fit is not None else np.zeros(len(df))
    lp2 = X @ models.competing_fit.coef if models.competing_fit is not None else np.zeros(len(df))
    return cause_specific_absolute_risk(
        [models.cause.baseline, models.competing_baseline], [lp1, lp2], horizons, 0, product_limit=True
    )
