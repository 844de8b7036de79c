"""High/low risk groups from the nomogram's total points (paper Fig. 4C–F, Suppl. Figs 3/4).

The cut-off is the maximally selected log-rank statistic on the training set with
``minprop`` = 0.1 (``survminer::surv_cutpoint``), applied unchanged to the validation set.
The training comparison is descriptive: the score was fitted to those patients and the
cut-off chosen to maximise their log-rank statistic, so no p-value there has its nominal
size.  The Lausen & Schumacher (1992) and permutation p-values account for the search over
cut-offs of a *fixed* marker only, not for fitting the marker; they are kept as a record,
not as inference.  The inferential result is the validation set's hazard ratio and
log-rank test of the cut-off fixed on the training set.  The cut-off's uncertainty is
given by a percentile bootstrap interval (training patients resampled, the score fixed:
so the interval is, if anything, too narrow).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.model.cutpoint import decision_threshold, lausen_schumacher_p, maxstat_cutpoint, permutation_p
from crlmflow.pipeline.streams import stream
from crlmflow.report.formats import format_p
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


def cutoff_bootstrap_interval(
    marker, time, event, *, minprop: float, B: int, seed: int, endpoint_index: int = 0, level: float = 0.95
) -> dict:
    """Percentile bootstrap interval of the maximally selected log-rank cut-off.

    Replicate b resamples the patients with ``stream(seed, "cutpoint_bootstrap",
    endpoint_index, b)`` and repeats the search (``maxstat_cutpoint``) on the fixed marker;
    the interval is the (1 - level)/2 and (1 + level)/2 quantiles of the B cut-offs
    (Efron & Tibshirani 1993, ch. 13).
    """
    x, t, e = (np.asarray(a, float) for a in (marker, time, event))
    n = x.size
    cuts = np.array(
        [
            maxstat_cutpoint(x[i], t[i], e[i], minprop=minprop).estimate
            for i in (stream(seed, "cutpoint_bootstrap", endpoint_index, b).integers(0, n, n) for b in range(B))
        ]
    )
    lo, hi = np.quantile(cuts, [(1 - level) / 2, (1 + level) / 2])
    return {"lower": float(lo), "upper": float(hi), "B": int(B), "level": level, "method": "percentile bootstrap"}


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
    bootstrap_B: int = 0,
    endpoint_index: int = 0,
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
        # at its floor 1/(n_perm + 1) the permutation p only says p < 1/n_perm
        floor = 1.0 / (n_perm + 1)
        text = f"< {1.0 / n_perm:.3g}" if perm.p_value <= floor else format_p(perm.p_value)
        summary |= {
            "p_permutation": float(perm.p_value),
            "p_permutation_text": text,
            "n_permutations": n_perm,
            "permutation_seed": seed,
        }
    if bootstrap_B > 0:
        summary["total_points_interval"] = cutoff_bootstrap_interval(
            x, t, e, minprop=minprop, B=bootstrap_B, seed=seed, endpoint_index=endpoint_index
        )
    high_all = data[marker].to_numpy(float) > threshold
    groups = data[["patient_id", "set"]].copy()
    groups["total_points"] = data[marker].to_numpy(float)
    groups["risk_group"] = np.where(high_all, "high", "low")
    by_set = {}
    for name, part in data.groupby("set", sort=True):
        hi = part[marker].to_numpy(float) > threshold
        by_set[name] = _compare(part[time_col].to_numpy(float), part[event_col].to_numpy(float), hi)
        by_set[name]["inference"] = "descriptive" if name == "train" else "inferential"
    summary["by_set"] = by_set
    summary["group_sizes"] = {k: {"low": v["n_low"], "high": v["n_high"]} for k, v in by_set.items()}
    summary["note"] = (
        "Training-set risk-group results are descriptive: the score was fitted to these patients "
        "and the cut-off chosen to maximise their log-rank statistic, so no p-value there is "
        "honest. p_lausen_schumacher and p_permutation account only for the search over cut-offs "
        "of a fixed score, not for fitting the score. The inferential result is the validation "
        "set's hazard ratio and log-rank test at the cut-off fixed on the training set."
    )
    return summary, groups, {"cutpoint": cp, "marker": x}
