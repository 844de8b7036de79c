"""Kaplan–Meier summaries behind Table 3 and Figure 4 (curves, numbers at risk, log-rank).

A grouping with more than two groups also gets pairwise log-rank tests with Holm's
correction (``crlmflow.survival.pairwise``): a claim that one group differs from another is
pairwise, and the k-sample test does not support it.

Estimation happens here, in a rule; notebooks only draw what these tables hold. The
curves are group-level step functions (time, survival, CI, numbers at risk, events and
censorings per time), as printed under any published Kaplan–Meier figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.survival.km import kaplan_meier, logrank_test, median_survival, number_at_risk, survival_at
from crlmflow.survival.pairwise import pairwise_logrank


def _groups(df: pd.DataFrame, group: str | None):
    if group is None:
        yield "all", df
        return
    for level, part in df.groupby(group, sort=True, dropna=True):
        yield str(level), part


def km_panel(
    df: pd.DataFrame, time: str, event: str, group: str | None, *, conf_type: str, at_times, horizons
) -> dict[str, pd.DataFrame]:
    """Curves, numbers at risk, rates at horizons, medians and the log-rank test of one panel
    (and, with more than two groups, the Holm-corrected pairwise log-rank tests)."""
    curves, risk, rates = [], [], []
    for level, part in _groups(df, group):
        t, e = part[time].to_numpy(float), part[event].to_numpy(float)
        km = kaplan_meier(t, e, conf_type=conf_type)
        c = km.to_frame()
        c.insert(0, "group", level)
        curves.append(c)
        risk.append(pd.DataFrame({"group": level, "time": at_times, "n_risk": number_at_risk(t, at_times)}))
        r = survival_at(km, horizons)
        r.insert(0, "group", level)
        for method in ("km", "spss"):
            med = median_survival(km, method=method)
            r[f"median_{method}"] = med.median
            r[f"median_{method}_lower"] = med.lower
            r[f"median_{method}_upper"] = med.upper
        r["n"] = km.n
        r["events"] = km.events
        rates.append(r)
    test = {"chisq": np.nan, "df": 0, "p": np.nan}
    if group is not None and df[group].nunique() > 1:
        lr = logrank_test(df[time].to_numpy(float), df[event].to_numpy(float), df[group].astype(str).to_numpy())
        test = {"chisq": lr.chisq, "df": lr.df, "p": lr.p}
    pairs = pd.DataFrame(columns=["group_1", "group_2", "chisq", "p", "p_holm"])
    if group is not None and df[group].nunique() > 2:
        pairs = pairwise_logrank(df[time], df[event], df[group].astype(str))
    return {
        "pairwise": pairs,
        "curves": pd.concat(curves, ignore_index=True),
        "at_risk": pd.concat(risk, ignore_index=True),
        "rates": pd.concat(rates, ignore_index=True),
        "test": test,
    }


def km_summaries(
    cohort: pd.DataFrame, endpoints: dict, panels: list[dict], *, conf_type: str, horizons, at_step: float = 12.0
) -> dict[str, pd.DataFrame]:
    """Every panel for every endpoint, stacked in long tables keyed by endpoint/panel/set."""
    out = {"curves": [], "at_risk": [], "rates": [], "tests": [], "pairwise": []}
    tmax = max(float(cohort[e["time"]].max()) for e in endpoints.values())
    at_times = np.arange(0.0, tmax + at_step, at_step)
    for ep, spec in endpoints.items():
        for panel in panels:
            sets = panel.get("sets", ["all"])
            for s in sets:
                part = cohort if s == "all" else cohort[cohort["set"] == s]
                if part.empty or (panel["group"] is not None and panel["group"] not in part):
                    continue
                res = km_panel(
                    part,
                    spec["time"],
                    spec["event"],
                    panel["group"],
                    conf_type=conf_type,
                    at_times=at_times,
                    horizons=horizons,
                )
                keys = {"endpoint": ep, "panel": panel["name"], "set": s}
                for name in ("curves", "at_risk", "rates", "pairwise"):
                    out[name].append(res[name].assign(**keys)[list(keys) + list(res[name].columns)])
                out["tests"].append(pd.DataFrame([{**keys, **res["test"]}]))
    return {k: pd.concat(v, ignore_index=True) for k, v in out.items()}
