"""Tabulation helpers shared by scripts and notebooks: term labels and the forest table."""

from __future__ import annotations

import pandas as pd

__all__ = ["term_labels", "forest_table"]


def term_labels(candidates: list[dict]) -> dict[str, str]:
    """Display label of every model term (factor dummies as 'Label: level vs reference')."""
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
