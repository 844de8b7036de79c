"""High/low risk groups from the nomogram's total points (paper Fig. 4C–F, Suppl. Figs 3/4).

The cut-off is the maximally selected log-rank statistic on the training set with
``minprop`` = 0.1 (``survminer::surv_cutpoint``), applied unchanged to the validation set.
Because the training cut-off is the best of many, its naive log-rank p is too small; the
output carries the Lausen & Schumacher (1992) p and a permutation p that account for the
search.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.model.cutpoint import decision_threshold, lausen_schumacher_p, maxstat_cutpoint, permutation_p
from crlmflow.survival.cox import SeparationError, coxph
from crlmflow.survival.km import logrank_test


def _compare(time, event, high) -> dict:
    out = {
        "n_low": int((~high).sum()),
        "n_high": int(high.sum()),
        "events_low": int(event[~high].sum()),
        "events_high": int(event[high].sum()),
    }
    if out["n_low"] == 0 or out["n_high"] == 0:
        return out | {"logrank_chisq": None, "logrank_p": None, "hr_high_vs_low": None}
    lr = logrank_test(time, event, np.where(high, "high", "low"))
    out |= {"logrank_chisq": float(lr.chisq), "logrank_p": float(lr.p)}
    try:
        fit = coxph(time, event, high.astype(float)[:, None], names=["high"])
        b, se = float(fit.coef[0]), float(fit.se[0])
        out |= {
            "hr_high_vs_low": float(np.exp(b)),
            "hr_lower": float(np.exp(b - 1.959964 * se)),
            "hr_upper": float(np.exp(b + 1.959964 * se)),
        }
    except SeparationError as exc:  # no events in one group: report it, do not invent an HR
        out |= {"hr_high_vs_low": None, "hr_note": str(exc)}
    return out


def risk_groups(
    data: pd.DataFrame,
    time_col: str,
    event_col: str,
    *,
    minprop: float = 0.1,
    n_perm: int = 1000,
    seed: int = 0,
    marker: str = "total_points",
    rng: np.random.Generator | None = None,
):
    """Cut-off on the training set, groups for every patient, comparison per set.

    The permutation p draws from ``rng`` when given (the workflow passes
    ``stream(seed, "cutpoint_permutation", endpoint_index)``), else from that stream with
    endpoint index 0; ``seed`` is recorded as ``permutation_seed``.

    Returns (summary dict, per-patient DataFrame[patient_id, set, total_points, risk_group],
    inputs of the cut-off figure).
    """
    train = data[data["set"] == "train"]
    x = train[marker].to_numpy(float)
    t = train[time_col].to_numpy(float)
    e = train[event_col].to_numpy(float)
    cp = maxstat_cutpoint(x, t, e, minprop=minprop)
    threshold = decision_threshold(x, cp.estimate)
    summary = {
        "marker": marker,
        "total_points": float(cp.estimate),
        "threshold": threshold,
        "rule": (
            "high risk when total points > threshold; the threshold lies midway between the "
            "maxstat cut-off (an observed training score, survminer's surv_categorize boundary) "
            "and the next larger training score, so training groups equal survminer's and no "
            "patient sits on the boundary"
        ),
        "minprop": minprop,
        "statistic": float(cp.statistic),
        "curve": {"cut": cp.curve["cut"].tolist(), "statistic": cp.curve["stat"].tolist()},
        "p_lausen_schumacher": float(lausen_schumacher_p(cp.statistic, minprop)),
    }
    if n_perm > 0:
        perm = permutation_p(x, t, e, minprop=minprop, n_perm=n_perm, seed=seed if rng is None else rng)
        summary |= {"p_permutation": float(perm.p_value), "n_permutations": n_perm, "permutation_seed": seed}
    high_all = data[marker].to_numpy(float) > threshold
    groups = data[["patient_id", "set"]].copy()
    groups["total_points"] = data[marker].to_numpy(float)
    groups["risk_group"] = np.where(high_all, "high", "low")
    by_set = {}
    for name, part in data.groupby("set", sort=True):
        hi = part[marker].to_numpy(float) > threshold
        by_set[name] = _compare(part[time_col].to_numpy(float), part[event_col].to_numpy(float), hi)
    summary["by_set"] = by_set
    summary["group_sizes"] = {k: {"low": v["n_low"], "high": v["n_high"]} for k, v in by_set.items()}
    summary["note"] = (
        "The training log-rank p is naive: the cut-off was chosen to maximise it. "
        "p_lausen_schumacher and p_permutation correct for the search."
    )
    return summary, groups, {"cutpoint": cp, "marker": x}
