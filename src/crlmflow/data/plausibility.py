"""Plausibility warnings: values inside their ranges that are still probably wrong.

Two patterns pass every range check and distort an analysis silently:

* a laboratory column exported in another unit and not declared (bilirubin in mg/dL read
  as umol/L is 17 times too small, yet inside 0–1000 umol/L). :data:`TYPICAL_MEDIAN` gives
  the range in which a cohort's *median* lies in the canonical unit; a median outside it
  that a unit of :data:`crlmflow.data.units.UNITS` would bring inside is warned about.
* a missing-value sentinel (``999``, ``-1``) inside the allowed range: a value of
  :data:`SENTINELS` that recurs in a column is warned about, so it can be listed in
  ``data.file.missing_codes``.

Warnings name the column, a count and a median — never a patient or a single cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.data.units import UNITS, canonical_unit

#: Column -> (low, high): where a cohort median lies in the canonical unit (adult surgical
#: patients; wide on purpose: only a unit-sized shift should leave it).
TYPICAL_MEDIAN: dict[str, tuple[float, float]] = {
    "tbil": (3.0, 60.0),  # umol/L (mg/dL medians ~0.4-1)
    "dbil": (0.8, 30.0),  # umol/L
    "hgb": (70.0, 180.0),  # g/L (g/dL medians ~12-14)
    "alb": (20.0, 55.0),  # g/L (g/dL medians ~3.5-4.5)
    "d_dimer": (0.05, 20.0),  # mg/L (ng/mL medians ~300-1000)
}

#: Values commonly used as missing-value codes in hospital exports.
SENTINELS = (99.0, 999.0, 9999.0, 99999.0, -1.0, -9.0, -99.0, -999.0)


def unit_warning(column: str, values: pd.Series) -> str | None:
    """A warning when the median of ``values`` (canonical unit) looks like another unit's."""
    if column not in TYPICAL_MEDIAN or column not in UNITS:
        return None
    x = pd.to_numeric(values, errors="coerce").dropna()
    if len(x) < 10:
        return None
    med = float(np.median(x))
    lo, hi = TYPICAL_MEDIAN[column]
    if lo <= med <= hi:
        return None
    for unit, factor in UNITS[column].items():
        if factor != 1.0 and lo <= med * factor <= hi:
            return (
                f"median {med:.3g} {canonical_unit(column)} is outside the usual {lo:g}-{hi:g} "
                f"{canonical_unit(column)} but typical of values in {unit}; if the export reports "
                f"{column} in {unit}, declare it (data.file.units.{column}: {unit})"
            )
    return (
        f"median {med:.3g} {canonical_unit(column)} is outside the usual {lo:g}-{hi:g} "
        f"{canonical_unit(column)}; check the unit of the export"
    )


def sentinel_warning(
    column: str, values: pd.Series, levels=(), min_count: int = 3, min_share: float = 0.01
) -> str | None:
    """A warning when a sentinel value recurs (at least ``min_count`` times and ``min_share``)."""
    x = pd.to_numeric(values, errors="coerce").dropna()
    if not len(x):
        return None
    allowed = {float(v) for v in levels}
    found = []
    for v in SENTINELS:
        k = int((x == v).sum())
        if v not in allowed and k >= min_count and k / len(x) >= min_share:
            found.append(f"{v:g} occurs {k} times ({100 * k / len(x):.1f}%)")
    if not found:
        return None
    return ", ".join(found) + "; if it stands for a missing value, list it in data.file.missing_codes"


def plausibility_warnings(typed: pd.DataFrame, spec: dict) -> list[tuple[str, str]]:
    """``[(column, warning)]`` for every numeric column of ``typed`` described by ``spec``."""
    out = []
    for column, s in spec.items():
        if column not in typed or s["dtype"] not in ("float", "int"):
            continue
        for text in (unit_warning(column, typed[column]), sentinel_warning(column, typed[column], s.get("levels", ()))):
            if text:
                out.append((column, text))
    return out
