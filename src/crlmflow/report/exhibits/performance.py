"""Beyond the paper: bootstrap selection stability and apparent vs optimism-corrected vs
validation-set performance.

Formats the ``validate_model`` and ``bootstrap_gather`` rules' results; nothing is
estimated here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crlmflow.report.formats import (
    NOT_AVAILABLE,
    NOT_ELIGIBLE,
    NOT_ESTIMABLE,
    format_ci,
    format_number,
    horizon_label,
    set_label,
)
from crlmflow.report.tables import term_labels

__all__ = ["selection_stability", "performance_comparison"]

_MEASURE_LABEL = {
    "c_index": "Harrell's C-index",
    "calibration_slope": "Calibration slope",
    "brier": "Brier score",
    "auc_km": "Time-dependent AUC (KM)",
    "auc_uno": "AUC (Uno, IPCW)",
    "ipa": "IPA",
    "ici": "ICI",
    "e50": "E50",
    "e90": "E90",
}

_MEASURE_ALIAS = {"slope": "calibration_slope", "c": "c_index", "cindex": "c_index"}

NOT_RUN = "not available"


def selection_stability(
    freq: pd.DataFrame, candidates: Sequence[Mapping[str, Any]], selected: Sequence[str] = ()
) -> pd.DataFrame:
    """Bootstrap inclusion frequency of each candidate (Sauerbrei & Schumacher 1992), sorted by
    frequency, with whether the final model kept it."""
    labels = term_labels(list(candidates))
    df = freq.copy()
    df["label"] = df["variable"].map(labels).fillna(df["variable"])
    df = df.sort_values(["proportion", "label"], ascending=[False, True], kind="stable", na_position="last")
    # a candidate excluded from the multivariable model was never eligible: not "0 / 0.0%"
    eligible = df["eligible"].to_numpy(bool) if "eligible" in df else np.ones(len(df), bool)
    return pd.DataFrame(
        {
            "Variable": df["label"].to_numpy(),
            "Times selected": [str(int(k)) if ok else NOT_ELIGIBLE for k, ok in zip(df["times_selected"], eligible)],
            "Inclusion frequency (%)": [
                format_number(100 * p, 1) if ok else NOT_ELIGIBLE for p, ok in zip(df["proportion"], eligible)
            ],
            "In final model": ["yes" if v in set(selected) else "no" for v in df["variable"]],
        }
    )


def _split_measure(measure: str) -> tuple[str, float]:
    """'brier_36' -> ('brier', 36.0); 'slope' -> ('calibration_slope', nan)."""
    m = re.fullmatch(r"(.+?)_(\d+(?:\.\d+)?)", measure)
    if m and _MEASURE_ALIAS.get(m.group(1), m.group(1)) in _MEASURE_LABEL:
        return _MEASURE_ALIAS.get(m.group(1), m.group(1)), float(m.group(2))
    return _MEASURE_ALIAS.get(measure, measure), float("nan")


def _optimism_by_measure(optimism: pd.DataFrame | None) -> pd.DataFrame | None:
    """``optimism`` with columns ``base`` (canonical measure name) and ``h`` (horizon, NaN
    for a measure without one), whether it gives the horizon as a column or as a suffix."""
    if optimism is None or not len(optimism):
        return None
    opt = optimism.copy()
    if "horizon" in opt.columns:
        opt["base"] = [_MEASURE_ALIAS.get(m, m) for m in opt["measure"]]
        opt["h"] = pd.to_numeric(opt["horizon"], errors="coerce")
    else:
        parts = [_split_measure(m) for m in opt["measure"]]
        opt["base"] = [p[0] for p in parts]
        opt["h"] = [p[1] for p in parts]
    return opt


def _estimable(row: pd.Series) -> bool:
    """A performance row's ``estimable`` flag (absent in older files: estimable)."""
    flag = row.get("estimable", True)
    return str(flag).strip().lower() not in ("false", "0", "0.0")


def _first(df: pd.DataFrame, mask) -> pd.Series | None:
    sub = df[mask]
    return sub.iloc[0] if len(sub) else None


def performance_comparison(
    performance: pd.DataFrame,
    optimism: pd.DataFrame | None = None,
    measures: Sequence[str] = ("c_index", "calibration_slope", "brier"),
    digits: int = 3,
    *,
    set_labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Apparent (training) vs optimism-corrected (Harrell bootstrap) vs validation-set
    performance, one row per measure (and horizon for time-dependent ones).

    ``set_labels`` overrides the set names (``split_set_labels("external")`` heads the
    validation column "External cohort").

    ``optimism`` (columns measure, apparent, optimism, corrected[, horizon]) may be None: the
    corrected column then says 'not available'. Measures in ``optimism`` may carry the
    horizon as a suffix ('brier_36'). Without a validation set (``split.method: none``)
    the table has no validation column rather than an empty one."""
    perf = performance.copy()
    perf["h"] = pd.to_numeric(perf["horizon"], errors="coerce")
    opt = _optimism_by_measure(optimism)
    validation = f"{set_label('validation', set_labels)} (95% CI)"
    has_validation = bool((perf["set"] == "validation").any())
    rows = []
    keys = perf[perf["measure"].isin(measures)][["measure", "h"]].drop_duplicates().itertuples(index=False, name=None)
    for meas, h in keys:
        no_h = h != h  # a measure without a horizon (NaN never equals itself)
        same_h = perf["h"].isna() if no_h else perf["h"] == h
        app = _first(perf, (perf["set"] == "train") & (perf["measure"] == meas) & same_h)
        val = _first(perf, (perf["set"] == "validation") & (perf["measure"] == meas) & same_h)
        o = None
        if opt is not None:
            o = _first(opt, (opt["base"] == meas) & (opt["h"].isna() if no_h else opt["h"] == h))
        row = {
            "Measure": _MEASURE_LABEL.get(meas, meas) + ("" if no_h else f" at {horizon_label(h)}"),
            "Apparent (training)": format_number(app["estimate"], digits) if app is not None else NOT_AVAILABLE,
            "Optimism": format_number(float(o["optimism"]), digits) if o is not None else NOT_RUN,
            "Optimism-corrected": format_number(float(o["corrected"]), digits) if o is not None else NOT_RUN,
        }
        if app is not None and not _estimable(app):
            # too few events or patients at risk by the horizon: no measure there, corrected or not
            row.update({k: NOT_ESTIMABLE for k in ("Apparent (training)", "Optimism", "Optimism-corrected")})
        if has_validation:
            row[validation] = (
                format_ci(val["estimate"], val.get("lower"), val.get("upper"), digits)
                if val is not None
                else NOT_AVAILABLE
            )
        rows.append(row)
    return pd.DataFrame(rows)
