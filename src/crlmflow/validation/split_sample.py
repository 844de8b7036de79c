"""Split-sample development and validation: the paper's analysis, re-run on a cohort.

:func:`split_sample_validation` draws the seeded random split
(:func:`crlmflow.data.split.train_validation_split`), develops the model on the training
part by screening and stepwise selection (:func:`crlmflow.model.modelling.develop_model`)
and validates the fixed model on the held-out part: Harrell's C with the
infinitesimal-jackknife CI (R ``survival::concordance``) and the calibration slope (Cox
model of the outcome on the linear predictor; Crowson, Atkinson & Therneau 2016).

Used to set the paper's analysis beside another analysis of the same patients (the
recommended one develops on all patients and validates by the selection-aware bootstrap;
Steyerberg et al., J Clin Epidemiol 2001: at this size a split wastes data and its
validation C is the noisier estimator).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crlmflow.data.split import TRAIN, train_validation_split
from crlmflow.model.modelling import develop_model, fit_summary, predict
from crlmflow.validation.calibration import calibration_slope
from crlmflow.validation.concordance import concordance_index

Z95 = 1.959963984540054


def split_sample_validation(
    cohort: pd.DataFrame,
    candidates: list[dict],
    endpoint: str,
    time_col: str,
    event_col: str,
    *,
    split: Mapping,
    seed: int,
    selection: Mapping,
    exclude=(),
) -> dict:
    """Develop on a seeded random training part of ``cohort`` and validate on the rest.

    Parameters
    ----------
    cohort : DataFrame
        Every patient of the analysis, with the endpoint's columns and the candidates.
    split : mapping
        ``train_fraction`` and ``stratify`` of the random split (as ``config.split``).
    seed : int
        Seed of the split (the study's ``seed``).
    selection : mapping
        ``screen_p``, ``method``, ``entry_p``, ``removal_p``, ``entry_test``
        (:class:`crlmflow.pipeline.options.SelectionOptions`).

    Returns
    -------
    dict
        ``fit`` (the :func:`~crlmflow.model.modelling.fit_summary` of the training model),
        ``n_validation``, ``events_validation``, ``c_index`` with ``c_lower``/``c_upper``
        (IJ CI), ``slope`` with ``slope_lower``/``slope_upper``, all on the validation part.
    """
    sets = train_validation_split(
        cohort, train_fraction=split["train_fraction"], seed=seed, stratify=split.get("stratify")
    )
    train, valid = cohort[sets == TRAIN], cohort[sets != TRAIN]
    model = develop_model(
        train,
        candidates,
        endpoint,
        time_col,
        event_col,
        screen_p=selection["screen_p"],
        exclude=exclude,
        method=selection["method"],
        entry_p=selection["entry_p"],
        removal_p=selection["removal_p"],
        entry_test=selection["entry_test"],
    )
    t = valid[time_col].to_numpy(float)
    e = valid[event_col].to_numpy(float)
    lp = predict(model, valid, []).loc[:, "lp"].to_numpy(float)
    c = concordance_index(t, e, lp)
    out = {
        "fit": fit_summary(model, []),
        "n_validation": int(len(valid)),
        "events_validation": int(e.sum()),
        "c_index": c.c_index,
        "c_lower": c.c_index - Z95 * c.std_err,
        "c_upper": c.c_index + Z95 * c.std_err,
        "slope": np.nan,
        "slope_lower": np.nan,
        "slope_upper": np.nan,
    }
    if np.ptp(lp) > 0:
        s = calibration_slope(t, e, lp)
        out.update(slope=s.slope, slope_lower=s.lower, slope_upper=s.upper)
    return out
