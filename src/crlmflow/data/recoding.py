"""Recoding a cohort's values in the config, before validation.

Two cohorts rarely code a predictor alike: one centre writes grade ``G1``/``G2``/``G3``
where the development cohort has ``1``/``2``/``3``; another records tumour size in mm where
the development cohort has categories. Recoding in the config (``data.file.recode``,
``external.file.recode``; ``bins`` for numbers) keeps the source file untouched and the
transformation documented beside the analysis:

* ``recode: {column: {value in the file: value for the analysis}}`` — a value map. Cells
  match as text after stripping white space, case-insensitively; numbers also by value
  (``1`` matches ``1.0``). Values not in the map are left as they are (and then validated
  as usual, so an unmapped unknown category is still reported).
* ``bins: {column: {breaks: [b1, ..., bk], labels: [l0, ..., lk]}}`` — a number becomes the
  label of its interval: ``l0`` below ``b1``, ``lj`` for ``bj <= x < b(j+1)``, ``lk`` from
  ``bk`` on (left-closed intervals, as "3 to < 5 cm" reads; ``right: true`` makes them
  right-closed, ``bj < x <= b(j+1)``). A cell that is not a number is an input error
  naming its row; a missing cell stays missing.

Both apply after the column mapping and the unit conversion (so ``column`` is the canonical
name and a binned number is in the canonical unit), recode first, then bins. The number of
cells changed per column is kept in ``attrs["recoded_cells"]`` for the data-quality report.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crlmflow.data.errors import InputError, Problem, problems_from_mask

__all__ = ["apply_recoding", "check_recoding"]


def check_recoding(recode: Mapping | None, bins: Mapping | None, key: str) -> None:
    """Config errors of ``recode``/``bins`` (``key``: e.g. ``external.file``), before reading."""
    problems = []
    for col, spec in (bins or {}).items():
        breaks, labels = list(spec.get("breaks") or []), list(spec.get("labels") or [])
        where = f"{key}.bins.{col}"
        if not breaks or any(not isinstance(b, int | float) or isinstance(b, bool) for b in breaks):
            problems.append(f"{where}.breaks must be a non-empty list of numbers, got {breaks!r}")
        elif any(b >= a for b, a in zip(breaks, breaks[1:], strict=False)) or sorted(breaks) != breaks:
            problems.append(f"{where}.breaks must increase strictly, got {breaks!r}")
        if len(labels) != len(breaks) + 1:
            problems.append(
                f"{where}.labels must have one label more than there are breaks ({len(breaks) + 1}), "
                f"got {len(labels)}: {labels!r}"
            )
    for col, mapping in (recode or {}).items():
        flags = [k for k in (mapping or {}) if isinstance(k, bool)]
        if flags:
            # YAML 1.1 reads a bare yes/no/on/off/true/false as a boolean: the key would
            # never match the file's text
            problems.append(
                f"{key}.recode.{col}: key {flags[0]!r} is a YAML boolean (a bare yes, no, on, off, true or "
                f'false); quote the file\'s value, e.g. "yes": 1'
            )
    for col in sorted(set(recode or {}) & set(bins or {})):
        problems.append(f"{key}.recode and {key}.bins both name column '{col}'; keep one")
    if problems:
        raise InputError([Problem(None, None, None, None, p) for p in problems])


def _norm(v) -> str:
    return str(v).strip().casefold()


def _as_number(v) -> float | None:
    try:
        return float(str(v).strip())
    except ValueError:
        return None


def apply_recoding(
    df: pd.DataFrame, recode: Mapping | None, bins: Mapping | None, source: str | None, key: str = "data.file"
) -> pd.DataFrame:
    """Apply the config's value maps and bins (module docstring); returns a copy."""
    check_recoding(recode, bins, key)
    if not recode and not bins:
        return df
    out = df.copy()
    counts = dict(df.attrs.get("recoded_cells") or {})
    problems = []
    for col in [*(recode or {}), *(bins or {})]:
        if col not in out.columns:
            problems.append(
                Problem(
                    source,
                    None,
                    col,
                    None,
                    f"{key}.recode or .bins names column '{col}', but the table has no such column (after the column "
                    f"mapping); expected one of: " + ", ".join(repr(c) for c in out.columns),
                )
            )
    if problems:
        raise InputError(problems)
    for col, mapping in (recode or {}).items():
        by_text = {_norm(k): v for k, v in mapping.items()}
        by_number = {n: v for k, v in mapping.items() if (n := _as_number(k)) is not None}
        cells = out[col]
        new = []
        changed = 0
        for v in cells:
            if v is None or (isinstance(v, float) and np.isnan(v)):
                new.append(v)
                continue
            hit = by_text.get(_norm(v), None)
            if hit is None and (n := _as_number(v)) is not None:
                hit = by_number.get(n)
            if hit is None:
                new.append(v)
            else:
                new.append(str(hit))
                changed += 1
        out[col] = pd.Series(new, index=cells.index, dtype=object)
        counts[col] = counts.get(col, 0) + changed
    for col, spec in (bins or {}).items():
        cells = out[col]
        blank = cells.isna() | (cells.astype(str).str.strip() == "")
        num = pd.to_numeric(cells.where(~blank).astype(str).str.strip(), errors="coerce").where(~blank)
        bad = (~blank) & num.isna()
        if bad.any():
            found, total = problems_from_mask(
                out, bad, file=source, column=col, expected=f"a number to bin with {key}.bins.{col}"
            )
            raise InputError(found, total=total)
        breaks = np.asarray(spec["breaks"], dtype=float)
        labels = np.asarray([str(x) for x in spec["labels"]], dtype=object)
        idx = np.searchsorted(breaks, num.to_numpy(float), side="left" if spec.get("right") else "right")
        binned = pd.Series(labels[np.clip(idx, 0, len(labels) - 1)], index=cells.index, dtype=object)
        out[col] = binned.where(~blank, None)
        counts[col] = counts.get(col, 0) + int((~blank).sum())
    out.attrs = dict(df.attrs)
    out.attrs["recoded_cells"] = counts
    return out
