"""Input errors that a user can act on: which file, which row, which column, what was found.

Every check on user-supplied data (reading, schema validation, eligibility) collects
:class:`Problem` records and raises one :class:`InputError` carrying all of them, so a
user sees every problem of a file at once instead of fixing them one run at a time.

Row-number convention
---------------------
``Problem.row`` is the row number **as a spreadsheet shows it, counting the header as
row 1**: the first data row is row 2. For a CSV file this is also the line number a text
editor shows (as long as no quoted cell contains a line break), which is why messages
about text files say ``line 18`` and messages about ``.xlsx`` files say ``row 18``.
:func:`crlmflow.data.reading.read_table` keeps blank lines out of the data but keeps the numbering:
the frame's integer index ``i`` is the file's line ``i + 2`` (see :func:`file_rows`).

A problem line reads, for example::

    cohort.csv, line 18 (patient P000123), column 'wbc': found 'abc', expected a number
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: How many problem lines an error message lists before "... and N more".
MAX_LINES = 50

_SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls")


@dataclass(frozen=True)
class Problem:
    """One problem of an input file.

    file: the file name as the user knows it (e.g. ``cohort.csv``), or ``None``.
    row: spreadsheet row number, header = 1, first data row = 2 (``None`` if the problem is
        not about one row, e.g. a missing column).
    column: the column name (canonical name after any column mapping), or ``None``.
    value: the offending cell as text, or ``None`` when there is no single offending value;
        then ``expected`` is printed as a complete sentence.
    expected: what was expected instead (``"a number"``, ``"one of 'F', 'M'"``, ...).
    patient: the patient identifier of the row, when known (shown to help find the row).
    """

    file: str | None
    row: int | None
    column: str | None
    value: str | None
    expected: str
    patient: str | None = None

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.row is not None:
            word = "row" if str(self.file or "").lower().endswith(_SPREADSHEET_SUFFIXES) else "line"
            where = f"{word} {self.row}"
            if self.patient is not None and str(self.patient) != "":
                where += f" (patient {self.patient})"
            parts.append(where)
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        if self.value is None:
            text = self.expected
        else:
            text = f"found {_show(self.value)}, expected {self.expected}"
        return f"{loc}: {text}" if loc else text


def _show(value: object, width: int = 60) -> str:
    text = str(value)
    if len(text) > width:
        text = text[: width - 3] + "..."
    return "'" + text.replace("\n", "\\n") + "'"


class InputError(Exception):
    """A user-facing input problem; ``problems`` lists every :class:`Problem` found.

    ``InputError("text")`` is a single free-text problem. ``total`` is the number of
    problems found when more were found than are carried in ``problems`` (checks stop
    materialising problems after a per-check cap, but keep counting).
    """

    def __init__(
        self, problems: Sequence[Problem] | Problem | str, total: int | None = None, max_lines: int = MAX_LINES
    ):
        if isinstance(problems, str):
            problems = [Problem(None, None, None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.total: int = max(int(total), len(self.problems)) if total is not None else len(self.problems)
        self.max_lines = max_lines
        super().__init__(self._render())

    def _render(self) -> str:
        shown = self.problems[: self.max_lines]
        lines = [str(p) for p in shown]
        rest = self.total - len(shown)
        if rest > 0:
            lines.append(f"... and {rest} more problem{'s' if rest != 1 else ''} not shown")
        if any(p.row is not None for p in shown):
            files = sorted({p.file for p in shown if p.file})
            where = f" in {', '.join(files)}" if files else ""
            n = self.total
            lines.insert(
                0,
                f"{n} input problem{'s' if n != 1 else ''}{where} "
                "(row/line numbers count the header as 1, as a spreadsheet or text editor shows them):",
            )
        return "\n".join(lines)

    def __reduce__(self):  # picklable despite the custom constructor
        return (self.__class__, (self.problems, self.total, self.max_lines))


def file_rows(df: pd.DataFrame) -> np.ndarray:
    """Spreadsheet row numbers (header = 1) of the rows of ``df``.

    A frame from :func:`crlmflow.data.reading.read_table` has an integer index counting data rows
    from 0 (blank lines skipped but counted), so the row number is ``index + 2``; for any
    other index the position is used instead.
    """
    idx = df.index
    if pd.api.types.is_integer_dtype(idx.dtype):
        return np.asarray(idx, dtype=np.int64) + 2
    return np.arange(len(df), dtype=np.int64) + 2


def problems_from_mask(
    df: pd.DataFrame,
    mask: pd.Series | np.ndarray,
    *,
    file: str | None,
    column: str | None,
    expected: str | Iterable[str],
    values: pd.Series | None = None,
    ids: pd.Series | None = None,
    limit: int = 1000,
) -> tuple[list[Problem], int]:
    """Problems for the rows of ``df`` where ``mask`` is true (vectorised helper).

    ``expected`` is one text or one text per flagged row; ``values`` defaults to
    ``df[column]``; ``ids`` (patient identifiers) to ``df['patient_id']`` if present.
    Returns at most ``limit`` problems and the number of flagged rows.
    """
    m = np.asarray(mask, dtype=bool)
    pos = np.flatnonzero(m)
    n = int(pos.size)
    if n == 0:
        return [], 0
    take = pos[:limit]
    rows = file_rows(df)[take]
    if values is None:
        values = df[column] if column is not None and column in df.columns else None
    vals = [None] * len(take) if values is None else [_cell(v) for v in values.iloc[take]]
    if ids is None and "patient_id" in df.columns:
        ids = df["patient_id"]
    pids = [None] * len(take) if ids is None else [_cell(v) for v in ids.iloc[take]]
    if isinstance(expected, str):
        exps = [expected] * len(take)
    else:
        exps = list(expected)[: len(take)]
    out = [
        Problem(file, int(r), column, v if v is not None else "", e, p) for r, v, e, p in zip(rows, vals, exps, pids)
    ]
    return out, n


def _cell(v: object) -> str | None:
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else v.isoformat(sep=" ")
    return str(v)
