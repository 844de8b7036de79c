"""Figures 2/3 B: the nomogram, read back from the ``nomogram`` rule's JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from crlmflow.model.nomogram import NomogramResult, PredictorAxis, SurvivalAxis

__all__ = ["load_nomogram"]


def load_nomogram(data: Mapping[str, Any], nint: int = 10) -> tuple[NomogramResult, dict[float, SurvivalAxis]]:
    """Rebuild ``NomogramResult`` and survival axes from ``models/{ep}/nomogram.json``
    (the inverse of ``crlmflow.model.modelfile.nomogram_json``)."""
    preds = {}
    for p in data["predictors"]:
        preds[p["name"]] = PredictorAxis(
            name=p["name"],
            label=p.get("label") or p["name"],
            type=p["type"],
            unit=p.get("unit"),
            values=list(p["values"]),
            xbeta=np.asarray(p["xbeta"], float),
            points=np.asarray(p["points"], float),
        )
    nomo = NomogramResult(
        predictors=preds,
        points_per_unit_lp=float(data["points_per_unit_lp"]),
        lp_at_zero_points=float(data["lp_at_zero_points"]),
        center=float(data["center"]),
        maxscale=float(data["maxscale"]),
        nint=nint,
        total_points_axis=np.asarray(data["total_points_axis"], float),
        lp_axis_lp=np.asarray(data["lp_axis"]["lp"], float),
        lp_axis_points=np.asarray(data["lp_axis"]["points"], float),
    )
    axes = {}
    for key, a in sorted(data.get("survival_axes", {}).items(), key=lambda kv: float(kv[0])):
        axes[float(key)] = SurvivalAxis(
            horizon=float(key),
            surv=np.asarray(a["surv"], float),
            total_points=np.asarray(a["total_points"], float),
            lp=np.asarray(a["lp"], float),
            baseline_surv=float(a["baseline_surv"]),
            note=a.get("note", ""),
        )
    return nomo, axes
