# Two-command quick start: `make run` (synthetic default) and `make test`.
# Both build .venv from the pinned lock envs/requirements.lock (Python 3.11).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CORES ?= 4
UV_VERSION := 0.13.9
# Every Snakemake job is a fresh Python process: let it reuse compiled bytecode.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test test-slurm lint report lock clean-results dag outdated

$(STAMP): envs/requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --quiet --python $(BIN)/python envs/requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

# The Slurm integration test on a one-node cluster started here (root, Debian's slurm
# packages); fails rather than skips when no cluster answers.
test-slurm: $(STAMP)
	bash tools/slurm_localhost.sh
	CRLMFLOW_REQUIRE_SLURM=1 $(BIN)/python -m pytest -m slurm -q -s tests/workflow/test_slurm.py

lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The rule graph as Mermaid (drawn by any Markdown viewer; no Graphviz needed), plus an
# SVG when Graphviz is installed (`make dag GRAPHVIZ=1` installs Debian's graphviz first).
# SMK_ARGS go to Snakemake, e.g. SMK_ARGS="--configfile my.yaml".
dag: $(STAMP)
	@if [ -n "$(GRAPHVIZ)" ] && ! command -v dot >/dev/null; then apt-get install -y -q graphviz; fi
	$(BIN)/python tools/dag.py results/dag $(SMK_ARGS)

# What would rerun, and why (one line per job); `python -m crlmflow audit --why FILE`
# names the exact cause behind one output.
outdated: $(STAMP)
	@$(BIN)/python tools/outdated.py $(SMK_ARGS)

report: $(STAMP)
	$(BIN)/snakemake --report results/report.html

# Re-resolve the pinned lock from envs/requirements.in and rewrite the conda file.
lock: $(STAMP)
	$(BIN)/uv pip compile --quiet envs/requirements.in --python-version 3.11 -o envs/requirements.lock
	$(BIN)/python tools/write_conda_env.py envs/requirements.in envs/requirements.lock envs/crlmflow.yaml

clean-results:
	rm -rf results/* .snakemake
