"""The portable model file (TRIPOD 15a/16) and scoring of new patients with it alone.

``model.json`` holds what a reader needs to apply the model: coefficients and centring,
the baseline survival at the horizons and the full baseline cumulative hazard, the
nomogram's points tables, each predictor's name, label, unit, training range and levels,
the high/low risk cut-off in total points, and hashes of the training data and config.
It holds no patient-level data.

Scoring (``score_patients``) reproduces the pipeline's own predictions: total points =
Σ_p sc·(xβ_p − min xβ_p); centred lp = lp_at_zero_points + total/sc; survival at h =
S0(h)^exp(lp) with S0 at the training means (Efron-type baseline); risk group = high when
total points exceed the stored threshold (``risk_cutoff.threshold``: midway between the maxstat
cut-off and the next training score, see ``crlmflow.model.cutpoint.decision_threshold``).
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from crlmflow.data.errors import InputError, Problem
from crlmflow.data.io import to_plain
from crlmflow.model.nomogram import NomogramResult, SurvivalAxis, nomogram_points, survival_axes
from crlmflow.report.formats import horizon_key
from crlmflow.survival.design import with_knots
from crlmflow.survival.prediction_ci import CONF_TYPES, survival_confint
from crlmflow.survival.splines import rcs_basis, rcs_names

MODEL_FORMAT = "crlmflow-cox-model/1"
#: confidence limits of predicted survival: R survfit's default conf.type and level
SURVIVAL_CONF_TYPE = "log"
SURVIVAL_CONF_LEVEL = 0.95


def sha256_frame(df: pd.DataFrame) -> str:
    """Hash of a data frame's CSV form (column order and values)."""
    return hashlib.sha256(df.to_csv(index=False, float_format="%.12g").encode()).hexdigest()


def selected_predictors(fit: dict, candidates: list[dict]) -> list[dict]:
    """Candidate specs of the selected terms, in selection order (a spline with the fit's knots)."""
    by_name = {c["name"]: c for c in with_knots(candidates, fit.get("knots"))}
    return [dict(by_name[v]) for v in fit["selected"]]


def build_nomogram(
    fit: dict, candidates: list[dict], train: pd.DataFrame, horizons
) -> tuple[NomogramResult, dict[float, SurvivalAxis]]:
    """rms-style points scale and survival axes of a fitted model (see ``fit_summary``)."""
    preds = selected_predictors(fit, candidates)
    coefs = dict(zip(fit["terms"], fit["coef"]))
    nomo = nomogram_points(coefs, preds, train)
    s0 = {float(h): fit["baseline_survival_at_means"][horizon_key(h)] for h in horizons}
    return nomo, survival_axes(nomo, s0)


def nomogram_json(nomo: NomogramResult, axes: dict[float, SurvivalAxis]) -> dict:
    return {
        "points_per_unit_lp": nomo.points_per_unit_lp,
        "lp_at_zero_points": nomo.lp_at_zero_points,
        "center": nomo.center,
        "maxscale": nomo.maxscale,
        "total_points_axis": np.asarray(nomo.total_points_axis).tolist(),
        "lp_axis": {"lp": np.asarray(nomo.lp_axis_lp).tolist(), "points": np.asarray(nomo.lp_axis_points).tolist()},
        "predictors": [
            {
                "name": ax.name,
                "label": ax.label,
                "type": ax.type,
                "unit": ax.unit,
                "values": to_plain(ax.values),
                "xbeta": np.asarray(ax.xbeta).tolist(),
                "points": np.asarray(ax.points).tolist(),
                "min_xbeta": ax.min_xbeta,
            }
            for ax in nomo.predictors.values()
        ],
        "survival_axes": {
            horizon_key(h): {
                "surv": ax.surv.tolist(),
                "total_points": ax.total_points.tolist(),
                "lp": ax.lp.tolist(),
                "baseline_surv": ax.baseline_surv,
            }
            | ({"note": ax.note} if ax.note else {})
            for h, ax in axes.items()
        },
    }


