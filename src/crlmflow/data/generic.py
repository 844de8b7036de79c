"""Cleaning for generic studies: any cohort described by its endpoints and candidates.

The CRLM layouts (``dates``/``times``) are validated against the column contract in
:mod:`crlmflow.data.columns`. A generic study (``data.file.format: generic``) declares its own
columns in the config: an identifier, each endpoint's time and event, and each candidate
predictor with its type (numeric, binary 0/1, factor with levels). Validation follows the
same rules and message style as the CRLM cleaning: every problem names the file, row,
column, the value found and what was expected; a missing time/event excludes the patient
as "missing required data"; a missing predictor follows the missing-value policy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.data.cleaning import MISSING_PREDICTOR_PREFIX, CleanResult, account_exclusions
from crlmflow.data.errors import InputError, Problem, problems_from_mask

MISSING_REQUIRED = "missing required data"


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype("string").str.strip() == "")


def clean_generic(raw: pd.DataFrame, *, endpoints: dict, candidates: list[dict], source: str = "cohort.csv",
                  id_column: str = "patient_id", keep=(), missing_predictors: str = "complete_case") -> CleanResult:
    """Validate a generic cohort and return the complete cases with the row accounting."""
    problems: list[Problem] = []
    total = 0
    time_cols = [e["time"] for e in endpoints.values()]
    event_cols = [e["event"] for e in endpoints.values()]
    names = [c["name"] for c in candidates]
    needed = [id_column, *time_cols, *event_cols, *names, *keep]
    absent = [c for c in dict.fromkeys(needed) if c not in raw.columns]
    if absent:
        raise InputError(Problem(source, None, None, None,
                                 f"required column(s) {', '.join(map(repr, absent))} are absent; the file has "
                                 f"{', '.join(map(repr, raw.columns))} (map local names with data.file.columns)"))
    df = raw.rename(columns={id_column: "patient_id"}) if id_column != "patient_id" else raw
    out = pd.DataFrame({"patient_id": df["patient_id"].astype("string").str.strip()}, index=df.index)

    def add(mask, column, expected):
        nonlocal total
        probs, n = problems_from_mask(df, mask, file=source, column=column, expected=expected)
        problems.extend(probs)
        total += n

    add(_blank(df["patient_id"]), "patient_id", "a patient identifier")
    dup = out["patient_id"].duplicated(keep=False) & out["patient_id"].notna()
    add(dup, "patient_id", "a unique patient identifier (this id occurs more than once)")

    missing_required = pd.Series(False, index=df.index)
    for col in time_cols:
        blank = _blank(df[col])
        num = pd.to_numeric(df[col], errors="coerce")
        add(~blank & num.isna(), col, "a number (survival time in months)")
        add(~blank & num.notna() & ~(num > 0), col, "a survival time > 0")
        out[col] = num
        missing_required |= blank
    for col in event_cols:
        blank = _blank(df[col])
        num = pd.to_numeric(df[col], errors="coerce")
        add(~blank & ~num.isin([0, 1]), col, "an event indicator coded 0 or 1")
        out[col] = num
        missing_required |= blank
    for cand in candidates:
        col = cand["name"]
        blank = _blank(df[col])
        if cand["type"] == "factor":
            text = df[col].astype("string").str.strip()
            levels = [str(v) for v in cand["levels"]]
            add(~blank & ~text.isin(levels), col, f"one of {', '.join(map(repr, levels))}")
            out[col] = text.astype(object).where(~blank)
            continue
        num = pd.to_numeric(df[col], errors="coerce")
        add(~blank & num.isna(), col, "a number")
        if cand["type"] == "binary":
            add(~blank & num.notna() & ~num.isin([0, 1]), col, "0 or 1")
        out[col] = num
    for col in keep:
        if col not in out:
            out[col] = df[col]
    if problems:
        raise InputError(problems, total=total)

    reason = pd.Series([None] * len(out), index=out.index, dtype=object)
    reason[missing_required] = MISSING_REQUIRED
    predictor_reasons = []
    for cand in candidates:
        miss = out[cand["name"]].isna() & reason.isna()
        if not miss.any():
            continue
        if missing_predictors == "error":
            probs, n = problems_from_mask(df, miss, file=source, column=cand["name"],
                                          expected=f"a value: '{cand['name']}' is a candidate predictor and "
                                                   "missing_predictors is 'error'")
            raise InputError(probs, total=n)
        why = MISSING_PREDICTOR_PREFIX + cand["name"]
        predictor_reasons.append(why)
        reason[miss] = why
    included, exclusions, flow = account_exclusions(
        out["patient_id"], reason, [MISSING_REQUIRED, *predictor_reasons], source, "patient with complete data")
    cohort = out.loc[included].reset_index(drop=True)
    for col in event_cols:
        cohort[col] = cohort[col].astype(np.int64)
    return CleanResult(cohort=cohort, exclusions=exclusions, flow=flow)
