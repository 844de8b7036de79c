"""Declared units of a user's cohort file, converted to the canonical units of the contract.

Hospitals report some laboratory values in different units (bilirubin in mg/dL or umol/L,
haemoglobin in g/dL or g/L, ...). The config declares the unit of such a column under
``data.file.units`` (``external.file.units`` for an external cohort file), as a mapping
canonical column -> unit, e.g. ``{tbil: mg/dL, dbil: mg/dL, hgb: g/dL}``. A column without a
declared unit is taken to be in its canonical unit (``crlmflow.data.columns.RAW_COLUMNS``).

:data:`UNITS` lists, per column, the allowed units and the factor that converts a value in
that unit to the canonical one (canonical = factor 1). The JSON schema of the config
(``crlmflow/pipeline/config.schema.yaml``, ``definitions.cohort_file.properties.units``)
lists the same columns and units, so a typo fails before any job runs; a test keeps the
two in step.

:func:`convert_units` runs after the column mapping and before validation. It converts
only the text cells that parse as numbers: a non-numeric cell (``'abc'``, ``'1,5'``) is
left as found, so the validator reports it with its file, row and column.
:func:`explain_converted` rewrites the validator's problems about converted cells so
the user sees the value as it is in the file, plus the declared unit and the conversion.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from crlmflow.data.errors import InputError, Problem

#: Bilirubin: 1 mg/dL = 17.104 umol/L (molar mass 584.66 g/mol).
BILIRUBIN_MG_DL = 17.104

#: column -> {unit: factor to the canonical unit}; the canonical unit comes first.
UNITS: dict[str, dict[str, float]] = {
    "cea": {"ng/mL": 1.0, "ug/L": 1.0},
    "ca19_9": {"U/mL": 1.0, "kU/L": 1.0},
    "tbil": {"umol/L": 1.0, "mg/dL": BILIRUBIN_MG_DL},
    "dbil": {"umol/L": 1.0, "mg/dL": BILIRUBIN_MG_DL},
    "hgb": {"g/L": 1.0, "g/dL": 10.0},
    "alb": {"g/L": 1.0, "g/dL": 10.0},
    "d_dimer": {"mg/L": 1.0, "ug/mL": 1.0, "ng/mL": 0.001, "ug/L": 0.001},
}

#: Default config key of the declaration (used in messages).
DEFAULT_KEY = "data.file.units"


def canonical_unit(column: str) -> str:
    """The canonical unit of a column that has declarable units."""
    return next(iter(UNITS[column]))


def check_units(units: dict | None, key: str = DEFAULT_KEY) -> dict[str, float]:
    """Validate a units declaration; return ``{column: factor}`` of every declared column.

    Raises a :class:`ValueError` naming ``<key>.<column>`` and the allowed columns or units.
    """
    if not units:
        return {}
    if not isinstance(units, dict):
        raise ValueError(
            f"config key '{key}': expected a mapping of column -> unit, e.g. {{tbil: mg/dL}}, got {units!r}"
        )
    problems = []
    factors = {}
    for column, unit in units.items():
        if column not in UNITS:
            problems.append(
                f"config key '{key}.{column}': {column!r} is not a column with declarable units; "
                f"allowed columns: {', '.join(UNITS)}"
            )
        elif unit not in UNITS[column]:
            problems.append(
                f"config key '{key}.{column}': unit {unit!r} is not allowed for {column}; "
                f"allowed units: {', '.join(UNITS[column])} (case-sensitive)"
            )
        else:
            factors[column] = UNITS[column][unit]
    if problems:
        raise ValueError("invalid units declaration:\n" + "\n".join(f"  - {p}" for p in problems))
    return factors


def _number(v) -> float | None:
    """The finite number a cell holds, or None (missing, text, inf/nan)."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, bool):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _text(x: float) -> str:
    """Shortest text that reads back as exactly ``x`` (no precision lost)."""
    r = repr(x)
    return r[:-2] if r.endswith(".0") else r


