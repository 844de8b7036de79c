"""Decision-curve analysis for a survival outcome at horizon t.

Method: Vickers, Cronin, Elkin & Gonen, "Extensions to decision curve analysis" (BMC Med
Inform Decis Mak 2008) – the Kaplan–Meier version of net benefit used by MSKCC's ``stdca``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.survival.checks import check_survival
from crlmflow.validation._km import TimeSortedSample


def net_benefit(
    time, event, risk_at_t, t: float, thresholds=None, sample: TimeSortedSample | None = None
) -> pd.DataFrame:
    """Net benefit of treating patients whose predicted risk 1 - S(t) is >= each threshold pt.

    NB_model(pt) = (1 - S_hi) p - S_hi p pt / (1 - pt), with p the proportion at or above pt and
    S_hi the Kaplan–Meier S(t) among them (carried forward past their last time; NB = 0 when
    nobody qualifies); treat-all uses the overall KM; treat-none is 0;
    net interventions avoided per 100 = (NB_model - NB_all) (1 - pt) / pt * 100.

    ``risk_at_t`` is the predicted event probability by t (= 1 - predicted survival).
    Each threshold costs O(n) on data sorted once by time.

    ``high_risk_followed_to_t`` is False where the high-risk group's last follow-up time is
    before t: its KM S(t) is then the value carried forward from earlier, not an estimate at
    t, and the net benefit there is not estimable (the spikes of a decision curve at high
    thresholds come from such carried-forward values).  ``sample``: ``TimeSortedSample(time,
    event)`` if already built (it does not depend on the predictions).
    """
    time, event, risk = check_survival(time, event, risk_at_t, names=("time", "event", "risk_at_t"))
    pts = np.arange(1, 100) / 100 if thresholds is None else np.asarray(thresholds, dtype=float)
    if np.any((pts <= 0) | (pts >= 1)):
        raise ValueError("thresholds must lie strictly between 0 and 1")
    sample = TimeSortedSample(time, event) if sample is None else sample
    s_all = sample.km_at(np.ones(time.shape[0], dtype=bool), t)
    rows = []
    for pt in pts:
        high = risk >= pt
        p = float(high.mean())
        odds = pt / (1.0 - pt)
        nb_all = (1.0 - s_all) - s_all * odds
        if p == 0.0:
            s_hi, nb, followed = np.nan, 0.0, True
        else:
            s_hi = sample.km_at(high, t)
            nb = (1.0 - s_hi) * p - s_hi * p * odds
            followed = bool(time[high].max() >= t)
        rows.append((pt, p, s_hi, nb, nb_all, followed))
    out = pd.DataFrame(
        rows,
        columns=[
            "threshold",
            "prop_high_risk",
            "km_surv_high_risk",
            "net_benefit_model",
            "net_benefit_all",
            "high_risk_followed_to_t",
        ],
    )
    out["net_benefit_none"] = 0.0
    out["net_interventions_avoided_per100"] = (
        (out["net_benefit_model"] - out["net_benefit_all"]) * (1.0 - out["threshold"]) / out["threshold"] * 100.0
    )
    out.attrs["horizon"] = float(t)
    out.attrs["km_surv_all"] = float(s_all)
    return out
