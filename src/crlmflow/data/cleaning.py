"""Validate a raw cohort export, apply the eligibility criteria and derive survival times.

Two raw layouts are accepted (``format``):

``"dates"`` (default)
    the hospital export of :data:`crlmflow.data.columns.RAW_COLUMNS`: admission, surgery,
    discharge, recurrence, death and last follow-up dates; times are derived here.
``"times"``
    a research-database layout: the non-date columns of ``RAW_COLUMNS`` plus
    :data:`TIME_COLUMNS` (``os_months``, ``os_event``, ``rfs_months``, ``rfs_event`` and,
    optionally, ``hospital_days``) instead of the six dates.

A user's column mapping (local name -> canonical name, see
:func:`crlmflow.data.io.apply_column_mapping`) is applied before anything else, so every
message names the canonical column.

Validation (:func:`validate_raw`) — every problem is collected, then one
:class:`~crlmflow.data.errors.InputError` lists them all (50 lines, then a count of the rest):

* a required column absent from the file (one problem listing all absent columns);
  extra columns are allowed and ignored;
* types: numbers parse (finite), ``int`` columns are whole numbers, ``binary`` is 0/1,
  ``category`` is one of its levels (case-sensitive), dates are ISO ``YYYY-MM-DD`` and
  exist in the calendar;
* plausible ranges (inclusive, from the column contract); survival times (``times``) > 0;
* ``patient_id`` present and unique (every row of a duplicate is reported);
* date order (``dates``), checked whenever both dates are present:
  admission <= surgery <= discharge; surgery < recurrence, death, last follow-up (strictly:
  a survival time must be positive); recurrence <= death; recurrence <= last follow-up;
  death <= last follow-up (the last follow-up of a patient who died is the date of death
  or later — registries that learn of a death after the last contact must set the last
  follow-up to the death date); surgery before ``followup_cutoff`` when one is given;
* ``times``: rfs_months <= os_months.

A *missing* value in a required column is not an input error: the patient is excluded
as ``"missing required data"``. Missing values in optional columns stay ``NA``.

Eligibility (:func:`clean`) in the order of :data:`crlmflow.data.columns.EXCLUSION_REASONS`,
each patient excluded once, with the first reason that applies:

1. ``"metachronous liver metastases"`` — metastasis_timing == "metachronous"
2. ``"extrahepatic metastases"`` — extrahepatic_metastases == 1
3. ``"NED not achieved"`` — ned_achieved == 0
4. ``"no systemic chemotherapy"`` — chemotherapy == "none"
5. ``"missing required data"`` — any required column missing
6. ``"missing predictor: <name>"`` — (``missing_predictors="complete_case"``) the first
   candidate predictor, in the order given, whose value is missing. With
   ``missing_predictors="error"`` such patients raise an InputError instead.

Derived columns: ``os_months`` = (death, else last follow-up) - surgery, in days / 30.4375,
``os_event`` = death present; ``rfs_months`` = (recurrence, else death, else last
follow-up) - surgery, ``rfs_event`` = recurrence present — with
``death_censors_rfs=False`` a death without recurrence is an RFS event at the death date.
With ``followup_cutoff`` (ISO date) events after the cutoff are ignored and follow-up is
censored at the cutoff. ``hospital_days`` = discharge - admission (days); ``male`` =
sex == "M"; ``chemo_full_course``/``chemo_neoadjuvant_only``/``chemo_adjuvant_only``
0/1 indicators and ``chemo_group`` (the chemotherapy level as text).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from crlmflow.data.columns import DAYS_PER_MONTH, EXCLUSION_REASONS, RAW_COLUMNS
from crlmflow.data.errors import InputError, Problem, file_rows, problems_from_mask
from crlmflow.data.io import apply_column_mapping

#: The survival columns of the ``times`` layout (replacing the six date columns).
TIME_COLUMNS: dict[str, dict] = {
    "os_months": dict(dtype="float", unit="months", range=(0, 1200), positive=True, required=True,
                      role="OS time from surgery"),
    "os_event": dict(dtype="binary", unit="", required=True, role="1 = died"),
    "rfs_months": dict(dtype="float", unit="months", range=(0, 1200), positive=True, required=True,
                       role="RFS time from surgery"),
    "rfs_event": dict(dtype="binary", unit="", required=True, role="1 = recurrence (or death)"),
    "hospital_days": dict(dtype="float", unit="days", range=(0, 1000), required=False, role="candidate"),
}

DATE_COLUMNS: list[str] = [c for c, s in RAW_COLUMNS.items() if s["dtype"] == "date"]

#: Columns of the cleaned cohort (input of :func:`crlmflow.data.indices.derive_indices`).
CLEAN_COLUMNS: list[str] = [
    "patient_id", "male", "age", "bmi", "hospital_days", "r0_resection", "rfa",
    "ca19_9", "cea", "wbc", "neut", "lymph", "hgb", "plt", "alt", "ast", "tbil", "dbil",
    "alb", "d_dimer",
    "chemo_full_course", "chemo_neoadjuvant_only", "chemo_adjuvant_only", "chemo_group",
    "asa", "primary_node_positive", "metastasis_timing", "disease_free_interval_months",
    "n_liver_metastases", "largest_metastasis_cm",
    "kras", "primary_site", "laparoscopic",
    "os_months", "os_event", "rfs_months", "rfs_event",
]

MISSING_PREDICTOR_PREFIX = "missing predictor: "
FORMATS = ("dates", "times")
MISSING_POLICIES = ("complete_case", "error")

_PER_CHECK_LIMIT = 1000


def raw_spec(format: str = "dates") -> dict[str, dict]:
    """The raw column contract of a layout (``"dates"`` or ``"times"``)."""
    if format == "dates":
        return dict(RAW_COLUMNS)
    if format == "times":
        spec = {c: s for c, s in RAW_COLUMNS.items() if s["dtype"] != "date"}
        spec.update(TIME_COLUMNS)
        return spec
    raise ValueError(f"format must be one of {FORMATS}, got {format!r}")


@dataclass
class CleanResult:
    """cohort: one row per included patient, columns :data:`CLEAN_COLUMNS`;
    exclusions: columns ``patient_id``, ``reason`` (input order);
    flow: ``{"read": n, "excluded": {reason: count}, "included": m}``."""

    cohort: pd.DataFrame
    exclusions: pd.DataFrame
    flow: dict


# --------------------------------------------------------------------------- validation


class _Collector:
    def __init__(self):
        self.problems: list[Problem] = []
        self.total = 0

    def add(self, problems: Sequence[Problem], n: int | None = None):
        self.problems.extend(problems)
        self.total += len(problems) if n is None else n

    def raise_if_any(self):
        if self.total:
            order = sorted(range(len(self.problems)),
                           key=lambda i: (self.problems[i].row is not None, self.problems[i].row or 0, i))
            raise InputError([self.problems[i] for i in order], total=self.total)


def _fmt_num(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def _is_blank(s: pd.Series) -> pd.Series:
    """Missing cells: NA or the empty string (read_table already strips cells)."""
    miss = s.isna()
    if s.dtype == object:
        miss = miss | s.eq("")
    return miss.astype(bool)


def _to_float(x: pd.Series, present: pd.Series) -> pd.Series:
    """Text -> float64 (NaN where missing or unparseable); fast path for clean columns."""
    values = x.where(present, "nan").tolist()
    try:
        arr = np.fromiter(map(float, values), dtype=np.float64, count=len(values))
        return pd.Series(arr, index=x.index).where(present)
    except (ValueError, TypeError):
        return pd.to_numeric(x.where(present), errors="coerce").astype("float64")


def _as_text(x: pd.Series, present: pd.Series) -> pd.Series:
    """Present cells as ``str`` (object dtype), NA elsewhere."""
    txt = x.astype(object).where(present)
    if pd.api.types.infer_dtype(txt, skipna=True) not in ("string", "empty"):
        txt = txt.map(lambda v: str(v).strip(), na_action="ignore")
    return txt


def _iso_date_shape(txt: pd.Series, present: pd.Series) -> pd.Series:
    """True where the text is exactly ``DDDD-DD-DD`` (D a digit), vectorised."""
    arr = np.asarray(txt.where(present, "").tolist(), dtype="U")
    if arr.dtype.itemsize // 4 < 10:
        return pd.Series(False, index=txt.index)
    ok = np.strings.str_len(arr) == 10
    chars = arr.astype("U10").view("U1").reshape(-1, 10)
    for j in (0, 1, 2, 3, 5, 6, 8, 9):
        ok &= np.strings.isdigit(chars[:, j])
    ok &= (chars[:, 4] == "-") & (chars[:, 7] == "-")
    return pd.Series(ok, index=txt.index) & present


def _parse(df: pd.DataFrame, source: str, format: str, followup_cutoff=None) -> tuple[pd.DataFrame, _Collector]:
    """Typed copy of the known columns of ``df`` plus every validation problem."""
    spec = raw_spec(format)
    col = _Collector()
    missing = [c for c, s in spec.items() if s["required"] and c not in df.columns]
    if missing:
        col.add([Problem(source, None, None, None,
                         f"missing required column{'s' if len(missing) > 1 else ''} "
                         + ", ".join(f"'{c}'" for c in missing)
                         + f" (expected the columns of the {format!r} data dictionary; "
                           "map local names with the column mapping)")])
    typed = pd.DataFrame(index=df.index)
    ids = df["patient_id"] if "patient_id" in df.columns else None

    def add(mask, column, expected, values=None):
        probs, n = problems_from_mask(df, mask, file=source, column=column, expected=expected,
                                      values=values, ids=ids, limit=_PER_CHECK_LIMIT)
        col.add(probs, n)

    for c, s in spec.items():
        if c not in df.columns:
            continue
        x = df[c]
        blank = _is_blank(x)
        present = ~blank
        dtype = s["dtype"]
        unit = f" {s['unit']}" if s.get("unit") else ""
        if dtype == "str":
            txt = _as_text(x, present)
            typed[c] = txt
            if c == "patient_id":
                add(blank, c, "a patient identifier (the cell is empty)")
                dup = present & txt.duplicated(keep=False)
                if dup.any():
                    rows = file_rows(df)
                    where: dict[str, list[int]] = {}
                    for r, v in zip(rows[dup.to_numpy()], txt[dup]):
                        where.setdefault(v, []).append(int(r))
                    word = "row" if source.lower().endswith((".xlsx", ".xlsm")) else "line"
                    flagged = txt[dup]
                    rows_dup = rows[dup.to_numpy()]
                    exps = [f"a unique patient_id (the same identifier is on {word} "
                            + ", ".join(str(o) for o in where[v] if o != r) + ")"
                            for v, r in zip(flagged.iloc[:_PER_CHECK_LIMIT], rows_dup[:_PER_CHECK_LIMIT])]
                    add(dup, c, exps)
        elif dtype in ("float", "int", "binary"):
            if pd.api.types.is_numeric_dtype(x.dtype) and not pd.api.types.is_bool_dtype(x.dtype):
                num = x.astype("float64")
            else:
                num = _to_float(x, present)
            bad = present & ~np.isfinite(num)
            if bad.any():
                if dtype == "binary":
                    add(bad, c, "0 or 1")
                else:
                    vals = x[bad].iloc[:_PER_CHECK_LIMIT].astype(str)
                    comma = vals.str.fullmatch(r"[-+]?\d+,\d+").fillna(False).to_numpy(dtype=bool)
                    exps = np.where(comma, "a number (use '.' as the decimal point)",
                                    "a whole number" if dtype == "int" else "a number")
                    add(bad, c, list(exps))
            ok = present & ~bad
            if dtype == "binary":
                wrong = ok & ~num.isin([0.0, 1.0])
                add(wrong, c, "0 or 1")
            else:
                wrong = pd.Series(False, index=df.index)
                if dtype == "int":
                    frac = ok & (num != np.round(num))
                    add(frac, c, "a whole number")
                    wrong |= frac
                    ok2 = ok & ~frac
                else:
                    ok2 = ok
                if "levels" in s:
                    lv = [float(v) for v in s["levels"]]
                    out = ok2 & ~num.isin(lv)
                    add(out, c, "one of " + ", ".join(_fmt_num(v) for v in lv))
                    wrong |= out
                if "range" in s:
                    lo, hi = s["range"]
                    if s.get("positive"):
                        out = ok2 & ~((num > 0) & (num <= hi))
                        add(out, c, f"a positive number (> 0 and <= {_fmt_num(hi)}{unit}); "
                                    "a survival time must be greater than zero")
                    else:
                        out = ok2 & ~((num >= lo) & (num <= hi))
                        add(out, c, f"a number between {_fmt_num(lo)} and {_fmt_num(hi)}{unit}")
                    wrong |= out
            typed[c] = num.where(present & ~bad)
        elif dtype == "category":
            levels = [str(v) for v in s["levels"]]
            txt = _as_text(x, present)
            wrong = present & ~txt.isin(levels)
            add(wrong, c, "one of " + ", ".join(f"'{v}'" for v in levels) + " (case-sensitive)")
            typed[c] = txt.where(present)
        elif dtype == "date":
            if pd.api.types.is_datetime64_any_dtype(x.dtype):
                d = pd.to_datetime(x).dt.normalize()
                typed[c] = d
                continue
            txt = _as_text(x, present)
            shape_ok = _iso_date_shape(txt, present)
            d = pd.to_datetime(txt.where(shape_ok), format="%Y-%m-%d", errors="coerce")
            add(present & ~shape_ok, c, "a date written as YYYY-MM-DD (e.g. 2019-03-27)")
            add(present & shape_ok & d.isna(), c, "a real calendar date written as YYYY-MM-DD")
            typed[c] = d
        else:  # pragma: no cover - contract error
            raise ValueError(f"unknown dtype {dtype!r} for column {c!r}")

    # ---- cross-column checks
    def order(later: str, earlier: str, strict: bool, column: str, text: str):
        if later not in typed or earlier not in typed:
            return
        a, b = typed[later], typed[earlier]
        both = a.notna() & b.notna()
        bad = both & ((a <= b) if strict else (a < b))
        if not bad.any():
            return
        other = earlier if column == later else later
        ref = typed[other][bad].iloc[:_PER_CHECK_LIMIT]
        exps = [text.format(other=other, date=v.strftime("%Y-%m-%d")) for v in ref]
        add(bad, column, exps, values=typed[column].dt.strftime("%Y-%m-%d"))

    if format == "dates":
        order("surgery_date", "admission_date", False, "admission_date", "a date on or before {other} ({date})")
        order("discharge_date", "surgery_date", False, "discharge_date", "a date on or after {other} ({date})")
        for c in ("recurrence_date", "death_date", "last_followup_date"):
            order(c, "surgery_date", True, c,
                  "a date after {other} ({date}); times are counted from surgery and must be positive")
        order("death_date", "recurrence_date", False, "recurrence_date", "a date on or before {other} ({date})")
        order("last_followup_date", "recurrence_date", False, "recurrence_date",
              "a date on or before {other} ({date})")
        order("last_followup_date", "death_date", False, "death_date",
              "a date on or before {other} ({date}); the last follow-up of a patient who died is "
              "the date of death or later")
        if followup_cutoff is not None and "surgery_date" in typed:
            cut = pd.Timestamp(followup_cutoff)
            bad = typed["surgery_date"].notna() & (typed["surgery_date"] >= cut)
            add(bad, "surgery_date", f"a date before the follow-up cutoff ({cut:%Y-%m-%d})",
                values=typed["surgery_date"].dt.strftime("%Y-%m-%d"))
    else:
        if "rfs_months" in typed and "os_months" in typed:
            a, b = typed["rfs_months"], typed["os_months"]
            bad = a.notna() & b.notna() & (a > b + 1e-9)
            if bad.any():
                exps = [f"at most os_months ({_fmt_num(v)}); recurrence-free survival cannot exceed overall survival"
                        for v in b[bad].iloc[:_PER_CHECK_LIMIT]]
                add(bad, "rfs_months", exps)
    return typed, col


def validate_raw(df: pd.DataFrame, source: str = "cohort.csv", *, format: str = "dates",
                 followup_cutoff: "str | None" = None) -> None:
    """Raise one :class:`InputError` listing every problem of ``df`` (see module docstring)."""
    _, col = _parse(df, source, format, followup_cutoff)
    col.raise_if_any()


# --------------------------------------------------------------------------- cleaning


def _candidate_names(candidates) -> list[str]:
    out = []
    for c in candidates or []:
        out.append(c["name"] if isinstance(c, dict) else str(c))
    return out


def clean(
    raw: pd.DataFrame,
    *,
    format: str = "dates",
    followup_cutoff: "str | None" = None,
    death_censors_rfs: bool = True,
    source: "str | None" = None,
    column_mapping: "dict[str, str] | None" = None,
    candidates: "Iterable[str | dict] | None" = None,
    missing_predictors: str = "complete_case",
) -> CleanResult:
    """Validate ``raw``, apply eligibility and derive the analysis variables.

    ``raw``: as read by :func:`crlmflow.data.io.read_table` (text) or already typed.
    ``candidates``: candidate predictor names (or the config's candidate dicts with a
    ``"name"``) for the missing-value policy; names that :func:`crlmflow.data.indices.derive_indices`
    computes from required columns (nlr, crs_score, ...) need no check.
    ``missing_predictors``: ``"complete_case"`` (exclude, reason ``"missing predictor: <name>"``)
    or ``"error"`` (raise an InputError listing the patients).
    """
    from crlmflow.data.indices import DERIVED_COLUMNS

    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if missing_predictors not in MISSING_POLICIES:
        raise ValueError(f"missing_predictors must be one of {MISSING_POLICIES}, got {missing_predictors!r}")
    source = source or raw.attrs.get("source") or "cohort.csv"
    df = apply_column_mapping(raw, column_mapping, source) if column_mapping else raw
    if format == "times" and followup_cutoff is not None:
        warnings.warn("followup_cutoff is ignored for the 'times' format (no dates to censor)", stacklevel=2)
        followup_cutoff = None

    typed, col = _parse(df, source, format, followup_cutoff)
    col.raise_if_any()
    n = len(typed)
    spec = raw_spec(format)

    reason = pd.Series([None] * n, index=typed.index, dtype=object)

    def exclude(mask: pd.Series, why: str):
        m = mask.fillna(False).astype(bool) & reason.isna()
        reason[m] = why

    exclude(typed["metastasis_timing"] == "metachronous", EXCLUSION_REASONS[0])
    exclude(typed["extrahepatic_metastases"] == 1, EXCLUSION_REASONS[1])
    exclude(typed["ned_achieved"] == 0, EXCLUSION_REASONS[2])
    exclude(typed["chemotherapy"] == "none", EXCLUSION_REASONS[3])
    required = [c for c, s in spec.items() if s["required"]]
    exclude(typed[required].isna().any(axis=1), EXCLUSION_REASONS[4])

    cohort = _derive(typed, format, followup_cutoff, death_censors_rfs)

    # ---- missing-value policy for candidate predictors
    names = _candidate_names(candidates)
    unknown = [c for c in names if c not in cohort.columns and c not in DERIVED_COLUMNS]
    if unknown:
        raise ValueError("unknown candidate predictor(s) " + ", ".join(repr(c) for c in unknown)
                         + "; expected columns of the cleaned cohort or of derive_indices")
    predictor_reasons: list[str] = []
    errs = _Collector()
    for c in names:
        if c not in cohort.columns:
            continue
        miss = cohort[c].isna() & reason.isna()
        if not miss.any():
            continue
        if missing_predictors == "error":
            probs, k = problems_from_mask(
                df, miss, file=source, column=c, ids=typed["patient_id"],
                expected=(f"a value: '{c}' is a candidate predictor and missing_predictors is 'error' "
                          "(use 'complete_case' to exclude such patients)"),
                values=pd.Series("", index=df.index), limit=_PER_CHECK_LIMIT)
            errs.add(probs, k)
        else:
            why = MISSING_PREDICTOR_PREFIX + c
            predictor_reasons.append(why)
            exclude(miss, why)
    errs.raise_if_any()

    included, exclusions, flow = account_exclusions(
        typed["patient_id"], reason, [*EXCLUSION_REASONS, *predictor_reasons], source,
        "eligible patient (check the eligibility columns and the column mapping)")
    cohort = cohort.loc[included].reset_index(drop=True)
    return CleanResult(cohort=cohort, exclusions=exclusions, flow=flow)


def account_exclusions(ids: pd.Series, reason: pd.Series, reasons: Sequence[str], source: str,
                       expected: str) -> tuple[pd.Series, pd.DataFrame, dict]:
    """Row accounting: (included mask, exclusion list, flow) with read = included + excluded.

    ``reason`` holds each patient's first exclusion reason (None = included); every reason
    in ``reasons`` is counted, zero counts included. Raises if nobody is left.
    """
    included = reason.isna()
    counts = reason.value_counts()
    excluded = {r: int(counts.get(r, 0)) for r in reasons}
    n = int(len(reason))
    flow = {"read": n, "excluded": excluded, "included": int(included.sum())}
    assert flow["read"] == flow["included"] + sum(excluded.values()), flow
    if flow["included"] == 0:
        parts = ", ".join(f"{r}: {k}" for r, k in excluded.items() if k)
        raise InputError(Problem(source, None, None, None,
                                 f"all {n} patients were excluded ({parts}); expected at least one {expected}"))
    exclusions = pd.DataFrame({"patient_id": ids[~included].to_numpy(), "reason": reason[~included].to_numpy()})
    return included, exclusions, flow


def clean_times(raw: pd.DataFrame, **kwargs) -> CleanResult:
    """:func:`clean` for the ``times`` layout (os/rfs months and events instead of dates)."""
    return clean(raw, format="times", **kwargs)


def _int_col(s: pd.Series) -> pd.Series:
    """0/1 or whole-number floats -> int64, or nullable Int64 if any value is missing."""
    if s.isna().any():
        return s.round().astype("Int64")
    return s.round().astype("int64")


def _derive(t: pd.DataFrame, format: str, followup_cutoff, death_censors_rfs: bool) -> pd.DataFrame:
    out = pd.DataFrame(index=t.index)
    out["patient_id"] = t["patient_id"].astype(object)
    out["male"] = _int_col((t["sex"] == "M").astype(float).where(t["sex"].notna()))
    for c in ("age", "bmi"):
        out[c] = t[c]
    if format == "dates":
        out["hospital_days"] = _days(t["discharge_date"] - t["admission_date"])
    else:
        out["hospital_days"] = t["hospital_days"] if "hospital_days" in t else np.nan
    for c in ("r0_resection", "rfa"):
        out[c] = _int_col(t[c])
    for c in ("ca19_9", "cea", "wbc", "neut", "lymph", "hgb", "plt", "alt", "ast", "tbil", "dbil",
              "alb", "d_dimer"):
        out[c] = t[c]
    chemo = t["chemotherapy"]
    for level in ("full_course", "neoadjuvant_only", "adjuvant_only"):
        out[f"chemo_{level}"] = _int_col((chemo == level).astype(float).where(chemo.notna()))
    out["chemo_group"] = chemo.astype(object)
    out["asa"] = _int_col(t["asa"])
    out["primary_node_positive"] = _int_col(t["primary_node_positive"])
    out["metastasis_timing"] = t["metastasis_timing"].astype(object)
    out["disease_free_interval_months"] = t["disease_free_interval_months"]
    out["n_liver_metastases"] = _int_col(t["n_liver_metastases"])
    out["largest_metastasis_cm"] = t["largest_metastasis_cm"]
    for c in ("kras", "primary_site"):
        out[c] = t[c].astype(object) if c in t else pd.Series(pd.NA, index=t.index, dtype=object)
    out["laparoscopic"] = (_int_col(t["laparoscopic"]) if "laparoscopic" in t
                           else pd.Series(pd.NA, index=t.index, dtype="Int64"))

    if format == "dates":
        surgery = t["surgery_date"]
        death = t["death_date"] if "death_date" in t else pd.Series(pd.NaT, index=t.index)
        rec = t["recurrence_date"] if "recurrence_date" in t else pd.Series(pd.NaT, index=t.index)
        lfu = t["last_followup_date"]
        if followup_cutoff is not None:
            cut = pd.Timestamp(followup_cutoff)
            death = death.where(death <= cut)
            rec = rec.where(rec <= cut)
            lfu = lfu.where(lfu.isna() | (lfu <= cut), cut)
        os_end = death.where(death.notna(), lfu)
        os_event = death.notna()
        rfs_end = rec.where(rec.notna(), death.where(death.notna(), lfu))
        rfs_event = rec.notna() if death_censors_rfs else (rec.notna() | death.notna())
        known_os = surgery.notna() & lfu.notna()
        out["os_months"] = _days(os_end - surgery) / DAYS_PER_MONTH
        out["os_event"] = _int_col(os_event.astype(float).where(known_os))
        out["rfs_months"] = _days(rfs_end - surgery) / DAYS_PER_MONTH
        out["rfs_event"] = _int_col(rfs_event.astype(float).where(known_os))
    else:
        out["os_months"] = t["os_months"]
        out["os_event"] = _int_col(t["os_event"])
        out["rfs_months"] = t["rfs_months"]
        out["rfs_event"] = _int_col(t["rfs_event"])
    for c in ("age", "bmi", "hospital_days", "os_months", "rfs_months"):
        out[c] = out[c].astype("float64")
    return out[CLEAN_COLUMNS]


def _days(delta: pd.Series) -> pd.Series:
    return (delta / pd.Timedelta(days=1)).astype("float64")
