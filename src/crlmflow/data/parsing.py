"""Typing and validation of a raw CRLM export against the column contract.

:func:`parse_raw` turns the text cells of the ``dates`` or ``times`` layout (see
:mod:`crlmflow.data.cleaning`) into typed columns and collects every problem; the caller
raises them as one :class:`~crlmflow.data.errors.InputError` (50 lines, then a count of
the rest). The checks:

* a required column absent from the file (one problem listing all absent columns, naming
  any unknown column that looks like a misspelling of one); a required column present but
  empty in every row;
* missing cells: blank, or a configured missing-value code (:mod:`crlmflow.data.missing`;
  a code that is an allowed level of the column is the level);
* types: numbers parse (finite; a thousands separator is reported as such, never with a
  hint that would change the value), ``int`` columns are whole numbers, ``binary`` is
  0/1, ``category`` is one of its levels (case-insensitive; recoded to the dictionary's
  spelling and counted), dates are ISO ``YYYY-MM-DD``, exist in the calendar and lie on or
  before the data freeze (``freeze_date``, else today: a year typo must not become
  decades of follow-up);
* plausible ranges (inclusive, from the column contract); survival times (``times``) > 0;
* ``patient_id`` present and unique (every row of a duplicate is reported);
* date order (``dates``), checked whenever both dates are present: admission <= surgery
  <= discharge; surgery < recurrence, death, last follow-up; recurrence <= death;
  recurrence <= last follow-up; death <= last follow-up; surgery before
  ``followup_cutoff`` when one is given; ``times``: rfs_months <= os_months.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crlmflow.data.columns import ANALYSIS_COLUMNS, RAW_COLUMNS
from crlmflow.data.errors import InputError, Problem, file_rows, problems_from_mask
from crlmflow.data.missing import DEFAULT_MISSING_CODES, code_mask, codes_for, is_blank
from crlmflow.data.quality import QualityLog

#: The survival columns of the ``times`` layout (replacing the six date columns).
TIME_COLUMNS: dict[str, dict] = {
    "os_months": dict(
        dtype="float", unit="months", range=(0, 1200), positive=True, required=True, role="OS time from surgery"
    ),
    "os_event": dict(dtype="binary", unit="", required=True, role="1 = died"),
    "rfs_months": dict(
        dtype="float", unit="months", range=(0, 1200), positive=True, required=True, role="RFS time from surgery"
    ),
    "rfs_event": dict(dtype="binary", unit="", required=True, role="1 = recurrence (or death)"),
    "hospital_days": dict(dtype="float", unit="days", range=(0, 1000), required=False, role="candidate"),
}

DATE_COLUMNS: list[str] = [c for c, s in RAW_COLUMNS.items() if s["dtype"] == "date"]
FORMATS = ("dates", "times")
PER_CHECK_LIMIT = 1000


def _generic_hint(columns: Sequence[str], spec: dict) -> str:
    """A file that already holds derived analysis columns (nlr, crs_score, ...) is an
    analysis-ready table, not the raw CRLM layout: point to the generic layout."""
    derived = [c for c in columns if c in ANALYSIS_COLUMNS and c not in RAW_COLUMNS and c not in spec]
    if not derived:
        return ""
    return (
        f". The file already holds derived columns ({', '.join(derived[:5])}"
        + (", ..." if len(derived) > 5 else "")
        + "): for an analysis-ready table use 'format: generic', which checks only the configured "
        "endpoints and candidates (see config/colon.yaml)"
    )


def raw_spec(format: str = "dates") -> dict[str, dict]:
    """The raw column contract of a layout (``"dates"`` or ``"times"``)."""
    if format == "dates":
        return dict(RAW_COLUMNS)
    if format == "times":
        spec = {c: s for c, s in RAW_COLUMNS.items() if s["dtype"] != "date"}
        spec.update(TIME_COLUMNS)
        return spec
    raise ValueError(f"format must be one of {FORMATS}, got {format!r}")


class Collector:
    """Problems of a file, with the total count when only the first ones are kept."""

    def __init__(self):
        self.problems: list[Problem] = []
        self.total = 0

    def add(self, problems: Sequence[Problem], n: int | None = None):
        self.problems.extend(problems)
        self.total += len(problems) if n is None else n

    def raise_if_any(self):
        if self.total:
            order = sorted(
                range(len(self.problems)),
                key=lambda i: (self.problems[i].row is not None, self.problems[i].row or 0, i),
            )
            raise InputError([self.problems[i] for i in order], total=self.total)


def fmt_num(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def number_hint(text: str, dtype: str) -> str:
    """What a non-numeric cell should be, without suggesting a fix that changes its value.

    ``2,113`` may be 2113 (thousands separator) or 2.113 (decimal comma): the message says
    both, so the user decides; ``1,5`` can only be a decimal comma.
    """
    import re

    t = str(text).strip()
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", t):
        plain = t.replace(",", "")
        return (
            f"a number without ',' ('{t}' is ambiguous: {plain} with a thousands separator, or "
            f"{t.replace(',', '.', 1) if t.count(',') == 1 else 'a decimal comma'}; write the number "
            "as meant, without thousands separators and with '.' as the decimal point)"
        )
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+\.\d+", t):
        return f"a number without thousands separators (write {t.replace(',', '')})"
    if re.fullmatch(r"[-+]?\d+,\d+", t):
        return "a number (use '.' as the decimal point)"
    return "a whole number" if dtype == "int" else "a number"


def _to_float(x: pd.Series, present: pd.Series) -> pd.Series:
    """Text -> float64 (NaN where missing or unparseable); fast path for clean columns."""
    values = x.where(present, "nan").tolist()
    try:
        arr = np.fromiter(map(float, values), dtype=np.float64, count=len(values))
        return pd.Series(arr, index=x.index).where(present)
    except (ValueError, TypeError):
        return pd.to_numeric(x.where(present), errors="coerce").astype("float64")


def _as_text(x: pd.Series, present: pd.Series) -> pd.Series:
    """Present cells as ``str`` (object dtype), NA elsewhere (read_table already strips text)."""
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


def parse_raw(
    df: pd.DataFrame,
    source: str,
    format: str,
    followup_cutoff=None,
    *,
    missing_codes=DEFAULT_MISSING_CODES,
    freeze_date=None,
    quality: QualityLog | None = None,
) -> tuple[pd.DataFrame, Collector]:
    """Typed copy of the known columns of ``df`` plus every validation problem.

    ``missing_codes``: cells read as missing (see :mod:`crlmflow.data.missing`);
    ``freeze_date``: ISO date no date may lie after (``None`` = today);
    ``quality``: receives the counts of the data-quality report.
    """
    from crlmflow.data.events import lookalike_hint

    spec = raw_spec(format)
    quality = quality if quality is not None else QualityLog()
    col = Collector()
    missing = [c for c, s in spec.items() if s["required"] and c not in df.columns]
    if missing:
        col.add(
            [
                Problem(
                    source,
                    None,
                    None,
                    None,
                    f"missing required column{'s' if len(missing) > 1 else ''} "
                    + ", ".join(f"'{c}'" for c in missing)
                    + f" (expected the columns of the {format!r} data dictionary; "
                    "map local names with the column mapping)"
                    + lookalike_hint(missing, df.columns, spec)
                    + _generic_hint(df.columns, spec),
                )
            ]
        )
    typed = pd.DataFrame(index=df.index)
    ids = df["patient_id"] if "patient_id" in df.columns else None
    n_rows = len(df)
    freeze = pd.Timestamp(freeze_date) if freeze_date else pd.Timestamp.today().normalize()
    freeze_text = (
        f"the data freeze ({freeze:%Y-%m-%d}, data.file.freeze_date)"
        if freeze_date
        else f"today ({freeze:%Y-%m-%d}); set data.file.freeze_date to the date of the export"
    )

    def add(mask, column, expected, values=None):
        probs, n = problems_from_mask(
            df, mask, file=source, column=column, expected=expected, values=values, ids=ids, limit=PER_CHECK_LIMIT
        )
        col.add(probs, n)

    for c, s in spec.items():
        if c not in df.columns:
            continue
        x = df[c]
        blank = is_blank(x)
        coded = code_mask(x, codes_for(missing_codes, s.get("levels"))) & ~blank
        present = ~(blank | coded)
        quality.count(c, "present", present.sum())
        quality.count(c, "missing", blank.sum())
        quality.count(c, "missing_code", coded.sum())
        if s["required"] and n_rows and not present.any():
            col.add(
                [
                    Problem(
                        source,
                        None,
                        c,
                        None,
                        f"column '{c}' is empty in all {n_rows} rows; expected values (a required "
                        "column of the data dictionary: check the export and the column mapping)",
                    )
                ]
            )
        dtype = s["dtype"]
        unit = f" {s['unit']}" if s.get("unit") else ""
        if dtype == "str":
            txt = _as_text(x, present)
            typed[c] = txt
            if c == "patient_id":
                add(~present, c, "a patient identifier (the cell is empty or a missing-value code)")
                dup = present & txt.duplicated(keep=False)
                if dup.any():
                    rows = file_rows(df)
                    where: dict[str, list[int]] = {}
                    for r, v in zip(rows[dup.to_numpy()], txt[dup]):
                        where.setdefault(v, []).append(int(r))
                    word = "row" if source.lower().endswith((".xlsx", ".xlsm")) else "line"
                    exps = [
                        f"a unique patient_id (the same identifier is on {word} "
                        + ", ".join(str(o) for o in where[v] if o != r)
                        + ")"
                        for v, r in zip(txt[dup].iloc[:PER_CHECK_LIMIT], rows[dup.to_numpy()][:PER_CHECK_LIMIT])
                    ]
                    add(dup, c, exps)
        elif dtype in ("float", "int", "binary"):
            if pd.api.types.is_numeric_dtype(x.dtype) and not pd.api.types.is_bool_dtype(x.dtype):
                num = x.astype("float64").where(present)
            else:
                num = _to_float(x, present)
            bad = present & ~np.isfinite(num)
            if bad.any():
                if dtype == "binary":
                    add(bad, c, "0 or 1")
                else:
                    vals = x[bad].iloc[:PER_CHECK_LIMIT].astype(str)
                    add(bad, c, [number_hint(v, dtype) for v in vals])
            ok = present & ~bad
            if dtype == "binary":
                add(ok & ~num.isin([0.0, 1.0]), c, "0 or 1")
            else:
                if dtype == "int":
                    frac = ok & (num != np.round(num))
                    add(frac, c, "a whole number")
                    ok = ok & ~frac
                if "levels" in s:
                    lv = [float(v) for v in s["levels"]]
                    add(ok & ~num.isin(lv), c, "one of " + ", ".join(fmt_num(v) for v in lv))
                if "range" in s:
                    lo, hi = s["range"]
                    if s.get("positive"):
                        add(
                            ok & ~((num > 0) & (num <= hi)),
                            c,
                            f"a positive number (> 0 and <= {fmt_num(hi)}{unit}); "
                            "a survival time must be greater than zero",
                        )
                    else:
                        add(
                            ok & ~((num >= lo) & (num <= hi)),
                            c,
                            f"a number between {fmt_num(lo)} and {fmt_num(hi)}{unit}",
                        )
            typed[c] = num.where(present & ~bad)
        elif dtype == "category":
            levels = [str(v) for v in s["levels"]]
            canon = {v.casefold(): v for v in levels}
            txt = _as_text(x, present)
            mapped = txt.map(lambda v, canon=canon: canon.get(v.casefold()), na_action="ignore")
            wrong = present & mapped.isna()
            add(wrong, c, "one of " + ", ".join(f"'{v}'" for v in levels) + " (case-insensitive)")
            quality.count(c, "recoded", (present & mapped.notna() & (mapped != txt)).sum())
            typed[c] = mapped.where(present)
        elif dtype == "date":
            if pd.api.types.is_datetime64_any_dtype(x.dtype):
                d = pd.to_datetime(x).dt.normalize().where(present)
            else:
                txt = _as_text(x, present)
                shape_ok = _iso_date_shape(txt, present)
                d = pd.to_datetime(txt.where(shape_ok), format="%Y-%m-%d", errors="coerce")
                add(present & ~shape_ok, c, "a date written as YYYY-MM-DD (e.g. 2019-03-27)")
                add(present & shape_ok & d.isna(), c, "a real calendar date written as YYYY-MM-DD")
            add(d.notna() & (d > freeze), c, f"a date on or before {freeze_text} (a year typo?)")
            typed[c] = d
        else:  # pragma: no cover - contract error
            raise ValueError(f"unknown dtype {dtype!r} for column {c!r}")

    _cross_checks(typed, format, followup_cutoff, add)
    return typed, col


def _cross_checks(typed: pd.DataFrame, format: str, followup_cutoff, add) -> None:
    """Date order (``dates``) or rfs <= os (``times``), on the rows where both are present."""

    def order(later: str, earlier: str, strict: bool, column: str, text: str):
        if later not in typed or earlier not in typed:
            return
        a, b = typed[later], typed[earlier]
        bad = a.notna() & b.notna() & ((a <= b) if strict else (a < b))
        if not bad.any():
            return
        other = earlier if column == later else later
        exps = [text.format(other=other, date=v.strftime("%Y-%m-%d")) for v in typed[other][bad].iloc[:PER_CHECK_LIMIT]]
        add(bad, column, exps, values=typed[column].dt.strftime("%Y-%m-%d"))

    if format == "dates":
        order("surgery_date", "admission_date", False, "admission_date", "a date on or before {other} ({date})")
        order("discharge_date", "surgery_date", False, "discharge_date", "a date on or after {other} ({date})")
        for c in ("recurrence_date", "death_date", "last_followup_date"):
            order(
                c,
                "surgery_date",
                True,
                c,
                "a date after {other} ({date}); times are counted from surgery and must be positive",
            )
        order("death_date", "recurrence_date", False, "recurrence_date", "a date on or before {other} ({date})")
        order("last_followup_date", "recurrence_date", False, "recurrence_date", "a date on or before {other} ({date})")
        order(
            "last_followup_date",
            "death_date",
            False,
            "death_date",
            "a date on or before {other} ({date}); the last follow-up of a patient who died is "
            "the date of death or later",
        )
        if followup_cutoff is not None and "surgery_date" in typed:
            cut = pd.Timestamp(followup_cutoff)
            bad = typed["surgery_date"].notna() & (typed["surgery_date"] >= cut)
            add(
                bad,
                "surgery_date",
                f"a date before the follow-up cutoff ({cut:%Y-%m-%d})",
                values=typed["surgery_date"].dt.strftime("%Y-%m-%d"),
            )
    elif "rfs_months" in typed and "os_months" in typed:
        a, b = typed["rfs_months"], typed["os_months"]
        bad = a.notna() & b.notna() & (a > b + 1e-9)
        if bad.any():
            add(
                bad,
                "rfs_months",
                [
                    f"at most os_months ({fmt_num(v)}); recurrence-free survival cannot exceed overall survival"
                    for v in b[bad].iloc[:PER_CHECK_LIMIT]
                ],
            )
