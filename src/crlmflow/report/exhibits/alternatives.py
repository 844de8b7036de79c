"""Beyond the paper: the model comparison table (the paper's model and each alternative,
the same measures on the same sets) and Riley's minimum sample size beside the actual one.

Formats the ``validate_model``, ``alternative_models`` and ``sample_size`` rules' results;
nothing is estimated here. ``beside_paper_model`` puts the paper model's validation table
(ROC, calibration or decision curves, performance) above the alternatives' one, the
frames the overlay figures (``crlmflow.report.plots.model_overlay``) draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crlmflow.report.formats import (
    MODEL_LABELS,
    NOT_AVAILABLE,
    NOT_ESTIMABLE,
    format_ci,
    format_number,
    horizon_label,
    set_label,
)

__all__ = ["beside_paper_model", "model_comparison", "sample_size_table"]


def _cell(row: pd.Series | None, with_ci: bool, digits: int) -> str:
    if row is None:
        return NOT_AVAILABLE
    if "estimable" in row and not bool(row["estimable"]):
        return NOT_ESTIMABLE
    if pd.isna(row["estimate"]) and str(row.get("method", "")).startswith("not estimable"):
        return NOT_ESTIMABLE  # e.g. the slope of a model that kept no predictor
    if with_ci:
        return format_ci(row["estimate"], row.get("lower"), row.get("upper"), digits)
    return format_number(row["estimate"], digits)


def beside_paper_model(paper: pd.DataFrame, alternatives: pd.DataFrame | None) -> pd.DataFrame:
    """The paper model's table (``model`` = "paper", first) above the alternatives' table
    of the same kind (its ``model`` column kept), on the columns they share: one frame
    whose first-seen model order puts the headline first.

    Raises ``ValueError`` naming the columns when the two tables share no ``set`` and
    ``horizon`` (not tables of the same kind)."""
    paper = paper.assign(model="paper")
    if alternatives is None or alternatives.empty:
        return paper[["model", *[c for c in paper.columns if c != "model"]]].reset_index(drop=True)
    missing = {"set", "horizon"} - (set(paper.columns) & set(alternatives.columns))
    if missing:
        raise ValueError(
            f"the paper model's and the alternatives' tables must both have {sorted(missing)}; "
            f"found {list(paper.columns)} and {list(alternatives.columns)}"
        )
    cols = ["model", *[c for c in paper.columns if c in alternatives.columns and c != "model"]]
    return pd.concat([paper[cols], alternatives[cols]], ignore_index=True)


def model_comparison(
    paper: pd.DataFrame,
    alternatives: pd.DataFrame | None,
    horizons: Sequence[float],
    *,
    set_labels: Mapping[str, str] | None = None,
    digits: int = 3,
) -> pd.DataFrame:
    """One row per model and set: Harrell's C, the calibration slope, and Brier and IPA at
    each horizon; training-set values are apparent (no CI), validation-set values carry
    their 95% CI as in ``performance.csv``.

    ``paper`` is the paper model's ``performance.csv``; ``alternatives`` the
    ``alternatives_performance.csv`` (column ``model``), or None."""
    frames = [paper.assign(model="paper")]
    if alternatives is not None and len(alternatives):
        frames.append(alternatives)
    perf = pd.concat(frames, ignore_index=True)
    perf["h"] = pd.to_numeric(perf["horizon"], errors="coerce")
    columns = [("c_index", np.nan, "Harrell's C"), ("calibration_slope", np.nan, "Calibration slope")]
    for h in horizons:
        columns += [
            ("brier", float(h), f"Brier at {horizon_label(h)}"),
            ("ipa", float(h), f"IPA at {horizon_label(h)}"),
        ]
    rows = []
    for name in dict.fromkeys(perf["model"]):  # first-seen order: the paper's model first
        for s in dict.fromkeys(perf.loc[perf["model"] == name, "set"]):
            sub = perf[(perf["model"] == name) & (perf["set"] == s)]
            row = {
                "Model": MODEL_LABELS.get(name, name),
                "Set": set_label(s, set_labels) + (" (apparent)" if s == "train" else ""),
            }
            for measure, h, label in columns:
                hit = sub[(sub["measure"] == measure) & (sub["h"].isna() if h != h else sub["h"] == h)]
                row[label] = _cell(hit.iloc[0] if len(hit) else None, s != "train", digits)
            rows.append(row)
    return pd.DataFrame(rows)


def sample_size_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Riley's criteria per anticipated R² (``sample_size.csv`` rows, one endpoint)."""
    rows = []
    for r in frame.to_dict("records"):
        estimable = not (isinstance(r.get("not_estimable"), str) and r["not_estimable"])

        def num(key, digits=0, r=r, estimable=estimable):
            return format_number(r.get(key), digits) if estimable else NOT_ESTIMABLE

        rows.append(
            {
                "Anticipated R2 from": r["r2_source"],
                "Cox-Snell R2": format_number(r["r2_cs"], 3),
                "Nagelkerke R2": num("nagelkerke", 3),
                "Candidate parameters": str(int(r["parameters"])),
                "n for shrinkage >= target (i)": num("n_shrinkage"),
                "n for small optimism (ii)": num("n_optimism"),
                "n for precise risk at horizon (iii)": num("n_precision"),
                "Minimum n": num("n_required"),
                "Minimum events": num("events_required", 0),
                "Events per parameter needed": num("events_per_parameter_required", 1),
                "Actual n / events": f"{int(r['actual_n'])} / {int(r['actual_events'])}",
                "Actual events per parameter": format_number(r["actual_events_per_parameter"], 1),
                "Criteria met": ("yes" if r["met"] else "no") if estimable else NOT_ESTIMABLE,
            }
        )
    return pd.DataFrame(rows)
