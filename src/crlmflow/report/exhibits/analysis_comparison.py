"""Two analyses of the same patients side by side: a reference analysis (the paper's:
random split, development on the training part, validation on the held-out part) and this
run's (the recommended one: development on all patients, Harrell's selection-aware
bootstrap optimism correction; Steyerberg, *Clinical Prediction Models*, 2nd ed., ch. 17).

:func:`analysis_comparison` builds one row per endpoint and quantity — outcome
definition, candidate coding, development data, events per candidate parameter, selected
terms, validation design, Harrell's C and the calibration slope — with the numbers in
their own columns for the CSV. When this run offers splines it adds what they change (each
spline predictor of the final model with the Wald p of its non-linear part, rms ``anova``),
and with ``alternative_models`` what shrinkage changes: the uniform shrinkage factor, the
shrunk model's C (the stepwise model's: uniform shrinkage keeps the ranking) and its
expected calibration slope beside the paper model's, and each further alternative's
apparent C and slope. Only reshapes results the rules computed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crlmflow.report.formats import APPARENT, MODEL_LABELS, NOT_AVAILABLE, format_ci, format_number, format_p

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


def _nonlinear_row(anova: pd.DataFrame | None, candidates: list[dict], fit: Mapping) -> tuple | None:
    """'Non-linear terms' row, only when this run offers splines: each spline predictor of the
    final model with the Wald p of its non-linear part; value the TOTAL NONLINEAR p (the one
    spline's p when there is one)."""
    offered = [c for c in candidates if c.get("spline_knots")]
    if not offered:
        return None
    knots = "/".join(str(k) for k in sorted({int(c["spline_knots"]) for c in offered}))
    # the fit's knots: a candidate with too few distinct values was kept linear
    placed = fit.get("knots")
    n = len(placed) if placed is not None else len(offered)
    text = f"restricted cubic splines ({knots} knots) offered to {n} continuous candidates"
    value = np.nan
    if anova is None or anova.empty:
        text += "; anova not available"
    elif not (anova["part"] == "nonlinear").any():
        text += "; no spline in the final model"
    else:
        labels = {c["name"]: c.get("label", c["name"]) for c in candidates}
        nl = anova[anova["part"] == "nonlinear"]
        parts = [f"{labels.get(r.predictor, r.predictor)} non-linear P {format_p(r.p)}" for r in nl.itertuples()]
        total = anova.loc[anova["part"] == "total_nonlinear", "p"]
        value = float(total.iloc[0]) if len(total) else float(nl["p"].iloc[0])
        text += "; final model: " + "; ".join(parts) + " (Wald, rms anova; descriptive after selection)"
    return ("Non-linear terms", "every continuous predictor linear (assumed, not examined)", text, np.nan, value)


def _apparent(perf: pd.DataFrame | None, model: str, measure: str) -> float:
    """A model's apparent (training-set) ``measure`` from ``alternatives_performance.csv``."""
    if perf is None or perf.empty:
        return np.nan
    row = perf[(perf["model"] == model) & (perf["set"] == "train") & (perf["measure"] == measure)]
    return float(row["estimate"].iloc[0]) if len(row) and pd.notna(row["estimate"].iloc[0]) else np.nan


def _shrinkage_rows(ref, optimism, perf, models) -> list[tuple]:
    """Rows of the shrunk stepwise model and the other alternatives (``alternative_models``)."""
    if models is None or models.empty:
        return []
    rows = []
    _, c_corr = _corrected(optimism, "c_index")
    _, s_corr = _corrected(optimism, "slope")
    ref_c = f"{format_ci(ref['c_index'], ref['c_lower'], ref['c_upper'], 3)} (paper's model, unshrunk; validation set)"
    ref_s = f"{format_ci(ref['slope'], ref['slope_lower'], ref['slope_upper'], 2)} (paper's model, unshrunk; validation set)"
    shrunk = models[models["model"] == "shrunk_stepwise"]
    if len(shrunk):
        s = float(shrunk["shrinkage"].iloc[0])
        source = str(shrunk["shrinkage_source"].iloc[0]) if "shrinkage_source" in shrunk else ""
        rows.append(
            (
                "Uniform shrinkage factor",
                "none: coefficients used as estimated",
                f"{format_number(s, 2)} ({source}): stepwise coefficients times the factor, baseline re-estimated",
                np.nan,
                s,
            )
        )
        c_text = (
            f"{format_number(c_corr, 3)} optimism-corrected, the stepwise model's (uniform shrinkage keeps the ranking)"
            if np.isfinite(c_corr)
            else NOT_AVAILABLE
        )
        rows.append(("Shrunk model: Harrell's C", ref_c, c_text, ref["c_index"], c_corr))
        expected = s_corr / s if np.isfinite(s_corr) else np.nan
        s_text = (
            f"{format_number(expected, 2)} expected (the factor is the optimism-corrected slope "
            f"{format_number(s_corr, 2)}; {APPARENT} {format_number(_apparent(perf, 'shrunk_stepwise', 'calibration_slope'), 2)}); "
            "not validated independently (that needs a second bootstrap level)"
            if np.isfinite(expected)
            else f"{NOT_AVAILABLE} (no bootstrap: heuristic factor)"
        )
        rows.append(("Shrunk model: calibration slope", ref_s, s_text, ref["slope"], expected))
    for m in [m for m in MODEL_LABELS if m not in ("paper", "shrunk_stepwise") and m in set(models["model"])]:
        c, slope = _apparent(perf, m, "c_index"), _apparent(perf, m, "calibration_slope")
        text = (
            f"C {format_number(c, 3)}, calibration slope {format_number(slope, 2)}: {APPARENT} "
            "(on the development data, not optimism-corrected)"
        )
        rows.append((f"{MODEL_LABELS[m]}, {APPARENT} C", "not fitted", text, np.nan, c))
    return rows


def _endpoint_rows(name, label, ref, fit, optimism, *, ref_study, run_study, B, extra=()) -> list[dict]:
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
        *extra,
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
    anova: Mapping[str, pd.DataFrame | None] | None = None,
    alternatives: Mapping[str, pd.DataFrame | None] | None = None,
    alternative_models: Mapping[str, pd.DataFrame | None] | None = None,
) -> pd.DataFrame:
    """The side-by-side table, endpoints in the order of ``reference``.

    ``reference``: per endpoint, the result of
    :func:`crlmflow.validation.split_sample.split_sample_validation` (with
    ``death_censors_rfs`` and ``train_fraction``); ``fits``: this run's ``fit.json`` per
    endpoint; ``optimism``: its ``optimism.csv`` (None when the bootstrap did not run);
    ``ref_study``/``run_study``: ``candidates``, ``exclude`` and ``death_censors_rfs`` of each;
    ``anova``: this run's ``anova.csv`` per endpoint (the non-linear row, when its candidates
    carry ``spline_knots``); ``alternatives``/``alternative_models``: its
    ``alternatives_performance.csv`` and ``alternatives/models.csv`` (the shrinkage rows,
    with ``alternative_models.methods``).
    """
    anova, alternatives, alternative_models = anova or {}, alternatives or {}, alternative_models or {}
    rows = []
    for ep, ref in reference.items():
        nonlinear = _nonlinear_row(anova.get(ep), list(run_study["candidates"]), fits[ep])
        extra = ([nonlinear] if nonlinear else []) + _shrinkage_rows(
            ref, optimism.get(ep), alternatives.get(ep), alternative_models.get(ep)
        )
        rows += _endpoint_rows(
            ep,
            labels.get(ep, ep),
            ref,
            fits[ep],
            optimism.get(ep),
            ref_study=ref_study,
            run_study=run_study,
            B=bootstrap_B,
            extra=extra,
        )
    return pd.DataFrame(rows, columns=COLUMNS)
