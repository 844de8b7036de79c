"""A failed data stage marks the results folder, so earlier results never pass for current.

When the ``clean`` job of a cohort fails (the input is rejected), Snakemake removes that
job's outputs, but the tables, models and figures of an earlier successful run stay in
``outdir`` and would look like results of the rejected input. :func:`data_stage_guard`
writes ``<outdir>/DATA_STAGE_FAILED.<cohort>.json`` on failure — the input file's name and
sha256, the error type and the number of problems (no cell values, no patient ids) — and
removes it when the stage succeeds again. ``python -m crlmflow audit`` reports any such
marker and fails (:func:`failed_markers`).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from crlmflow.data.errors import InputError
from crlmflow.data.io import atomic_write_json, sha256_file

PREFIX = "DATA_STAGE_FAILED."


def marker_path(outdir: str | Path, cohort: str) -> Path:
    return Path(outdir) / f"{PREFIX}{cohort}.json"


def failed_markers(outdir: str | Path) -> list[dict]:
    """Every failure marker of a results folder (empty when the data stage last succeeded)."""
    out = []
    for p in sorted(Path(outdir).glob(f"{PREFIX}*.json")):
        try:
            out.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            out.append({"marker": str(p), "cohort": p.stem.removeprefix(PREFIX)})
    return out


@contextlib.contextmanager
def data_stage_guard(outdir: str | Path, cohort: str, input_file: str | Path):
    """Mark ``outdir`` if the body raises; clear the mark when it succeeds."""

    marker = marker_path(outdir, cohort)
    try:
        yield
    except Exception as exc:
        path = Path(input_file)
        atomic_write_json(
            marker,
            {
                "cohort": cohort,
                "input": path.name,
                "input_sha256": sha256_file(path) if path.is_file() else None,
                "error": type(exc).__name__,
                "problems": exc.total if isinstance(exc, InputError) else None,
                "meaning": (
                    "the data stage rejected this input; every table, model and figure in this folder "
                    "comes from an earlier input and is not a result of it"
                ),
            },
        )
        raise
    marker.unlink(missing_ok=True)
