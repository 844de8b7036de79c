"""Cleaning for generic studies: any cohort described by its endpoints and candidates.

The CRLM layouts (``dates``/``times``) are validated against the column contract in
:mod:`crlmflow.data.columns`. A generic study (``data.file.format: generic``) declares its own
columns in the config: an identifier, each endpoint's time and event, and each candidate
predictor with its type (numeric, binary 0/1, factor with levels). Validation follows the
same rules and message style as the CRLM cleaning: every problem names the file, row,
column, the value found and what was expected; a missing time/event excludes the patient
as "missing required data"; a missing predictor follows the missing-value policy.

Missing cells follow :mod:`crlmflow.data.missing` (blank or a missing-value code; a code
that is a factor level is the level). Every numeric candidate declares its plausible
``range: [low, high]`` in the config; times must lie in (0, 1200] months. A column that
is empty in every row, or an endpoint without events, stops the run naming the column.
Factor levels match case-sensitively, with a clear error otherwise.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crlmflow.data.cleaning import MISSING_PREDICTOR_PREFIX, CleanResult, account_exclusions, record_imputed
from crlmflow.data.errors import InputError, Problem, problems_from_mask
from crlmflow.data.events import check_events, exclusion_bias, lookalike_hint
from crlmflow.data.missing import DEFAULT_MISSING_CODES, code_mask, codes_for, is_blank
from crlmflow.data.plausibility import sentinel_warning
from crlmflow.data.quality import QualityLog

MISSING_REQUIRED = "missing required data"
#: Plausible survival times (months) of the generic layout.
TIME_RANGE = (0.0, 1200.0)


def _check_ranges(candidates: list[dict]) -> None:
    """Every numeric candidate of a generic study declares ``range: [low, high]``."""
    bad = [
        f"config key 'candidates[{i}].range' ({c['name']}): "
        + (
            "required for a numeric candidate of a generic study, e.g. range: [0, 120]"
            if "range" not in c
            else f"expected [low, high] with low <= high, got {c['range']!r}"
        )
        for i, c in enumerate(candidates)
        if c["type"] == "numeric"
        and not (
            "range" in c
            and isinstance(c["range"], (list, tuple))
            and len(c["range"]) == 2
            and float(c["range"][0]) <= float(c["range"][1])
        )
    ]
    if bad:
        raise ValueError("invalid candidates of a generic study:\n" + "\n".join(f"  - {b}" for b in bad))


def _fmt(x) -> str:
    return f"{float(x):g}"


def clean_generic(
    raw: pd.DataFrame,
    *,
    endpoints: dict,
    candidates: list[dict],
    source: str = "cohort.csv",
    id_column: str = "patient_id",
    keep=(),
    missing_predictors: str = "complete_case",
    missing_codes=DEFAULT_MISSING_CODES,
    candidates_required: bool = True,
) -> CleanResult:
    """Validate a generic cohort and return the complete cases with the row accounting.

    ``candidates_required=False`` (an external validation cohort): a candidate column the
    file does not have is allowed and left empty (``NA``), listed in the quality table;
    the frozen model's own predictors are checked when it is applied
    (:func:`crlmflow.data.cohort.check_external_predictors`). Candidate columns the file
    has are validated, and their missing values handled, as in the development cohort.
    """
    _check_ranges(candidates)
    problems: list[Problem] = []
    total = 0
    quality = QualityLog()
    time_cols = [e["time"] for e in endpoints.values()]
    event_cols = [e["event"] for e in endpoints.values()]
    if not candidates_required:
        not_in_file = [c["name"] for c in candidates if c["name"] not in raw.columns]
        for name in not_in_file:
            quality.warn(name, "not in the file: allowed for an external cohort unless the frozen model uses it")
        candidates = [c for c in candidates if c["name"] in raw.columns]
    names = [c["name"] for c in candidates]
    needed = [id_column, *time_cols, *event_cols, *names, *keep]
    absent = [c for c in dict.fromkeys(needed) if c not in raw.columns]
    if absent:
        raise InputError(
            Problem(
                source,
                None,
                None,
                None,
                f"required column(s) {', '.join(map(repr, absent))} are absent; the file has "
                f"{', '.join(map(repr, raw.columns))} (map local names with data.file.columns"
                + (
                    ""
                    if candidates_required
                    else "; every configured endpoint is validated on the external cohort, so "
                    "declare only the endpoints it records"
                )
                + ")"
                + lookalike_hint(absent, raw.columns, needed),
            )
        )
    df = raw.rename(columns={id_column: "patient_id"}) if id_column != "patient_id" else raw
    out = pd.DataFrame({"patient_id": df["patient_id"].astype("string").str.strip()}, index=df.index)

    def add(mask, column, expected):
        nonlocal total
        probs, n = problems_from_mask(df, mask, file=source, column=column, expected=expected)
        problems.extend(probs)
        total += n

    def missing(col, levels=None, required=True):
        """Missing cells of a column (blank or a code), counted; an all-missing column is a problem."""
        blank = is_blank(df[col])
        coded = code_mask(df[col], codes_for(missing_codes, levels)) & ~blank
        quality.count(col, "present", (~blank & ~coded).sum())
        quality.count(col, "missing", blank.sum())
        quality.count(col, "missing_code", coded.sum())
        if required and len(df) and (blank | coded).all():
            problems.append(
                Problem(
                    source,
                    None,
                    col,
                    None,
                    f"column '{col}' is empty in all {len(df)} rows; expected values "
                    "(check the export and the column mapping)",
                )
            )
        return blank | coded

    add(missing("patient_id"), "patient_id", "a patient identifier")
    dup = out["patient_id"].duplicated(keep=False) & out["patient_id"].notna()
    add(dup, "patient_id", "a unique patient identifier (this id occurs more than once)")

    missing_required = pd.Series(False, index=df.index)
    for col in dict.fromkeys(time_cols):
        blank = missing(col)
        num = pd.to_numeric(df[col].where(~blank), errors="coerce")
        add(~blank & num.isna(), col, "a number (survival time in months)")
        add(
            ~blank & num.notna() & ~((num > TIME_RANGE[0]) & (num <= TIME_RANGE[1])),
            col,
            f"a survival time > {_fmt(TIME_RANGE[0])} and <= {_fmt(TIME_RANGE[1])} months",
        )
        out[col] = num
        missing_required |= blank
    for col in dict.fromkeys(event_cols):
        blank = missing(col, levels=[0, 1])
        num = pd.to_numeric(df[col].where(~blank), errors="coerce")
        add(~blank & ~num.isin([0, 1]), col, "an event indicator coded 0 or 1")
        out[col] = num
        missing_required |= blank
    for cand in candidates:
        col = cand["name"]
        levels = (
            [str(v) for v in cand["levels"]]
            if cand["type"] == "factor"
            else [0, 1]
            if cand["type"] == "binary"
            else None
        )
        blank = missing(col, levels=levels)
        if cand["type"] == "factor":
            text = df[col].astype("string").str.strip()
            add(~blank & ~text.isin(levels), col, f"one of {', '.join(map(repr, levels))} (case-sensitive)")
            out[col] = text.astype(object).where(~blank)
            continue
        num = pd.to_numeric(df[col].where(~blank), errors="coerce")
        add(~blank & num.isna(), col, "a number")
        if cand["type"] == "binary":
            add(~blank & num.notna() & ~num.isin([0, 1]), col, "0 or 1")
        else:
            lo, hi = (float(v) for v in cand["range"])
            add(
                ~blank & num.notna() & ~((num >= lo) & (num <= hi)),
                col,
                f"a number between {_fmt(lo)} and {_fmt(hi)} (the candidate's range in the config)",
            )
            text = sentinel_warning(col, num.where(~blank))
            if text:
                quality.warn(col, text)
        out[col] = num
    for col in keep:
        if col not in out:
            out[col] = df[col]
    for col in not_in_file if not candidates_required else ():
        out[col] = np.nan
    if problems:
        raise InputError(problems, total=total)

    reason = pd.Series([None] * len(out), index=out.index, dtype=object)
    reason[missing_required] = MISSING_REQUIRED
    predictor_reasons = []
    imputed = {}
    for cand in candidates:
        miss = out[cand["name"]].isna() & reason.isna()
        if not miss.any():
            continue
        if missing_predictors == "multiple_imputation":
            imputed[cand["name"]] = int(miss.sum())
            quality.count(cand["name"], "imputed", miss.sum())
            continue
        if missing_predictors == "error":
            probs, n = problems_from_mask(
                df,
                miss,
                file=source,
                column=cand["name"],
                expected=f"a value: '{cand['name']}' is a candidate predictor and missing_predictors is 'error'",
            )
            raise InputError(probs, total=n)
        why = MISSING_PREDICTOR_PREFIX + cand["name"]
        predictor_reasons.append(why)
        reason[miss] = why
    included, exclusions, flow = account_exclusions(
        out["patient_id"], reason, [MISSING_REQUIRED, *predictor_reasons], source, "patient with complete data"
    )
    cohort = out.loc[included].reset_index(drop=True)
    if missing_predictors == "multiple_imputation":
        names = [c["name"] for c in candidates if c["name"] in cohort]
        record_imputed(flow, imputed, cohort[names].isna().any(axis=1).sum())
    for col in event_cols:
        cohort[col] = cohort[col].astype(np.int64)
    sources = {name: (ep["event"], [ep["event"]]) for name, ep in endpoints.items()}
    found = check_events(cohort, sources, source)
    if found:
        raise InputError(found)
    for name, ep in endpoints.items():
        quality.count(name, "events", cohort[ep["event"]].sum(), section="endpoint")
    for why in exclusion_bias(out[list(dict.fromkeys(event_cols))], reason.notna(), included):
        quality.warn(None, why, section="file")
    for w in quality.warnings:
        warnings.warn(w, UserWarning, stacklevel=2)
    return CleanResult(
        cohort=cohort, exclusions=exclusions, flow=flow, quality=quality.table(), warnings=quality.warnings
    )
