"""Every published number, computed on one replicate cohort of the paper's size.

The expected 95% range of a published number (:mod:`crlmflow.simulation.expected`) is the
spread of that number across cohorts drawn from the calibrated truth and analysed by the
configured procedure. This module computes, for one replicate, *the same* number the paper
comparison computes on the run's own cohort: it runs the workflow's own functions (clean,
derive indices, seeded split, Kaplan-Meier summaries, univariable screening and stepwise
Cox, Harrell's C and the KM time-dependent AUC, the nomogram's total points, the maximally
selected log-rank cut-off) and hands their results to
:func:`crlmflow.report.exhibits.paper_comparison`, whose ``ours`` column is then keyed
exactly as the comparison's rows. One implementation of every lookup, so a range and the
row it belongs to cannot drift apart.

Left out, because no published number needs them and they dominate the cost: the
bootstrap (optimism, C's bootstrap CI, calibration), the cut-off's permutation p, and the
decision curves.

Replicate ``r`` is the simulation study's replicate ``r`` (same named-stream seeds,
:func:`crlmflow.simulation.study.replicate_seeds`): the same cohort and split.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crlmflow.data.cohort import assign_sets
from crlmflow.model.modelfile import selected_predictors
from crlmflow.model.modelling import develop_model, fit_summary, predict
from crlmflow.model.nomogram import nomogram_points, total_points
from crlmflow.model.riskgroups import risk_groups
from crlmflow.report.exhibits import default_table1_rows, paper_comparison, table1_long
from crlmflow.simulation.study import replicate_seeds, selection_kwargs, simulate_analysis_cohort
from crlmflow.survival.summaries import km_summaries
from crlmflow.validation import concordance_index, time_dependent_roc
from crlmflow.validation.performance import horizon_support

__all__ = ["replicate_results", "run_paper_replicate", "SELECTION_PREFIX", "VALUE_COLUMNS"]

#: key prefix of a replicate's selection indicators (``selection.<endpoint>.<variable>``)
SELECTION_PREFIX = "selection"
#: columns of a replicate's table
VALUE_COLUMNS = ["rep", "key", "value"]

_Z95 = 1.959963984540054


def _performance(part: pd.DataFrame, time: str, event: str, horizons) -> list[dict]:
    """Harrell's C with its infinitesimal-jackknife CI and the survivalROC-KM AUC at each
    horizon, as :func:`crlmflow.validation.performance.evaluate_set` reports them, except
    that an AUC is computed whenever the horizon has a case and a control: the range is
    that of the number as the paper computed it, without the run's
    ``validation.min_events_at_horizon`` rule (which may leave this run's own AUC at 1
    year not estimable)."""
    t, e, lp = part[time].to_numpy(float), part[event].to_numpy(float), part["lp"].to_numpy(float)
    c = concordance_index(t, e, lp)
    rows = [
        dict(
            measure="c_index",
            horizon=np.nan,
            estimate=c.c_index,
            lower=c.c_index - _Z95 * c.std_err,
            upper=c.c_index + _Z95 * c.std_err,
        )
    ]
    for h in horizons:
        cases, controls = horizon_support(t, e, h)
        auc = time_dependent_roc(t, e, lp, h, method="KM").auc if cases and controls else np.nan
        rows.append(dict(measure="auc_km", horizon=h, estimate=auc, lower=np.nan, upper=np.nan))
    return rows


def _endpoint_results(cohort: pd.DataFrame, ep: str, spec: Mapping[str, str], config: Mapping[str, Any]):
    """Cox tables, performance by set, the cut-off and the risk groups of one endpoint."""
    horizons = config["horizons"]
    train = cohort[cohort["set"] == "train"]
    model = develop_model(train, config["candidates"], ep, spec["time"], spec["event"], **selection_kwargs(config))
    data = pd.concat([cohort, predict(model, cohort, horizons)], axis=1)
    perf = []
    for s in ("train", "validation"):
        part = data[data["set"] == s]
        if len(part):
            perf += [dict(set=s, **r) for r in _performance(part, spec["time"], spec["event"], horizons)]
    cut, groups = None, None
    if model.selected:
        # the nomogram's points scale only (its survival axes are not needed, and a
        # replicate without an event before the first horizon has none)
        fit = fit_summary(model, horizons)
        coefs = dict(zip(fit["terms"], fit["coef"]))
        preds = selected_predictors(fit, config["candidates"])
        nomo = nomogram_points(coefs, preds, train)
        pts = cohort[["patient_id", "set", spec["time"], spec["event"]]].copy()
        pts["total_points"] = total_points(coefs, preds, cohort, nomogram=nomo)
        minprop = float((config.get("validation") or {}).get("cutpoint_minprop", 0.1))
        try:
            result, groups, _ = risk_groups(pts, spec["time"], spec["event"], minprop=minprop, n_perm=0)
        except ValueError as exc:  # e.g. too few distinct scores: this replicate has no cut-off
            warnings.warn(f"{ep}: no risk cut-off in this replicate ({exc})", stacklevel=2)
        else:
            cut = pd.DataFrame({"total_points": [result["total_points"]]})
            groups = groups[["patient_id", "risk_group"]]
    return model, pd.DataFrame(perf), cut, groups


def replicate_results(cohort: pd.DataFrame, config: Mapping[str, Any]) -> tuple[dict, dict]:
    """The results :func:`crlmflow.report.exhibits.paper_comparison` reads, computed on a
    split analysis cohort, and the selected variables per endpoint.

    ``config``: ``endpoints``, ``candidates``, ``exclude_from_multivariable``,
    ``selection``, ``horizons``, ``km`` (``conf_type``, ``group``) and ``validation``
    (``cutpoint_minprop``).
    """
    endpoints, cands = config["endpoints"], config["candidates"]
    sets = ["train", "validation"]
    results: dict[str, Any] = {
        "cohort": cohort,
        "labels": {c["name"]: c.get("label", c["name"]) for c in cands},
        "table1": table1_long(cohort, default_table1_rows(cands, endpoints), sets),
    }
    km = config.get("km") or {}
    rates, tests, selected = [], [], {}
    for ep, spec in endpoints.items():
        model, perf, cut, groups = _endpoint_results(cohort, ep, spec, config)
        selected[ep] = list(model.selected)
        results[f"univariable_{ep}"] = model.univariable
        results[f"multivariable_{ep}"] = model.multivariable
        results[f"performance_{ep}"] = perf
        if cut is not None:
            results[f"cutpoint_{ep}"] = cut
        panels = [{"name": "overall", "group": None, "sets": ["all", *sets]}]
        data = cohort
        if groups is not None:
            data = cohort.merge(groups.rename(columns={"risk_group": "_risk_group"}), on="patient_id", how="left")
            panels.append({"name": "risk_group", "group": "_risk_group", "sets": sets})
        if km.get("group"):
            panels.append({"name": km["group"], "group": km["group"], "sets": ["all"]})
        if "kras" in data and data["kras"].notna().any():
            panels.append({"name": "kras", "group": "kras", "sets": ["all"]})
        res = km_summaries(
            data, {ep: spec}, panels, conf_type=km.get("conf_type", "log-log"), horizons=config["horizons"]
        )
        rates.append(res["rates"])
        tests.append(res["tests"])
    results["km_rates"] = pd.concat(rates, ignore_index=True)
    results["km_tests"] = pd.concat(tests, ignore_index=True)
    first_event = {ep: spec["event"] for ep, spec in endpoints.items()}
    results["counts"] = pd.DataFrame(
        {
            "quantity": ["n_total", "n_train", "n_validation", "deaths", "recurrences"],
            "value": [
                len(cohort),
                int((cohort["set"] == "train").sum()),
                int((cohort["set"] == "validation").sum()),
                int(cohort[first_event["os"]].sum()) if "os" in first_event else None,
                int(cohort[first_event["rfs"]].sum()) if "rfs" in first_event else None,
            ],
        }
    )
    return results, selected


def run_paper_replicate(config: Mapping[str, Any], targets: Mapping[str, Any], rep: int, seed: int) -> pd.DataFrame:
    """Replicate ``rep``: simulate a cohort of ``simulation_study.n_eligible`` eligible
    patients, analyse it as the run does and return every published number's value.

    Returns a long table (:data:`VALUE_COLUMNS`): one row per key of the paper comparison
    (``value`` = what the comparison's ``ours`` would be; NaN when the replicate has none,
    e.g. a Table 2 HR of a term it did not select) and one row per endpoint and candidate
    variable keyed ``selection.<endpoint>.<variable>`` (1 selected, 0 not). Rows in the
    comparison's order, then by endpoint and candidate order.
    """
    seeds = replicate_seeds(seed, rep)
    cohort, _ = simulate_analysis_cohort(config["simulation_study"]["n_eligible"], seeds["simulate"], config)
    split = {
        "method": "random",
        "train_fraction": config["split"]["train_fraction"],
        "stratify": config["split"].get("stratify"),
    }
    cohort, _ = assign_sets({"development": cohort}, split, seed=seeds["split"])
    cohort = cohort.reset_index(drop=True)
    results, selected = replicate_results(cohort, config)
    comp = paper_comparison(targets, results)
    comp = comp[comp["key"] != ""].drop_duplicates("key")
    values = pd.to_numeric(comp["ours"], errors="coerce")
    rows = pd.DataFrame({"rep": int(rep), "key": comp["key"].to_numpy(), "value": values.to_numpy(float)})
    sel_rows = [
        {"rep": int(rep), "key": f"{SELECTION_PREFIX}.{ep}.{c['name']}", "value": float(c["name"] in chosen)}
        for ep, chosen in selected.items()
        for c in config["candidates"]
    ]
    return pd.concat([rows, pd.DataFrame(sel_rows, columns=VALUE_COLUMNS)], ignore_index=True)