def build_model_file(
    *,
    endpoint: str,
    endpoint_label: str,
    fit: dict,
    nomogram: dict,
    cutpoint: dict | None,
    candidates: list[dict],
    train: pd.DataFrame,
    horizons,
    data_sha256: str,
    config_sha256: str,
    synthetic: bool,
    commit: str | None = None,
    conf_type: str = SURVIVAL_CONF_TYPE,
) -> dict:
    """Assemble ``model.json`` from the fit summary, the nomogram and the cut-off;
    ``conf_type`` ("log" or "log-log", config ``prediction.conf_type``) is the scale of the
    confidence limits of predicted survival that ``score`` and the calculator give."""
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")
    preds = selected_predictors(fit, candidates)
    axis_values = {ax["name"]: ax["values"] for ax in (nomogram or {}).get("predictors", [])}
    variables = []
    for p in preds:
        col = train[p["name"]]
        entry = {"name": p["name"], "label": p.get("label", p["name"]), "unit": p.get("unit", ""), "type": p["type"]}
        if p["type"] == "factor":
            entry["levels"] = list(p["levels"])
            entry["ref"] = p["ref"]
        elif p["type"] == "binary":
            entry["levels"] = [0, 1]
        else:
            entry["range"] = [float(col.min()), float(col.max())]
            if p.get("allowed"):
                entry["allowed"] = [float(a) for a in p["allowed"]]
            if p.get("knots"):  # restricted cubic spline: score needs its knots
                entry["knots"] = [float(k) for k in p["knots"]]
            ticks = axis_values.get(p["name"])
            if ticks:  # the drawn axis (config nomogram_axis): a value beyond it is read off an extension
                entry["axis"] = [float(min(ticks)), float(max(ticks))]
        variables.append(entry)
    return {
        "format": MODEL_FORMAT,
        "endpoint": endpoint,
        "endpoint_label": endpoint_label,
        "model": "Cox proportional hazards, Efron ties; survival from the Efron-type baseline",
        "synthetic_data": bool(synthetic),
        "terms": fit.get("terms", []),
        "coefficients": dict(zip(fit.get("terms", []), fit.get("coef", []))),
        "hazard_ratios": {t: math.exp(b) for t, b in zip(fit.get("terms", []), fit.get("coef", []))},
        "means": dict(zip(fit.get("terms", []), fit.get("means", []))),
        "center_lp": fit.get("center_lp", 0.0),
        "variables": variables,
        "horizons": list(horizons),
        "baseline_survival_at_means": fit["baseline_survival_at_means"],
        "baseline_cumhaz": fit["baseline_cumhaz"],
        # confidence limits of predicted survival (crlmflow.survival.prediction_ci): aggregates only
        "coefficient_covariance": fit.get("var"),
        "prediction_variance": fit.get("prediction_variance"),
        "survival_conf": {"type": conf_type, "level": SURVIVAL_CONF_LEVEL},
        "nomogram": nomogram,
        "risk_cutoff": cutpoint,
        "n_train": int(fit["n"]),
        "events_train": int(fit["events"]),
        "training_data_sha256": data_sha256,
        "config_sha256": config_sha256,
        "commit": commit,
    }


def load_model(path) -> dict:
    with open(path, encoding="utf-8") as fh:
        model = json.load(fh)
    if model.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path}: not a {MODEL_FORMAT} model file")
    return model


