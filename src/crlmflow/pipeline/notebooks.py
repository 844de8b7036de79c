"""Execute an exhibit notebook with papermill, robust to a kernel that fails to start.

Several notebooks start their Jupyter kernels at once when Snakemake runs jobs in parallel
(and more when two workflows share a machine, as the test suite does). A kernel can then
fail to start for reasons that have nothing to do with the notebook: jupyter_client picks
free TCP ports by binding and releasing them, so another process can take a port before
the kernel binds it, and a loaded machine can take longer than papermill's default 60 s
to answer ``kernel_info``. Both surface as ``RuntimeError`` (nbclient's ``DeadKernelError``
is one). Execution is deterministic, so a fresh attempt gives the same notebook; an error
raised by a cell (``PapermillExecutionError``) is the notebook's own and is never retried.
"""

from __future__ import annotations

import logging

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError

from crlmflow.data.io import atomic_write_text

#: kernel start-up allowance; papermill's default (60 s) is too short on a loaded 2-core machine
START_TIMEOUT_S = 600
ATTEMPTS = 3


def execute_notebook(
    notebook: str,
    executed: str,
    parameters: dict,
    log: logging.Logger,
    *,
    attempts: int = ATTEMPTS,
    start_timeout: int = START_TIMEOUT_S,
) -> int:
    """Run ``notebook`` into ``executed`` with ``parameters``; return the attempts used.

    A kernel that dies or does not answer is restarted up to ``attempts`` times, each failure
    logged with its message; a cell error propagates at once. Cell ids are renumbered because
    nbformat and papermill draw them at random, so reruns differ only in papermill's
    execution timestamps.
    """
    for attempt in range(1, attempts + 1):
        try:
            papermill.execute_notebook(
                notebook,
                executed,
                parameters=parameters,
                kernel_name="python3",
                progress_bar=False,
                log_output=False,
                cwd=".",
                start_timeout=start_timeout,
            )
            break
        except PapermillExecutionError:
            raise
        except RuntimeError as err:
            if attempt == attempts:
                raise RuntimeError(
                    f"{notebook}: the Jupyter kernel failed {attempts} times ({err}); "
                    "this is a kernel start-up failure, not an error in the notebook"
                ) from err
            log.warning(
                "%s: kernel failure on attempt %d of %d (%s); starting a new kernel", notebook, attempt, attempts, err
            )
    nb = nbformat.read(executed, as_version=4)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    atomic_write_text(executed, nbformat.writes(nb))
    return attempt
