"""Reading user tables safely: every column as text, so errors can quote the exact cell.

Reading
    :func:`read_table` reads a CSV (UTF-8, with or without BOM, comma-separated) or an
    Excel ``.xlsx`` sheet with **every column as text** (``object`` dtype, missing cells as
    ``NA``), so type checking (:mod:`crlmflow.data.cleaning`) can quote the exact offending cell.
    Cells are stripped of surrounding white space; empty cells and the tokens in
    :data:`NA_TOKENS` (or the ``missing_codes`` given) are missing. Blank lines are dropped, but the returned frame keeps
    an integer index such that index ``i`` is the file's line/row ``i + 2`` (header = 1);
    see :mod:`crlmflow.data.errors` for the row-number convention of messages.
    A wrong delimiter, a non-UTF-8 encoding, an Excel workbook saved under ``.csv``, a
    missing or empty file, duplicated or blank header names and ragged rows all raise an
    :class:`~crlmflow.data.errors.InputError` naming the file and what was expected.
"""

from __future__ import annotations

import csv
import io as _io
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from crlmflow.data.errors import InputError, Problem

#: Cell contents read as missing (after stripping white space), besides the empty cell.
NA_TOKENS = frozenset({"NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "#N/A"})

_DELIMITER_NAMES = {";": "';' (semicolon)", "\t": "a tab", "|": "'|' (pipe)"}


def read_table(
    path: str | os.PathLike, sheet: str | int | None = None, missing_codes: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read a CSV or ``.xlsx`` table with every column as text (see module docstring).

    ``sheet`` (Excel only): sheet name, or sheet number **counted from 1** as people count
    sheets (1 = the first sheet); ``None`` = the first sheet.
    ``missing_codes``: cell contents read as missing besides the empty cell (exact match
    after stripping); ``None`` = :data:`NA_TOKENS`. The cleaning passes ``()`` and decides
    per column (:mod:`crlmflow.data.missing`), so a code never hides a column's level.
    The returned frame has ``attrs["source"]`` = the file name.
    """
    p = Path(path)
    name = p.name
    if not p.exists():
        raise InputError(
            Problem(name, None, None, None, f"file not found: {str(p)!r} (expected a CSV or .xlsx file at this path)")
        )
    if p.is_dir():
        raise InputError(Problem(name, None, None, None, f"{str(p)!r} is a directory, expected a CSV or .xlsx file"))
    suffix = p.suffix.lower()
    tokens = NA_TOKENS if missing_codes is None else frozenset(str(c) for c in missing_codes)
    if suffix in (".xlsx", ".xlsm"):
        df = _read_xlsx(p, sheet, tokens)
    elif suffix == ".xls":
        raise InputError(
            Problem(
                name,
                None,
                None,
                None,
                "old Excel .xls files are not supported; expected .xlsx or CSV (re-save the workbook as .xlsx)",
            )
        )
    else:
        df = _read_csv(p, tokens)
    df.attrs["source"] = name
    return df


def _short_rows(text: str, width: int) -> list[tuple[int, int]]:
    """(line, cells) of every non-blank record with fewer cells than the header."""
    out = []
    reader = csv.reader(_io.StringIO(text))
    start = 1
    for rec in reader:
        if rec and len(rec) < width and any(c.strip() for c in rec):
            out.append((start, len(rec)))
        start = reader.line_num + 1
    return out


def _read_csv(p: Path, tokens: frozenset = NA_TOKENS) -> pd.DataFrame:
    name = p.name
    data = p.read_bytes()
    if not data.strip():
        raise InputError(
            Problem(
                name,
                None,
                None,
                None,
                "the file is empty; expected a header line with column names and one line per patient",
            )
        )
    if data[:4] == b"PK\x03\x04":
        raise InputError(
            Problem(
                name,
                None,
                None,
                None,
                "this looks like an Excel workbook, not a CSV text file; expected a "
                "comma-separated UTF-8 text file (or give the file a .xlsx extension)",
            )
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError(
            Problem(
                name,
                None,
                None,
                None,
                "the file is encoded as UTF-16; expected UTF-8 (in Excel: Save As 'CSV UTF-8 (Comma delimited)')",
            )
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise InputError(
            Problem(
                name,
                line,
                None,
                None,
                f"byte 0x{bad} is not valid UTF-8 (the file looks like Latin-1/Windows-1252 "
                "or another legacy encoding); expected UTF-8 text (in Excel: Save As "
                "'CSV UTF-8 (Comma delimited)'; or convert with "
                "`iconv -f latin1 -t utf-8`)",
            )
        ) from None
    if not text.strip():
        raise InputError(
            Problem(
                name,
                None,
                None,
                None,
                "the file is empty; expected a header line with column names and one line per patient",
            )
        )
    lines = text.splitlines()
    header_no, header = next((i, ln) for i, ln in enumerate(lines) if ln.strip())
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    other = max((";", "\t", "|"), key=lambda d: counts[d])
    if counts[other] > counts[","]:
        raise InputError(
            Problem(
                name,
                header_no + 1,
                None,
                None,
                f"the header line is separated by {_DELIMITER_NAMES[other]}; expected "
                "comma-separated values (',' between columns, '.' as decimal point)",
            )
        )
    if header_no:
        raise InputError(
            Problem(
                name, 1, None, None, "the file starts with blank lines; expected the header (column names) on line 1"
            )
        )
    try:
        raw = pd.read_csv(
            _io.StringIO(text),
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            sep=",",
            quotechar='"',
            engine="c",
        )
    except pd.errors.ParserError as exc:
        raise InputError(
            Problem(
                name,
                None,
                None,
                None,
                f"cannot be parsed as comma-separated values ({exc}); expected the same "
                "number of cells on every line as in the header",
            )
        ) from None
    width = raw.shape[1]
    if raw.iloc[1:].eq("").any(axis=None):  # pandas pads short lines with "": find them
        short = _short_rows(text, width)
        if short:
            raise InputError(
                [
                    Problem(
                        name,
                        line,
                        None,
                        None,
                        f"the line has {k} cell{'s' if k != 1 else ''}; expected {width} as in the "
                        "header (every line needs the same number of cells; a missing value is an "
                        "empty cell between two commas)",
                    )
                    for line, k in short[:1000]
                ],
                total=len(short),
            )
    return _finish(raw, name, "line", tokens)


def _read_xlsx(p: Path, sheet: str | int | None, tokens: frozenset = NA_TOKENS) -> pd.DataFrame:
    import datetime as dt
    import zipfile

    import openpyxl

    name = p.name
    if p.stat().st_size == 0:
        raise InputError(Problem(name, None, None, None, "the file is empty; expected an Excel .xlsx workbook"))
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InputError(
            Problem(name, None, None, None, f"cannot be opened as an Excel .xlsx workbook ({exc})")
        ) from None
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 1 <= sheet <= len(names):
                raise InputError(
                    Problem(
                        name,
                        None,
                        None,
                        None,
                        f"sheet number {sheet} does not exist; expected 1..{len(names)}, counted "
                        "from 1 as Excel shows the tabs (sheets: "
                        + ", ".join(f"{i} = {s!r}" for i, s in enumerate(names, 1))
                        + ")",
                    )
                )
            ws = wb.worksheets[sheet - 1]
        else:
            if sheet not in names:
                raise InputError(
                    Problem(
                        name,
                        None,
                        None,
                        None,
                        f"sheet {sheet!r} not found; expected one of {', '.join(repr(s) for s in names)}",
                    )
                )
            ws = wb[sheet]

        def cell(v):
            if v is None:
                return ""
            if isinstance(v, bool):
                return "1" if v else "0"
            if isinstance(v, int):
                return str(v)
            if isinstance(v, float):
                if np.isfinite(v) and v == int(v) and abs(v) < 2**53:
                    return str(int(v))
                return repr(v)
            if isinstance(v, dt.datetime):
                if (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0):
                    return v.date().isoformat()
                return v.isoformat(sep=" ")
            if isinstance(v, dt.date):
                return v.isoformat()
            return str(v)

        rows = [[cell(v) for v in r] for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    if not rows or not any(c.strip() for c in rows[0]):
        if not any(any(c.strip() for c in r) for r in rows):
            raise InputError(
                Problem(
                    name,
                    None,
                    None,
                    None,
                    "the sheet is empty; expected a header row with column names and one row per patient",
                )
            )
        raise InputError(Problem(name, 1, None, None, "row 1 is empty; expected the header (column names) in row 1"))
    width = len(rows[0])
    rows = [r + [""] * (width - len(r)) if len(r) < width else r for r in rows]
    raw = pd.DataFrame(rows, dtype=object)
    # trailing header cells that are empty with no data below are Excel formatting residue
    while raw.shape[1] > 1 and raw.iloc[0, -1].strip() == "" and not raw.iloc[:, -1].str.strip().any():
        raw = raw.iloc[:, :-1]
    return _finish(raw, name, "row", tokens)


def _finish(raw: pd.DataFrame, name: str, word: str, tokens: frozenset = NA_TOKENS) -> pd.DataFrame:
    """Header row -> column names; strip cells; NA tokens -> NA; drop blank rows."""
    header = [str(h).strip() for h in raw.iloc[0].tolist()]
    problems = []
    for j, h in enumerate(header):
        if h == "":
            problems.append(
                Problem(name, 1, None, None, f"the header cell of column {j + 1} is empty; expected a column name")
            )
    seen: dict[str, int] = {}
    for j, h in enumerate(header):
        if h and h in seen:
            problems.append(
                Problem(
                    name,
                    1,
                    h,
                    None,
                    f"the column name appears twice (columns {seen[h] + 1} and {j + 1}); expected unique column names",
                )
            )
        seen.setdefault(h, j)
    if problems:
        raise InputError(problems)
    body = raw.iloc[1:].copy()
    body.columns = header
    body.index = pd.RangeIndex(len(body))
    body = body.apply(lambda s: s.astype(object).str.strip())
    empty = body.isna() | body.eq("") | body.isin(tokens)
    body = body.astype(object).where(~empty, pd.NA)
    blank = empty.all(axis=1)
    body = body.loc[~blank]
    if len(body) == 0:
        raise InputError(
            Problem(
                name, None, None, None, f"the file has a header but no data {word}s; expected one {word} per patient"
            )
        )
    return body


# --------------------------------------------------------------------------- mapping


def apply_column_mapping(df: pd.DataFrame, mapping: dict[str, str] | None, source: str | None = None) -> pd.DataFrame:
    """Rename local column names to canonical ones (``mapping``: local -> canonical).

    Columns not named in the mapping keep their names. A local name that is not in the
    table, two local names mapped to the same canonical name, or a canonical name that is
    already used by another (unmapped) column raise an :class:`InputError`.
    Returns a renamed copy; ``attrs`` and the index (row numbers) are kept.
    """
    source = source or df.attrs.get("source")
    if not mapping:
        return df.copy()
    problems = []
    cols = list(df.columns)
    for local, canonical in mapping.items():
        if local not in cols:
            problems.append(
                Problem(
                    source,
                    None,
                    local,
                    None,
                    f"the column mapping renames column '{local}' to '{canonical}', but the "
                    f"table has no column '{local}'; expected one of: " + ", ".join(repr(c) for c in cols),
                )
            )
    targets: dict[str, list[str]] = {}
    for local, canonical in mapping.items():
        targets.setdefault(canonical, []).append(local)
    for canonical, locals_ in targets.items():
        if len(locals_) > 1:
            problems.append(
                Problem(
                    source,
                    None,
                    canonical,
                    None,
                    f"the column mapping maps several columns ({', '.join(repr(x) for x in locals_)}) "
                    f"to '{canonical}'; expected at most one",
                )
            )
        elif canonical in cols and canonical not in mapping and locals_[0] != canonical:
            problems.append(
                Problem(
                    source,
                    None,
                    canonical,
                    None,
                    f"the column mapping renames '{locals_[0]}' to '{canonical}', but the table "
                    f"already has a column '{canonical}'; expected only one column of that name "
                    "(drop or rename the other one)",
                )
            )
    if problems:
        raise InputError(problems)
    out = df.rename(columns=dict(mapping))
    out.attrs = dict(df.attrs)
    return out