def _parse_inputs(model: dict, df: pd.DataFrame, source: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """Typed predictor columns; every missing/invalid cell is one Problem (row = file line)."""
    problems, warns, values = [], [], {}
    rows = np.arange(len(df)) + 2  # header is line 1
    ids = df["patient_id"].astype(str).to_numpy() if "patient_id" in df else None
    for var in model["variables"]:
        name = var["name"]
        if name not in df.columns:
            problems.append(Problem(source, None, name, None, f"column '{name}' is required by the model"))
            continue
        raw = df[name]
        if var["type"] == "factor":
            text = raw.astype("string")
            bad = text.isna() | ~text.isin([str(v) for v in var["levels"]])
            for i in np.flatnonzero(bad.to_numpy()):
                problems.append(_problem(source, rows[i], name, raw.iloc[i], f"one of {var['levels']}", ids, i))
            values[name] = text.to_numpy()
            continue
        num = pd.to_numeric(raw, errors="coerce")
        bad = num.isna().to_numpy()
        expected = "a number"
        if var["type"] == "binary":
            bad |= ~num.isin([0, 1]).to_numpy()
            expected = "0 or 1"
        elif var.get("allowed"):  # a score (CRS 0-5): 7 or 2.5 is impossible, not an extrapolation
            bad |= ~num.isin(var["allowed"]).to_numpy()
            expected = "one of " + ", ".join(f"{a:g}" for a in var["allowed"])
        for i in np.flatnonzero(bad):
            problems.append(_problem(source, rows[i], name, raw.iloc[i], expected, ids, i))
        values[name] = num.to_numpy(float)
        if var["type"] == "numeric" and "range" in var:
            lo, hi = var["range"]
            outside = (~bad) & ((values[name] < lo) | (values[name] > hi))
            for i in np.flatnonzero(outside):
                warns.append(
                    f"{source}, line {rows[i]}, column '{name}': {values[name][i]:g} is outside the "
                    f"training range [{lo:g}, {hi:g}]; the prediction is an extrapolation"
                )
            if "axis" in var:
                a, b = var["axis"]
                beyond = (~bad) & ~outside & ((values[name] < a) | (values[name] > b))
                for i in np.flatnonzero(beyond):
                    warns.append(
                        f"{source}, line {rows[i]}, column '{name}': {values[name][i]:g} is beyond the "
                        f"nomogram axis [{a:g}, {b:g}]; its points extend the axis (an extrapolation on the chart)"
                    )
    if problems:
        raise InputError(problems)
    return values, warns


def _problem(source, row, column, found, expected, ids, i) -> Problem:
    patient = None if ids is None else ids[i]
    if pd.isna(found) or str(found).strip() == "":
        return Problem(source, int(row), column, None, f"the value is missing; expected {expected}", patient)
    return Problem(source, int(row), column, str(found), expected, patient)


def score_patients(model: dict, df: pd.DataFrame, source: str = "input") -> pd.DataFrame:
    """Points per predictor, total points, lp, survival at each horizon and risk group."""
    values, warns = _parse_inputs(model, df, source)
    for w in warns:
        warnings.warn(w, stacklevel=2)
    nomo = model["nomogram"]
    sc = nomo["points_per_unit_lp"] if nomo else None
    out = pd.DataFrame(index=df.index)
    if "patient_id" in df:
        out["patient_id"] = df["patient_id"].astype(str).to_numpy()
    total = np.zeros(len(df))
    xb_sum = np.zeros(len(df))
    design: dict[str, np.ndarray] = {}  # model term -> its column for these patients
    for var, ax in zip(model["variables"], (nomo or {}).get("predictors", [])):
        name = var["name"]
        if var["type"] == "factor":
            coef = [0.0 if str(lv) == str(var["ref"]) else model["coefficients"][f"{name}{lv}"] for lv in var["levels"]]
            lookup = dict(zip(map(str, var["levels"]), coef))
            xb = np.array([lookup[str(v)] for v in values[name]])
            for lv in var["levels"]:
                if str(lv) != str(var["ref"]):
                    design[f"{name}{lv}"] = (values[name].astype(str) == str(lv)).astype(float)
        elif var.get("knots"):  # rcs: Σ_j β_j C_j(x) on the training knots
            beta_s = np.array([model["coefficients"][t] for t in rcs_names(name, len(var["knots"]))])
            basis = rcs_basis(values[name], var["knots"])
            xb = basis @ beta_s
            design.update(zip(rcs_names(name, len(var["knots"])), basis.T))
        else:
            xb = model["coefficients"][name] * values[name]
            design[name] = values[name]
        pts = sc * (xb - ax["min_xbeta"])
        out[f"points_{name}"] = pts
        total += pts
        xb_sum += xb
    out["total_points"] = total
    lp = xb_sum - model["center_lp"]
    out["lp"] = lp
    for h in model["horizons"]:
        s0 = model["baseline_survival_at_means"][horizon_key(h)]
        out[f"surv_{horizon_key(h)}"] = np.power(s0, np.exp(lp))
    _add_survival_limits(model, design, out)
    threshold = risk_threshold(model)
    if threshold is not None:
        out["risk_group"] = np.where(total > threshold, "high", "low")
    return out


def _add_survival_limits(model: dict, design: dict[str, np.ndarray], out: pd.DataFrame) -> None:
    """``surv_lower_<h>`` / ``surv_upper_<h>``: R survfit's limits (``survival_conf`` of the file);
    nothing for a model file written before they were stored."""
    pv, V = model.get("prediction_variance"), model.get("coefficient_covariance")
    if not pv or V is None or len(out) == 0:
        return
    conf = model.get("survival_conf") or {}
    X = np.column_stack([design[t] for t in model["terms"]]) - np.asarray(pv["center"], dtype=float)
    coef = [model["coefficients"][t] for t in model["terms"]]
    ci = survival_confint(
        X, coef, V, pv, model["horizons"], conf.get("type", SURVIVAL_CONF_TYPE), conf.get("level", SURVIVAL_CONF_LEVEL)
    )
    for j, h in enumerate(model["horizons"]):
        out[f"surv_lower_{horizon_key(h)}"] = ci["lower"][:, j]
        out[f"surv_upper_{horizon_key(h)}"] = ci["upper"][:, j]


def risk_threshold(model: dict) -> float | None:
    """The boundary in total points above which a patient is high risk.

    Model files written before the threshold was stored (format of ``risk_cutoff`` with only
    ``total_points``) fall back to the cut-off itself.
    """
    cut = model.get("risk_cutoff") or {}
    value = cut.get("threshold", cut.get("total_points"))
    return None if value is None else float(value)


def input_template(model: dict) -> pd.DataFrame:
    """The input CSV ``score`` needs for this model: ``patient_id`` and one column per
    predictor, with one example row (a value each column accepts: the middle of the
    training range, the allowed value nearest it, 0 for binary, the reference level)."""
    row: dict[str, object] = {"patient_id": "example-1"}
    for var in model["variables"]:
        if var["type"] == "factor":
            row[var["name"]] = var["ref"]
        elif var["type"] == "binary":
            row[var["name"]] = 0
        else:
            lo, hi = var["range"]
            mid = (lo + hi) / 2
            if var.get("allowed"):
                mid = min(var["allowed"], key=lambda a: abs(a - mid))
            row[var["name"]] = float(f"{mid:.3g}")
    return pd.DataFrame([row])


#: decimals of each output column of ``score``: more would suggest a precision the model lacks
_SCORE_DECIMALS = {"points_": 1, "total_points": 1, "lp": 4, "surv_": 4}


def round_scores(scored: pd.DataFrame) -> pd.DataFrame:
    """Scores rounded for a reader: points to 0.1, lp and survival probabilities to 1e-4."""
    out = scored.copy()
    for col in out.columns:
        for prefix, d in _SCORE_DECIMALS.items():
            if col == prefix or (prefix.endswith("_") and col.startswith(prefix)):
                out[col] = out[col].round(d)
                break
    return out


def score_file(model_path, input_path, output_path) -> pd.DataFrame:
    """Command-line scoring: read a CSV of new patients, write their scores (rounded,
    ``round_scores``); returns the unrounded scores."""
    from crlmflow.data.io import atomic_write_csv
    from crlmflow.data.reading import read_table

    model = load_model(model_path)
    df = read_table(input_path)
    scored = score_patients(model, df, source=Path(input_path).name)
    atomic_write_csv(round_scores(scored), output_path)
    return scored
