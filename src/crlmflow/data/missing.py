"""Which cells are missing: one rule for every layout (CRLM and generic).

A cell is *blank* when it is NA or a string that is empty or white space only
(:func:`is_blank`). A cell is a *missing-value code* when, stripped, it equals one of the
configured codes (``data.file.missing_codes``): text codes match case-insensitively
(``NA``, ``na``, ``N/A``), numeric codes match by value (``999`` matches ``999`` and
``999.0``). A code that is also an allowed level of the column — compared
case-insensitively, e.g. the code ``None`` and the chemotherapy level ``none`` — is a
level in that column, never a missing value (:func:`codes_for`), so a code cannot change a
cell's meaning.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

#: Missing-value codes when the config names none (``data.file.missing_codes``).
DEFAULT_MISSING_CODES: tuple[str, ...] = ("NA", "N/A", "NaN", "NULL", "None", "#N/A")


def is_blank(s: pd.Series) -> pd.Series:
    """True where a cell is NA or a string that is empty or white space only."""
    miss = s.isna().to_numpy(dtype=bool)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        txt = s.astype("string").str.strip()
        miss = miss | (txt == "").fillna(False).to_numpy(dtype=bool)
    return pd.Series(miss, index=s.index)


def _as_number(code) -> float | None:
    if isinstance(code, bool):
        return None
    try:
        x = float(code)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def codes_for(codes: Iterable, levels: Sequence | None = None) -> list:
    """The codes that mean *missing* in a column with these allowed ``levels``.

    Codes equal to a level (case-insensitive, or equal as numbers) are dropped: in that
    column the cell is the level.
    """
    codes = list(codes)
    if not levels:
        return codes
    text_levels = {str(v).strip().casefold() for v in levels}
    num_levels = {x for x in (_as_number(v) for v in levels) if x is not None}
    out = []
    for c in codes:
        x = _as_number(c)
        if str(c).strip().casefold() in text_levels or (x is not None and x in num_levels):
            continue
        out.append(c)
    return out


def code_mask(s: pd.Series, codes: Iterable) -> pd.Series:
    """True where a non-blank cell equals a missing-value code (see module docstring)."""
    codes = list(codes)
    if not codes or len(s) == 0:
        return pd.Series(False, index=s.index)
    text_codes = {str(c).strip().casefold() for c in codes}
    num_codes = [x for x in (_as_number(c) for c in codes) if x is not None]
    present = ~is_blank(s)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        hit = s.astype("float64").isin(num_codes).to_numpy(dtype=bool) if num_codes else np.zeros(len(s), bool)
        return pd.Series(hit, index=s.index) & present
    txt = s.astype("string").str.strip()
    hit = txt.str.casefold().isin(text_codes).fillna(False).to_numpy(dtype=bool)
    if num_codes:
        num = pd.to_numeric(txt, errors="coerce")
        hit |= num.isin(num_codes).fillna(False).to_numpy(dtype=bool)
    return pd.Series(hit, index=s.index) & present


def check_codes(codes, key: str = "data.file.missing_codes") -> list:
    """Validate a configured list of codes (text or numbers); ``None`` = the defaults."""
    if codes is None:
        return list(DEFAULT_MISSING_CODES)
    if not isinstance(codes, (list, tuple)):
        raise ValueError(f"config key '{key}': expected a list of missing-value codes, got {codes!r}")
    bad = [
        c
        for c in codes
        if isinstance(c, bool) or not isinstance(c, (str, int, float)) or (isinstance(c, str) and not c.strip())
    ]
    if bad:
        raise ValueError(
            f"config key '{key}': {bad!r} cannot be missing-value codes; expected non-empty "
            "text or numbers (empty cells are always missing)"
        )
    return list(codes)
