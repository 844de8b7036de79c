"""Writing every workflow output atomically and deterministically (CSV, text, JSON).

Writing
    :func:`atomic_write` writes to a temporary file in the destination directory, flushes,
    ``fsync``\\ s and ``os.replace``\\ s it onto the final name, so an interrupted rule never
    leaves a half-written file under a final name (Snakemake would otherwise consider it
    done). :func:`atomic_write_csv` writes frames deterministically: UTF-8 without BOM,
    ``"\\n"`` line ends, no index, missing values as empty cells, and floats with
    ``float_format="%.12g"`` (12 significant digits: far below any statistical tolerance,
    yet stable against last-bit floating-point noise between platforms, so re-runs give
    byte-identical files). Integer and nullable-integer columns are written as integers.
    :func:`write_json` writes JSON the same way; :func:`to_plain` is the one conversion of
    NumPy/pandas values to plain JSON values, also for JSON that is not written to a file.

Reading user tables is :mod:`crlmflow.data.reading`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

#: Default float format of :func:`atomic_write_csv`.
FLOAT_FORMAT = "%.12g"


# --------------------------------------------------------------------------- writing


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = ""
) -> Iterator[IO]:
    """Context manager yielding a file object whose content appears at ``path`` only on success.

    Writes to a hidden temporary file in the same directory (created if missing), then
    flush + fsync + ``os.replace`` (atomic on POSIX and Windows). If the body raises, the
    temporary file is removed and ``path`` is untouched. Text mode uses UTF-8 and
    ``newline=""`` (no newline translation: what you write is what lands on disk).
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    binary = "b" in mode
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, mode, **({} if binary else {"encoding": encoding, "newline": newline})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX only)
        dfd = os.open(p.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def to_csv_text(df: pd.DataFrame, *, float_format: str = FLOAT_FORMAT, index: bool = False) -> str:
    """The deterministic CSV text that :func:`atomic_write_csv` writes."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_bool_dtype(s.dtype):
            out[c] = s.astype("Int64")
        elif pd.api.types.is_float_dtype(s.dtype):
            # keep floats (format applies); integer-valued nullable ints are handled by pandas
            pass
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[c] = s.dt.strftime("%Y-%m-%d")
    return out.to_csv(index=index, float_format=float_format, lineterminator="\n", na_rep="", quoting=csv.QUOTE_MINIMAL)


def atomic_write_csv(
    df: pd.DataFrame, path: str | os.PathLike, *, float_format: str = FLOAT_FORMAT, index: bool = False
) -> None:
    """Write ``df`` as deterministic CSV (see module docstring) atomically to ``path``."""
    text = to_csv_text(df, float_format=float_format, index=index)
    with atomic_write(path, "w") as fh:
        fh.write(text)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) atomically to ``path``."""
    with atomic_write(path, "w") as fh:
        fh.write(text)


def sha256_file(path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks (the hash every lineage record uses)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def to_plain(obj, *, default=None):
    """``obj`` as plain JSON-ready Python: dict, list, str, int, float, bool and None only.

    The one conversion of NumPy and pandas values for every JSON file and embedded JSON
    of the workflow, so the same value is always written the same way. Rules:

    * mappings become dicts (insertion order kept); string keys stay, and a number,
      boolean or ``None`` key becomes the string ``json.dumps`` would make of it
      (``1`` -> ``"1"``, ``True`` -> ``"true"``), so converting first never changes output;
    * lists, tuples, NumPy arrays, pandas ``Series`` and ``Index`` become lists, and a
      ``DataFrame`` a list of row dicts (``orient="records"``);
    * NumPy scalars become the Python ``int``/``float``/``bool`` of the same value (floats
      keep every bit, NaN stays NaN); ``pd.NA``/``pd.NaT`` become ``None``; timestamps and
      dates their ISO 8601 text; paths their file-system string.

    Anything else (a set, an arbitrary object) raises ``TypeError`` naming where it sits,
    unless ``default`` is given, as for ``json.dumps``: then ``default(value)`` replaces it.

    Parameters
    ----------
    obj : object
        The structure to convert.
    default : callable, optional
        Fallback converter for values of any other type, e.g. ``str``.

    Returns
    -------
    object
        A structure of plain Python values that ``json.dumps`` serialises without a
        ``default`` hook.
    """
    try:
        return _plain(obj, default)
    except _NotPlain as exc:
        raise TypeError(
            f"not JSON serialisable: the value at {exc.where or 'top level'} is a {exc.kind}; "
            "expected numbers, text, booleans, None, lists or dicts (or their NumPy/pandas "
            "equivalents)"
        ) from None


class _NotPlain(Exception):
    """Raised from deep inside ``_plain``; each container prepends its key on the way out, so
    the message says where the value sits without building a path for every valid value."""

    def __init__(self, kind: str, where: str = ""):
        super().__init__(kind, where)
        self.kind, self.where = kind, where


def _plain_key(k, default) -> str:
    if isinstance(k, str):
        return k
    v = _plain(k, default)
    if v is None or isinstance(v, (bool, int, float)):
        return json.dumps(v)  # the text json.dumps itself makes of a non-string key
    return str(v)


def _plain(obj, default):
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, np.datetime64):
        return None if np.isnat(obj) else pd.Timestamp(obj).isoformat()
    if isinstance(obj, np.generic):  # before int/float: np.float64 subclasses float
        return _plain(obj.item(), default)
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biuf":
        return obj.tolist()  # already plain Python numbers, element for element
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            key = _plain_key(k, default)
            try:
                out[key] = _plain(v, default)
            except _NotPlain as exc:
                raise _NotPlain(exc.kind, f"[{key!r}]{exc.where}") from None
        return out
    if isinstance(obj, pd.DataFrame):
        return _plain(obj.to_dict(orient="records"), default)
    if isinstance(obj, (list, tuple, np.ndarray, pd.Series, pd.Index)):
        out = []
        for i, v in enumerate(obj):
            try:
                out.append(_plain(v, default))
            except _NotPlain as exc:
                raise _NotPlain(exc.kind, f"[{i}]{exc.where}") from None
        return out
    if obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, datetime.date):  # pd.Timestamp included
        return obj.isoformat()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if default is not None:
        return _plain(default(obj), None)
    raise _NotPlain(type(obj).__name__)


def write_json(obj, path: str | os.PathLike, *, indent: int = 2) -> None:
    """Write ``to_plain(obj)`` as JSON to ``path`` atomically (see :func:`atomic_write`).

    UTF-8 without escaping, ``indent`` spaces, keys in insertion order (not sorted), NaN
    written as ``NaN`` (as Python's ``json`` reads it back), and a trailing newline.
    """
    text = json.dumps(to_plain(obj), indent=indent, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)


def atomic_write_json(path: str | os.PathLike, obj: object, *, indent: int = 2) -> None:
    """:func:`write_json` with the path first, the order the rule scripts use."""
    write_json(obj, path, indent=indent)
