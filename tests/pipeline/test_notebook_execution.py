"""pipeline.notebooks: a kernel that fails to start is retried, a cell error is not."""

from __future__ import annotations

import logging

import nbformat
import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

from crlmflow.pipeline import notebooks


def _notebook(path, source):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return str(path)


def test_executes_with_parameters_and_numbers_cell_ids(tmp_path):
    nb = _notebook(tmp_path / "in.ipynb", "y = x * 2\nprint(y)")
    out = tmp_path / "out.ipynb"
    used = notebooks.execute_notebook(nb, str(out), {"x": 21}, logging.getLogger("t"))
    assert used == 1
    done = nbformat.read(out, as_version=4)
    assert [c["id"] for c in done.cells] == [f"cell-{i}" for i in range(len(done.cells))]
    assert any("42" in o.get("text", "") for c in done.cells if c.cell_type == "code" for o in c.outputs)


def test_kernel_start_failure_is_retried_and_logged(tmp_path, monkeypatch, caplog):
    nb = _notebook(tmp_path / "in.ipynb", "pass")
    real, calls = papermill.execute_notebook, []

    def flaky(*args, **kwargs):
        calls.append(kwargs["start_timeout"])
        if len(calls) == 1:
            raise RuntimeError("Kernel didn't respond in 60 seconds")
        return real(*args, **kwargs)

    monkeypatch.setattr(notebooks.papermill, "execute_notebook", flaky)
    with caplog.at_level(logging.WARNING):
        used = notebooks.execute_notebook(nb, str(tmp_path / "out.ipynb"), {}, logging.getLogger("t"))
    assert used == 2 and calls == [notebooks.START_TIMEOUT_S] * 2
    assert "kernel failure on attempt 1 of 3" in caplog.text


def test_persistent_kernel_failure_says_so_after_every_attempt(tmp_path, monkeypatch):
    calls = []

    def dead(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(notebooks.papermill, "execute_notebook", dead)
    with pytest.raises(RuntimeError, match="failed 3 times.*not an error in the notebook"):
        notebooks.execute_notebook("nb.ipynb", str(tmp_path / "o.ipynb"), {}, logging.getLogger("t"))
    assert len(calls) == 3


def test_cell_error_is_not_retried(tmp_path, monkeypatch):
    nb = _notebook(tmp_path / "in.ipynb", "raise ValueError('bad cohort')")
    real, calls = papermill.execute_notebook, []

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(notebooks.papermill, "execute_notebook", counted)
    with pytest.raises(PapermillExecutionError, match="bad cohort"):
        notebooks.execute_notebook(nb, str(tmp_path / "out.ipynb"), {}, logging.getLogger("t"))
    assert len(calls) == 1
