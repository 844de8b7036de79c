"""Tabulation helpers shared by scripts and notebooks: labels, formatting, the paper's layouts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.report.plots.style import format_p  # noqa: F401 - one p-value format for tables and figures


def term_labels(candidates: list[dict]) -> dict[str, str]:
    """Display label of every model term (factor dummies as 'Label: level')."""
    labels = {}
    for c in candidates:
        base = c.get("label", c["name"])
        if c.get("type") == "factor":
            for lv in c["levels"]:
                if lv != c["ref"]:
                    labels[f"{c['name']}{lv}"] = f"{base}: {lv} vs {c['ref']}"
        else:
            labels[c["name"]] = base
    return labels


def forest_table(multivariable: pd.DataFrame, candidates: list[dict]) -> pd.DataFrame:
    """Selected terms of the multivariable table, labelled, in model order."""
    sel = multivariable[multivariable["selected"].astype(bool)].copy()
    sel["label"] = sel["term"].map(term_labels(candidates)).fillna(sel["term"])
    return sel[["term", "label", "hr", "hr_lower", "hr_upper", "p"]].reset_index(drop=True)


def format_hr(hr: float, lo: float, hi: float, digits: int = 3) -> str:
    if any(pd.isna(v) for v in (hr, lo, hi)):
        return ""
    return f"{hr:.{digits}f} ({lo:.{digits}f}, {hi:.{digits}f})"
