"""Tabulation helpers shared by scripts and notebooks: term labels and the forest table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.report.formats import per_unit

__all__ = ["term_labels", "hr_scales", "scale_hr", "forest_table"]


def term_labels(candidates: list[dict], *, contrast: bool = False) -> dict[str, str]:
    """Display label of every model term (factor dummies as 'Label: level vs reference').

    ``contrast=True`` also says what each hazard ratio compares: numeric terms
    'Age (per year)', 'CA19-9 (per 100 U/mL)' (the candidate's ``hr_per``), binary terms
    'R0 resection (yes vs no)' (a label that already names its level, 'Sex (male)', is kept).
    """
    labels = {}
    for c in candidates:
        base = c.get("label", c["name"])
        if c.get("type") == "factor":
            for lv in c["levels"]:
                if lv != c["ref"]:
                    labels[f"{c['name']}{lv}"] = f"{base}: {lv} vs {c['ref']}"
        elif not contrast:
            labels[c["name"]] = base
        elif c.get("type") == "binary":
            labels[c["name"]] = base if "(" in base else f"{base} (yes vs no)"
        else:
            labels[c["name"]] = f"{base} ({per_unit(c.get('unit'), c.get('hr_per', 1), score=bool(c.get('allowed')))})"
    return labels


def hr_scales(candidates: list[dict]) -> dict[str, float]:
    """Display scale of each numeric term's HR (config ``hr_per``; 1 when not set)."""
    return {c["name"]: float(c.get("hr_per", 1)) for c in candidates if c.get("type") == "numeric"}


def scale_hr(df: pd.DataFrame, candidates: list[dict]) -> pd.DataFrame:
    """HR and CI per ``hr_per`` units: exp(k·β), the CI bounds raised to the power k.

    A per-unit HR of a wide-range marker (CA19-9 in U/mL) rounds to 1.000 (1.000, 1.000);
    per 100 U/mL it is readable. Only the display changes (the p-value is the same test).
    """
    out = df.copy()
    k = out["term"].map(hr_scales(candidates)).fillna(1.0).to_numpy(float)
    for col in ("hr", "hr_lower", "hr_upper"):
        if col in out:
            out[col] = np.power(out[col].to_numpy(float), k)
    return out


def forest_table(multivariable: pd.DataFrame, candidates: list[dict]) -> pd.DataFrame:
    """Selected terms of the multivariable table, labelled with their contrast (unit or
    reference level) and on their display scale, in model order."""
    sel = scale_hr(multivariable[multivariable["selected"].astype(bool)], candidates)
    sel["label"] = sel["term"].map(term_labels(candidates, contrast=True)).fillna(sel["term"])
    return sel[["term", "label", "hr", "hr_lower", "hr_upper", "p"]].reset_index(drop=True)
