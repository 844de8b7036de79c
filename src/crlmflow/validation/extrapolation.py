"""Extrapolation accounting of an external validation cohort.

A frozen model applied to patients outside the range of the data it was developed on is
extrapolating: a linear term is assumed to go on straight beyond the last development
value, and a factor level the development cohort never had has no coefficient at all.
Riley et al. (BMJ 2024, external validation) and TRIPOD (item 24/25, case mix) ask how
much of the external cohort this concerns, so that its performance can be read in that
light. Per predictor: the development range (numeric) or levels (binary, factor), and how
many external patients fall below, above or at an unseen level. Counts only — never a
patient's value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["any_outside", "extrapolation_table"]

COLUMNS = [
    "predictor",
    "label",
    "type",
    "in_model",
    "n_external",
    "development_min",
    "development_max",
    "n_below",
    "n_above",
    "unseen_levels",
    "n_unseen_level",
    "n_outside",
    "percent_outside",
]


def _levels(values: pd.Series) -> list[str]:
    return sorted({str(v) for v in values.dropna()})


def extrapolation_table(
    development: pd.DataFrame,
    external: pd.DataFrame,
    candidates: Sequence[Mapping],
    in_model: Iterable[str] = (),
) -> pd.DataFrame:
    """Per candidate present in both cohorts, how many external patients lie outside the
    development cohort's range (numeric: below its minimum or above its maximum) or at a
    level it never had (binary, factor).

    Parameters
    ----------
    development, external : DataFrame
        The development (training) and external cohorts, one row per patient.
    candidates : sequence of mapping
        The config's candidates (``name``, ``type``, ``label``).
    in_model : iterable of str
        Names of the frozen model's predictors; flagged in ``in_model`` and listed first.

    Returns
    -------
    DataFrame
        One row per predictor, columns :data:`COLUMNS`; missing values count in neither
        the numerator nor ``n_external``.
    """
    chosen = set(in_model)
    rows = []
    for c in candidates:
        name = c["name"]
        if name not in development.columns or name not in external.columns:
            continue
        dev, ext = development[name].dropna(), external[name].dropna()
        kind = c.get("type", "numeric")
        row = {
            "predictor": name,
            "label": c.get("label", name),
            "type": kind,
            "in_model": name in chosen,
            "n_external": int(ext.size),
            "development_min": np.nan,
            "development_max": np.nan,
            "n_below": 0,
            "n_above": 0,
            "unseen_levels": "",
            "n_unseen_level": 0,
        }
        if kind == "numeric":
            lo, hi = float(dev.min()), float(dev.max())
            x = ext.astype(float)
            row.update(development_min=lo, development_max=hi, n_below=int((x < lo).sum()), n_above=int((x > hi).sum()))
        else:
            seen = set(_levels(dev))
            as_text = ext.map(str)
            unseen = sorted(set(as_text) - seen)
            row.update(unseen_levels="; ".join(unseen), n_unseen_level=int(as_text.isin(unseen).sum()))
        row["n_outside"] = row["n_below"] + row["n_above"] + row["n_unseen_level"]
        row["percent_outside"] = 100.0 * row["n_outside"] / row["n_external"] if row["n_external"] else np.nan
        rows.append(row)
    out = pd.DataFrame(rows, columns=COLUMNS)
    order = np.lexsort((np.arange(len(out)), ~out["in_model"].to_numpy(bool)))
    return out.iloc[order].reset_index(drop=True)


def any_outside(table: pd.DataFrame, in_model_only: bool = True) -> bool:
    """Whether any external patient is outside the development data (model predictors only)."""
    t = table[table["in_model"]] if in_model_only else table
    return bool((t["n_outside"] > 0).any())
