"""Optimism correction of the time-dependent measures beyond C, Dxy, slope, R2, Brier and IPA:
the IPCW AUC(t), the smooth-calibration ICI / E50 / E90 and the net benefit at a few risk
thresholds, evaluated in the same selection-aware bootstrap replicates as
``crlmflow.validation.optimism`` (Harrell, Lee & Mark, Stat Med 1996; Steyerberg, Clinical
Prediction Models, 2nd ed., ch. 17).

In replicate b the model selected on the bootstrap sample is evaluated on that sample
("training": its rows repeated by their bootstrap frequency) and on the original data
("test") by the one implementation of each measure:

* AUC(t): ``roc.ipcw_auc`` (the estimate of ``roc.cumulative_dynamic_auc``) on the linear
  predictor (riskRegression::Score);
* ICI, E50, E90: ``calibration.smooth_calibration`` (Austin, Harrell & van Klaveren 2020);
* net benefit at threshold pt: ``decision_curve.net_benefit`` (Vickers et al. 2008), NaN
  where the high-risk group is not followed to t.

optimism = mean(training - test) over the replicates where both are defined, corrected =
apparent - optimism (``optimism.summarise_optimism``).  A measure the data cannot support
in a replicate (no case or control at t; too few distinct predictions for the calibration
spline, e.g. a replicate that selected nothing) is NaN there and left out of that mean; the
number of replicates used is reported.

No bootstrap interval is given for a corrected value: the spread of the replicates' optimism
is not the sampling distribution of apparent - optimism, which needs a second level of
resampling around the whole optimism bootstrap (Noma et al., Stat Med 2021).  The output
says so in its ``interval`` column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crlmflow.report.formats import horizon_key
from crlmflow.survival.cox import CoxData
from crlmflow.validation._ipcw import censoring_weights_at
from crlmflow.validation._km import TimeSortedSample
from crlmflow.validation.calibration import NotEstimableError, smooth_calibration
from crlmflow.validation.decision_curve import net_benefit
from crlmflow.validation.roc import MarkerSort, ipcw_auc, marker_sort

__all__ = [
    "NO_INTERVAL",
    "EvaluationSample",
    "evaluation_sample",
    "corrected_measure_names",
    "evaluation_measures",
    "measure_horizon",
    "replicate_measures",
    "repeated_order",
    "repeated_sample",
]

NO_INTERVAL = (
    "none: a valid interval for an optimism-corrected value needs a double bootstrap "
    "(Noma et al. 2021); the spread of the replicates' optimism is not one"
)

_HORIZON = re.compile(r"(?:auc_uno|ici|e50|e90|net_benefit)_(\d+(?:\.\d+)?)(?:_pt.*)?")


def _threshold_key(pt: float) -> str:
    return f"pt{round(float(pt), 10):g}"


def measure_horizon(measure: str) -> float | None:
    """The horizon of a measure named by ``evaluation_measures`` ('ici_36' -> 36.0,
    'net_benefit_36_pt0.2' -> 36.0), None for any other name."""
    m = _HORIZON.fullmatch(measure)
    return float(m.group(1)) if m else None


@dataclass(frozen=True)
class EvaluationSample:
    """What the measures compute from (time, event) alone, whatever the predictions: the
    censoring weights of the AUC at each horizon, the time-sorted sample of the net benefit
    and the sorted risk sets of the calibration models.  Built once per evaluation sample
    (the original rows once per bootstrap; a bootstrap sample once per replicate) instead of
    once per measure and horizon; the measures are the same to the last bit."""

    censoring: dict  # horizon -> CensoringWeights
    sample: TimeSortedSample
    risk_data: CoxData


def evaluation_sample(time, event, horizons) -> EvaluationSample:
    """The prediction-free structures of ``evaluation_measures`` for one sample."""
    time = np.asarray(time, float)
    event = np.asarray(event, float)
    return EvaluationSample(
        censoring_weights_at(time, event, horizons),
        TimeSortedSample(time, event),
        CoxData(time, event, np.zeros((time.size, 0))),
    )


def repeated_sample(base: EvaluationSample, time, event, horizons, counts) -> EvaluationSample:
    """``evaluation_sample`` of the rows of ``base``'s sample repeated ``counts`` times (a
    bootstrap sample; ``time``, ``event`` the repeated rows), its sorts read off ``base``'s
    (``repeated_order``) instead of sorting the repeated rows again: the same structures."""
    time = np.asarray(time, float)
    event = np.asarray(event, float)
    cox_order = repeated_order(base.risk_data.risk_sets.order, counts)
    return EvaluationSample(
        censoring_weights_at(time, event, horizons),
        TimeSortedSample(time, event, order=repeated_order(base.sample.order, counts)),
        CoxData(time, event, np.zeros((time.size, 0)), order=cox_order),
    )


def evaluation_measures(
    time, event, lp, surv, horizons, thresholds=(), prepared: EvaluationSample | None = None, lp_ranks=None
) -> dict:
    """AUC, ICI, E50, E90 (and net benefit at ``thresholds``) of one model on one sample.

    Parameters
    ----------
    time, event : array (n,)
        Follow-up and event indicator of the evaluation sample.
    lp : array (n,)
        Linear predictor (the AUC's marker).
    surv : array (n, len(horizons))
        Predicted survival S(t | x) at each horizon.
    horizons : sequence of float
    thresholds : sequence of float in (0, 1)
        Risk thresholds of the net benefit (none: no net benefit).
    prepared : EvaluationSample, optional
        ``evaluation_sample(time, event, horizons)``, when the same sample is evaluated often.
    lp_ranks : roc.MarkerSort, optional
        ``roc.marker_sort(lp)`` (computed if not given), shared by the horizons' AUCs.

    Returns
    -------
    dict
        ``auc_uno_<h>``, ``ici_<h>``, ``e50_<h>``, ``e90_<h>``, ``net_benefit_<h>_pt<pt>``;
        NaN where the sample cannot support the measure.
    """
    time = np.asarray(time, float)
    event = np.asarray(event, float)
    lp = np.asarray(lp, float)
    surv = np.asarray(surv, float)
    pre = evaluation_sample(time, event, horizons) if prepared is None else prepared
    ranks: MarkerSort = marker_sort(lp) if lp_ranks is None else lp_ranks
    out = {}
    prior = None  # the horizons' predictions of one Cox model share their calibration model
    for j, h in enumerate(horizons):
        k = horizon_key(h)
        try:
            out[f"auc_uno_{k}"] = ipcw_auc(time, event, lp, h, censoring=pre.censoring[float(h)], ranks=ranks)
        except ValueError:  # no case or no control at h
            out[f"auc_uno_{k}"] = float("nan")
        try:
            sm = smooth_calibration(time, event, surv[:, j], h, risk_data=pre.risk_data, same_model_as=prior)
            vals, prior = (sm.ici, sm.e50, sm.e90), sm
        except NotEstimableError:
            vals = (float("nan"),) * 3
        for name, v in zip(("ici", "e50", "e90"), vals):
            out[f"{name}_{k}"] = float(v)
        if len(thresholds):
            d = net_benefit(time, event, 1.0 - surv[:, j], h, thresholds=thresholds, sample=pre.sample)
            nb = np.where(d["high_risk_followed_to_t"], d["net_benefit_model"], np.nan)
            for pt, v in zip(d["threshold"], nb):
                out[f"net_benefit_{k}_{_threshold_key(pt)}"] = float(v)
    return out


def replicate_measures(engine, w: np.ndarray, selected, rm, thresholds=()) -> dict:
    """One replicate's ``<measure>_training`` and ``<measure>_test`` columns.

    ``engine`` is the replicate's ``optimism.ReplicateEngine`` (its ``model_predictions``
    gives the replicate model's lp and S on the original rows, its ``test_sample`` the
    original rows' ``evaluation_sample``), ``w`` the bootstrap
    frequencies, ``selected`` / ``rm`` the replicate's selection and models.  Training: the
    original rows repeated w times (identical to frequency weights); test: the original rows.
    """
    if selected:
        lp, S = engine.model_predictions(w, selected, rm)
    else:  # null model: lp 0 and the bootstrap sample's Kaplan-Meier estimate, as evaluate()
        lp = np.zeros(engine.n)
        S = np.broadcast_to(engine.brier.weights_G(w)[2][None, :], (engine.n, len(engine.horizons)))
    counts = w.astype(np.int64)
    rows = np.repeat(np.arange(engine.n), counts)
    ranks = marker_sort(lp)
    test = evaluation_measures(engine.time, engine.event, lp, S, engine.horizons, thresholds, engine.test_sample, ranks)
    t_tr, e_tr = engine.time[rows], engine.event[rows]
    train = evaluation_measures(
        t_tr,
        e_tr,
        lp[rows],
        S[rows],
        engine.horizons,
        thresholds,
        repeated_sample(engine.test_sample, t_tr, e_tr, engine.horizons, counts),
        marker_sort(lp[rows], repeated_order(ranks.order, counts)),
    )
    out = {f"{m}_training": v for m, v in train.items()}
    out.update({f"{m}_test": v for m, v in test.items()})
    return out


def repeated_order(order: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The stable argsort of ``x[np.repeat(arange(n), counts)]`` from the stable argsort
    ``order`` of ``x``: each row's copies are consecutive and, among tied values, stable
    sorting keeps rows (and so their copies) in index order, so the sorted copies are the
    sorted rows' copies in turn.  O(n) instead of a sort of the repeated rows."""
    c = counts[order]
    first = (np.cumsum(counts) - counts)[order]  # where each sorted row's copies start
    return np.arange(int(c.sum())) + np.repeat(first - (np.cumsum(c) - c), c)


def corrected_measure_names(replicates: pd.DataFrame) -> list[str]:
    """The measures of this module with ``_training`` columns in ``replicates`` (pass them as
    ``optimism.summarise_optimism(..., measures=...)``)."""
    names = [c[: -len("_training")] for c in replicates.columns if c.endswith("_training")]
    return [m for m in names if measure_horizon(m) is not None]
