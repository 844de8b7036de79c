"""Inflammatory indices and the clinical risk score (CRS) of the analysis cohort.

Paper definitions (Xue et al. 2025, Methods):

* ``nlr`` = neutrophils / lymphocytes (10^9/L each)
* ``plr`` = platelets / lymphocytes
* ``sii`` = platelets x neutrophils / lymphocytes

Fong clinical risk score (Fong et al., Ann Surg 1999), one point each:

1. ``crs_node_positive`` — node-positive primary tumour (``primary_node_positive == 1``)
2. ``crs_dfi_le_12_or_synchronous`` — synchronous metastases, or disease-free interval
   from primary to metastases <= 12 months (12 itself scores)
3. ``crs_multiple_metastases`` — more than one liver metastasis (``n_liver_metastases > 1``)
4. ``crs_cea_gt_200`` — preoperative CEA > 200 ng/mL (200 itself does not score)
5. ``crs_largest_gt_5cm`` — largest metastasis > 5 cm (5 cm itself does not score)

``crs_score`` = sum (0-5); ``crs_high`` = 1 if crs_score >= 3 (high 3-5), 0 if 0-2 (low).
Items are int 0/1 (nullable ``Int64`` with ``NA`` only if an ingredient is missing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.data.columns import ANALYSIS_COLUMNS

CRS_ITEMS: list[str] = [
    "crs_node_positive",
    "crs_dfi_le_12_or_synchronous",
    "crs_multiple_metastases",
    "crs_cea_gt_200",
    "crs_largest_gt_5cm",
]

#: Columns that :func:`derive_indices` adds.
DERIVED_COLUMNS: list[str] = ["nlr", "plr", "sii", *CRS_ITEMS, "crs_score", "crs_high"]

_NUMERIC_INPUTS = [
    "neut",
    "lymph",
    "plt",
    "cea",
    "primary_node_positive",
    "disease_free_interval_months",
    "n_liver_metastases",
    "largest_metastasis_cm",
]


def _flag(cond: pd.Series, known: pd.Series) -> pd.Series:
    vals = cond.astype(bool)
    if bool(known.all()):
        return vals.astype("int64")
    return vals.astype("Int64").where(known, pd.NA)


def derive_indices(cohort: pd.DataFrame) -> pd.DataFrame:
    """Add NLR, PLR, SII and the CRS columns; columns ordered as ``ANALYSIS_COLUMNS`` + extras.

    Needs ``neut``, ``lymph``, ``plt``, ``cea``, ``primary_node_positive``,
    ``metastasis_timing``, ``disease_free_interval_months``, ``n_liver_metastases`` and
    ``largest_metastasis_cm`` (numbers may be given as text, e.g. from a re-read CSV).
    Columns of ``ANALYSIS_COLUMNS`` absent from ``cohort`` are simply not in the output.
    """
    missing = [c for c in _NUMERIC_INPUTS + ["metastasis_timing"] if c not in cohort.columns]
    if missing:
        raise KeyError("derive_indices needs column(s) " + ", ".join(repr(c) for c in missing))
    out = cohort.copy()
    num = {c: pd.to_numeric(out[c], errors="raise").astype("float64") for c in _NUMERIC_INPUTS}
    neut, lymph, plt = num["neut"], num["lymph"], num["plt"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["nlr"] = neut / lymph
        out["plr"] = plt / lymph
        out["sii"] = plt * neut / lymph

    node = num["primary_node_positive"]
    dfi = num["disease_free_interval_months"]
    timing = out["metastasis_timing"]
    synchronous = timing.eq("synchronous").fillna(False).astype(bool)
    nmet = num["n_liver_metastases"]
    cea = num["cea"]
    size = num["largest_metastasis_cm"]

    out["crs_node_positive"] = _flag(node == 1, node.notna())
    # an unknown DFI of a metachronous patient leaves the item unknown; synchronous scores anyway
    out["crs_dfi_le_12_or_synchronous"] = _flag(synchronous | (dfi <= 12), synchronous | (dfi.notna() & timing.notna()))
    out["crs_multiple_metastases"] = _flag(nmet > 1, nmet.notna())
    out["crs_cea_gt_200"] = _flag(cea > 200, cea.notna())
    out["crs_largest_gt_5cm"] = _flag(size > 5, size.notna())
    items = out[CRS_ITEMS]
    known = items.notna().all(axis=1)
    score = items.astype("float64").sum(axis=1)
    out["crs_score"] = score.astype("int64") if bool(known.all()) else score.astype("Int64").where(known, pd.NA)
    out["crs_high"] = _flag(score >= 3, known)

    first = [c for c in ANALYSIS_COLUMNS if c in out.columns]
    rest = [c for c in out.columns if c not in first]
    return out[first + rest]
