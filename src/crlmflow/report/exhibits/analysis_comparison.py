"""Two analyses of the same patients side by side: a reference analysis (the paper's:
random split, development on the training part, validation on the held-out part) and this
run's (the recommended one: development on all patients, Harrell's selection-aware
bootstrap optimism correction; Steyerberg, *Clinical Prediction Models*, 2nd ed., ch. 17).

:func:`analysis_comparison` builds one row per endpoint and quantity — outcome
definition, candidate coding, development data, events per candidate parameter, selected
terms, validation design, Harrell's C and the calibration slope — with the numbers in
their own columns for the CSV. Only reshapes results the rules computed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crlmflow.report.formats import NOT_AVAILABLE, format_ci, format_number

COLUMNS = ["endpoint", "quantity", "reference", "this_run", "reference_value", "this_run_value"]


def _outcome(event: str, death_censors_rfs: bool) -> str:
    if event != "rfs_event":
        return f"event column {event}"
    return (
        "recurrence; death without recurrence censored"
        if death_censors_rfs
        else "recurrence or death (composite; death is an event)"
    )


def _coding(candidates: list[dict], exclude, fit: Mapping) -> str:
    factors = [
        f"{c.get('label', c['name'])} ({len(c.get('levels') or [])} levels, joint test)"
        for c in candidates
        if c.get("type") == "factor"
    ]
    text = f"{len(candidates)} candidates, {fit.get('candidate_parameters')} parameters"
    if factors:
        text += "; factors: " + ", ".join(factors)
    labels = {c["name"]: c.get("label", c["name"]) for c in candidates}
    if exclude:
        text += "; kept out of selection: " + ", ".join(labels.get(x, x) for x in exclude)
    return text


def _development(study: Mapping, n: int, events: int) -> str:
    s = study.get("landmark")
    who = "all patients" if s is None else f"all patients event-free and followed at the {s:g}-month landmark"
    return f"{who}, n = {n}, {events} events" + ("" if s is None else " after it (time from the landmark)")


def _selected(fit: Mapping, candidates: list[dict]) -> str:
    labels = {c["name"]: c.get("label", c["name"]) for c in candidates}
    return "; ".join(labels.get(s, s) for s in fit.get("selected") or []) or "none"


def _corrected(optimism: pd.DataFrame | None, measure: str) -> tuple[float, float]:
    """(apparent, optimism-corrected) of ``measure``, NaN when not computed."""
    if optimism is None or optimism.empty or measure not in set(optimism["measure"]):
        return np.nan, np.nan
    row = optimism.loc[optimism["measure"] == measure].iloc[0]
    return float(row["apparent"]), float(row["corrected"])


def _endpoint_rows(name, label, ref, fit, optimism, *, ref_study, run_study, B) -> list[dict]:
    ref_fit = ref["fit"]
    n_all = int(fit["n"])
    c_app, c_corr = _corrected(optimism, "c_index")
    _, s_corr = _corrected(optimism, "slope")
    boot = f"bootstrap optimism correction, B = {B}, screening and selection repeated" if B else "not computed"
    rows = [
        (
            "Outcome",
            _outcome(
                ref_fit["event"] if ref_fit["event"] != "reference_event" else "rfs_event", ref["death_censors_rfs"]
            ),
            _outcome(fit["event"], run_study["death_censors_rfs"]),
            np.nan,
            np.nan,
        ),
        (
            "Candidate coding",
            _coding(ref_study["candidates"], ref_study["exclude"], ref_fit),
            _coding(run_study["candidates"], run_study["exclude"], fit),
            np.nan,
            np.nan,
        ),
        (
            "Development data",
            f"training set ({ref['train_fraction']:.0%}), n = {ref_fit['n']}, {ref_fit['events']} events",
            _development(run_study, n_all, fit["events"]),
            float(ref_fit["n"]),
            float(n_all),
        ),
        (
            "Events per candidate parameter",
            format_number(ref_fit.get("events_per_candidate_parameter"), 1),
            format_number(fit.get("events_per_candidate_parameter"), 1),
            ref_fit.get("events_per_candidate_parameter"),
            fit.get("events_per_candidate_parameter"),
        ),
        (
            "Selected terms",
            _selected(ref_fit, ref_study["candidates"]),
            _selected(fit, run_study["candidates"]),
            float(len(ref_fit.get("selected") or [])),
            float(len(fit.get("selected") or [])),
        ),
        (
            "Validation",
            f"held-out validation set, n = {ref['n_validation']}, {ref['events_validation']} events",
            boot,
            np.nan,
            np.nan,
        ),
        (
            "Harrell's C",
            f"{format_ci(ref['c_index'], ref['c_lower'], ref['c_upper'], 3)} (validation set)",
            (
                f"{format_number(c_corr, 3)} optimism-corrected (apparent {format_number(c_app, 3)})"
                if np.isfinite(c_corr)
                else NOT_AVAILABLE
            ),
            ref["c_index"],
            c_corr,
        ),
        (
            "Calibration slope",
            f"{format_ci(ref['slope'], ref['slope_lower'], ref['slope_upper'], 2)} (validation set)",
            f"{format_number(s_corr, 2)} optimism-corrected" if np.isfinite(s_corr) else NOT_AVAILABLE,
            ref["slope"],
            s_corr,
        ),
    ]
    return [dict(zip(COLUMNS, (label, *r))) for r in rows]


def analysis_comparison(
    reference: Mapping[str, dict],
    fits: Mapping[str, dict],
    optimism: Mapping[str, pd.DataFrame | None],
    *,
    labels: Mapping[str, str],
    ref_study: Mapping,
    run_study: Mapping,
    bootstrap_B: int,
) -> pd.DataFrame:
    """The side-by-side table, endpoints in the order of ``reference``.

    ``reference``: per endpoint, the result of
    :func:`crlmflow.validation.split_sample.split_sample_validation` (with
    ``death_censors_rfs`` and ``train_fraction``); ``fits``: this run's ``fit.json`` per
    endpoint; ``optimism``: its ``optimism.csv`` (None when the bootstrap did not run);
    ``ref_study``/``run_study``: ``candidates``, ``exclude`` and ``death_censors_rfs`` of each.
    """
    rows = []
    for ep, ref in reference.items():
        rows += _endpoint_rows(
            ep,
            labels.get(ep, ep),
            ref,
            fits[ep],
            optimism.get(ep),
            ref_study=ref_study,
            run_study=run_study,
            B=bootstrap_B,
        )
    return pd.DataFrame(rows, columns=COLUMNS)
