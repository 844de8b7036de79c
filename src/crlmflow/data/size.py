"""Size of a cohort file, measured before any job runs, for cluster resource requests.

:func:`estimate_rows_columns` counts the data rows and columns of a CSV (line breaks,
read in 1 MB blocks: ~0.3 s per 100 MB) or an ``.xlsx`` sheet (the sheet's recorded
dimension). :func:`clean_resources` turns them into the memory and time the ``clean`` job
asks for: peak memory and wall time grow with the number of cells. Measured: a file of
1,000,000 rows x 40 columns peaks at 2.5 GB and cleans in about a minute; the request is
twice that (rounded up) plus a fixed start-up cost, and a retried job asks ``attempt``
times as much (the profile's ``retries``).
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

#: Peak memory per cell of the clean job (bytes), with 2x headroom over the measured ~62.5.
BYTES_PER_CELL = 125
#: Fixed memory of a clean job (Python, pandas, the workflow package), MB.
BASE_MB = 500
#: Cells cleaned per minute, with 2x headroom over the measured ~40 million.
CELLS_PER_MINUTE = 20_000_000
#: Fixed time of a clean job (start-up, writing), minutes.
BASE_MINUTES = 5


def estimate_rows_columns(path: str | os.PathLike, sheet=None) -> tuple[int, int]:
    """``(data rows, columns)`` of a CSV or .xlsx file; ``(0, 0)`` if it does not exist.

    CSV: line breaks minus the header (quoted line breaks and blank lines make this an
    overestimate, which is safe for a resource request). ``.xlsx``: the sheet's dimension
    (``sheet`` as in :func:`crlmflow.data.reading.read_table`, counted from 1).
    """
    p = Path(path) if path else None
    if p is None or not p.is_file():
        return 0, 0
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(p, read_only=True)
        except Exception:  # noqa: BLE001 - an unreadable workbook is reported by the clean job
            return 0, 0
        try:
            ws = (
                wb[sheet]
                if isinstance(sheet, str) and sheet in wb.sheetnames
                else wb.worksheets[sheet - 1]
                if isinstance(sheet, int) and 1 <= sheet <= len(wb.worksheets)
                else wb.worksheets[0]
            )
            return max(0, (ws.max_row or 1) - 1), int(ws.max_column or 0)
        finally:
            wb.close()
    lines, last = 0, b"\n"
    with open(p, "rb") as fh:
        head = fh.readline()
        for block in iter(lambda: fh.read(1 << 20), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    rows = lines + (1 if last != b"\n" else 0)
    text = head.decode("utf-8-sig", errors="replace")
    columns = len(next(csv.reader(io.StringIO(text)), [])) if text.strip() else 0
    return rows, columns


def clean_resources(rows: int, columns: int) -> tuple[int, int]:
    """``(mem_mb, runtime_minutes)`` the clean job of a ``rows`` x ``columns`` file requests."""
    cells = max(0, int(rows)) * max(1, int(columns))
    return BASE_MB + math.ceil(cells * BYTES_PER_CELL / 1e6), BASE_MINUTES + math.ceil(cells / CELLS_PER_MINUTE)


def cohort_size(block: dict) -> tuple[int, int]:
    """``(rows, columns)`` of a config cohort block: measured for a file; for a synthetic
    cohort the eligible patients plus the excluded ones (about 40% more) by 38 columns."""
    if block["source"] == "synthetic":
        return math.ceil(block["synthetic"]["n_eligible"] * 1.4), 38
    return estimate_rows_columns(block["file"]["path"], block["file"].get("sheet"))


def clean_request(block: dict) -> tuple[int, int]:
    """``(mem_mb, runtime_minutes)`` of the clean job of a config cohort block (attempt 1)."""
    return clean_resources(*cohort_size(block))