def _show(x: float) -> str:
    """A number for a message: at most 10 significant digits."""
    return f"{x:.10g}"


def convert_units(
    raw: pd.DataFrame, units: dict | None, source: str | None = None, *, key: str = DEFAULT_KEY
) -> pd.DataFrame:
    """Convert the declared columns of ``raw`` to their canonical units.

    ``raw``: the table after the column mapping (canonical column names), text as from
    :func:`crlmflow.data.reading.read_table` or already numeric. ``units``: canonical column -> unit
    of the file. ``source``: the file name, for messages. ``key``: the config key of the
    declaration, for messages (``data.file.units`` or ``external.file.units``).

    Cells that parse as a finite number are multiplied by the unit's factor (text cells
    stay text, written without losing precision); every other cell is left as found.
    Returns a copy with the same index and ``attrs``; ``attrs["units"]`` records
    ``{column: (unit, factor)}`` of the columns converted and ``attrs["converted_cells"]``
    ``{column: number of cells converted}`` (for the data-quality report). An unknown column or unit raises
    a :class:`ValueError` naming ``<key>.<column>``; a declared column that the table does
    not have raises an :class:`~crlmflow.data.errors.InputError` naming the file.
    """
    factors = check_units(units, key)
    out = raw.copy()
    out.attrs = dict(raw.attrs)
    if not factors:
        return out
    source = source or raw.attrs.get("source")
    absent = [c for c in factors if c not in out.columns]
    if absent:
        raise InputError(
            [
                Problem(
                    source,
                    None,
                    c,
                    None,
                    f"the config declares the unit of column '{c}' ({key}.{c}: {units[c]}), but the "
                    f"table has no column '{c}' after the column mapping; expected one of: "
                    + ", ".join(repr(x) for x in out.columns),
                )
                for c in absent
            ]
        )
    done, cells = {}, {}
    for c, factor in factors.items():
        done[c] = (units[c], factor)
        if factor == 1.0:
            continue
        cells[c] = int(sum(_number(v) is not None for v in out[c].tolist()))
        s = out[c]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            out[c] = s.astype("float64") * factor
            continue
        vals = s.tolist()
        conv = []
        for v in vals:
            x = _number(v)
            conv.append(v if x is None else _text(x * factor))
        out[c] = pd.Series(conv, index=s.index, dtype=object)
    out.attrs["units"] = done
    out.attrs["converted_cells"] = cells
    return out


def explain_converted(
    err: InputError, original: pd.DataFrame, converted: pd.DataFrame, key: str = DEFAULT_KEY
) -> InputError:
    """The validator's ``err`` with problems about converted cells made readable.

    For a problem in a converted column whose cell the conversion changed, the value shown
    is the cell as written in the file, and the expectation notes the declared unit and the
    converted value (the ranges of the contract are in canonical units).
    """
    units = converted.attrs.get("units") or {}
    if not units:
        return err
    pos_of_row = {}
    idx = original.index
    if pd.api.types.is_integer_dtype(idx.dtype):
        pos_of_row = {int(i) + 2: p for p, i in enumerate(idx)}
    changed = False
    problems = []
    for p in err.problems:
        if p.column in units and p.row is not None and p.row in pos_of_row and p.column in original.columns:
            pos = pos_of_row[p.row]
            before, after = original[p.column].iloc[pos], converted[p.column].iloc[pos]
            if _number(before) is not None and str(before) != str(after):
                unit, factor = units[p.column]
                x = _number(after)
                p = dataclasses.replace(
                    p,
                    value=str(before),
                    expected=(
                        f"{p.expected} (the column is declared in {unit} by {key}.{p.column}: "
                        f"{before} {unit} = {_show(x) if x is not None else after} "
                        f"{canonical_unit(p.column)} after conversion x{_show(factor)})"
                    ),
                )
                changed = True
        problems.append(p)
    if not changed:
        return err
    return InputError(problems, total=err.total, max_lines=err.max_lines)
