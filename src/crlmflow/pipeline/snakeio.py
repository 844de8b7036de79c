"""Glue for the thin scripts run by Snakemake's ``script:`` directive.

``logged(snakemake)`` sends log records and warnings to the rule's ``log:`` file and
records any exception there before re-raising, so a failed job leaves its reason in
the log Snakemake points to. Logs carry counts and summaries only, never patient rows.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path


@contextlib.contextmanager
def logged(smk, name: str | None = None):
    log_path = Path(smk.log[0]) if len(smk.log) else None
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", handlers=handlers, force=True)
    logging.captureWarnings(True)
    # fontTools logs every glyph subset of every PDF at INFO: noise, not provenance.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    logger = logging.getLogger(name or smk.rule)
    # BLAS threads change summation order; one thread per job keeps outputs
    # byte-identical whatever --cores is.
    from threadpoolctl import threadpool_limits

    try:
        with threadpool_limits(limits=1):
            yield logger
        from crlmflow.pipeline.provenance import record_job

        record_job(smk, smk.config.get("outdir", "results"))
    except Exception as exc:  # noqa: BLE001 - recorded, then re-raised unchanged
        logger.error("%s: %s", type(exc).__name__, exc)
        raise
