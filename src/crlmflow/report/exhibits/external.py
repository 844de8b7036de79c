"""External validation exhibit: the frozen model's performance on the external cohort, its
updates (labelled as such) and the extrapolation accounting, in one table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.report.formats import UPDATE_LABELS, format_ci, format_count, format_number, horizon_label

__all__ = ["external_validation_table"]

_FROZEN_MEASURES = {
    "c_index": "Harrell's C-index",
    "calibration_slope": "Calibration slope",
    "auc_km": "Time-dependent AUC",
    "brier": "Brier score",
    "ici": "Integrated calibration index",
}
_UPDATED_MEASURES = {"lp_coefficient": "Coefficient of the frozen linear predictor", **_FROZEN_MEASURES}


def _quantity(label: str, h) -> str:
    return label if pd.isna(h) else f"{label} at {horizon_label(h)}"


def _value(r, digits: int = 3) -> str:
    if pd.notna(r.lower) and pd.notna(r.upper):
        return format_ci(r.estimate, r.lower, r.upper, digits)
    return format_number(r.estimate, digits)


def external_validation_table(
    extrapolation: pd.DataFrame, updating: pd.DataFrame, performance: pd.DataFrame, digits: int = 3
) -> tuple[pd.DataFrame, list[str]]:
    """Section | Quantity | Value: the frozen model on the external cohort (``performance``
    rows of the ``validation`` set: the headline), each update of
    :mod:`crlmflow.validation.updating` (``updating``), then the external patients outside
    the development data per predictor (``extrapolation``, model predictors first).
    Returns the table and its footnotes."""
    rows = []
    frozen = performance[(performance["set"] == "validation") & performance["measure"].isin(_FROZEN_MEASURES)]
    head = f"{UPDATE_LABELS['frozen']}: external validation"
    for r in frozen.itertuples(index=False):
        rows.append((head, _quantity(_FROZEN_MEASURES[r.measure], r.horizon), _value(r, digits)))
    for name in ("recalibrated_in_the_large", "slope_recalibrated"):
        part = updating[(updating["model"] == name) & updating["measure"].isin(_UPDATED_MEASURES)]
        for r in part.itertuples(index=False):
            rows.append(
                (
                    f"{UPDATE_LABELS[name]} (apparent)",
                    _quantity(_UPDATED_MEASURES[r.measure], r.horizon),
                    _value(r, digits),
                )
            )
    for r in extrapolation.itertuples(index=False):
        if not r.in_model and not r.n_outside:
            continue  # a candidate the model does not use, entirely within the development data
        what = []
        if r.type == "numeric":
            # counts only: the range's ends are single patients' values
            what.append(f"{r.n_below} below the development minimum, {r.n_above} above its maximum")
        elif isinstance(r.unseen_levels, str) and r.unseen_levels:
            what.append(f"levels never seen in development: {r.unseen_levels} ({r.n_unseen_level} patients)")
        else:
            what.append("every level seen in development")
        pct = r.percent_outside if np.isfinite(r.percent_outside) else float("nan")
        label = f"{r.label}{' (in the model)' if r.in_model else ''}"
        rows.append(
            (
                "External patients outside the development data",
                label,
                f"{format_count(r.n_outside, pct)} of {r.n_external}; " + "; ".join(what),
            )
        )
    table = pd.DataFrame(rows, columns=["Section", "Quantity", "Value"])
    notes = [
        "The frozen model is the one developed on the development cohort, applied unchanged: "
        "its numbers are the external validation.",
        "Updated models are re-estimated on the external cohort itself (recalibration in the large: "
        "baseline survival re-estimated with the linear predictor as an offset; slope recalibration: "
        "Cox model of the outcome on the frozen linear predictor); their numbers are apparent, not "
        "validated (Riley et al., BMJ 2024).",
        "Outside the development data: below the development minimum, above its maximum, or at a "
        "category the development cohort never had; the model extrapolates for these patients. "
        "Listed: every model predictor, and the other candidates with any patient outside.",
    ]
    return table, notes
