"""One staleness answer: `audit` and `snakemake -n` flag the same outputs for each kind of
change (config key, notebook, package module, input data, seed), and `audit --why` names
the cause; every table and figure of the default run and of the simulation study audits.

Runs the default target and a tiny simulation study on the small config of
tests/workflow/test_rerun.py once, then applies each change, asks both tools, undoes it.
"""

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from project_copy import copy_project, project_env

from crlmflow.pipeline.audit import audit

pytestmark = pytest.mark.workflow

BIN = Path(sys.executable).parent
# Exhibits and intermediate tables spread over the DAG (paths under the results folder).
SAMPLE = [
    "tables/table2.csv",
    "figures/figure4_km.png",
    "tables/table1.csv",
    "figures/figure_model_os.png",
    "tables/table3.csv",
    "data/development/data_quality.csv",
]


def _small_config(repo_root, out):
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg["outdir"] = str(out)
    cfg["data"]["synthetic"]["n_eligible"] = 150
    cfg["validation"].update(bootstrap_B=8, bootstrap_chunks=2, calibration_B=4, cutpoint_permutations=10)
    cfg["simulation_study"].update(replicates=2, n_eligible=150, bootstrap_B=2, truth_n=4000)
    return cfg


def _snakemake(repo_root, cfg, path, *args):
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return subprocess.run(
        # targets first: --configfile takes every value that follows it
        [str(BIN / "snakemake"), *args, "--configfile", str(path)],
        cwd=repo_root,
        env=project_env(repo_root),
        capture_output=True,
        text=True,
    )


def _planned_outputs(res) -> set[str]:
    """Output files of every job `snakemake -n` plans."""
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = set()
    for line in (res.stdout + res.stderr).splitlines():
        if line.strip().startswith("output:"):
            out |= {f.strip() for f in line.strip()[len("output:") :].split(",")}
    return out


@pytest.fixture(scope="module")
def project(repo_root, tmp_path_factory):
    """A copy of the project: these tests edit a notebook and a module, which must never
    happen in the checkout while other workers run workflows (see project_copy)."""
    return copy_project(repo_root, tmp_path_factory.mktemp("staleness_project"))


@pytest.fixture(scope="module")
def run(project, tmp_path_factory):
    repo_root = project
    base = tmp_path_factory.mktemp("staleness")
    out = base / "out"
    cfg = _small_config(repo_root, out)
    res = _snakemake(repo_root, cfg, base / "run.yaml", "all", "simulation_study", "--cores", "2")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return base, cfg


def _flags(repo_root, base, cfg, name, monkeypatch):
    """(files of SAMPLE that `snakemake -n` would remake, files `audit` flags, audit text)."""
    out = Path(cfg["outdir"])
    planned = _planned_outputs(_snakemake(repo_root, cfg, base / f"{name}.yaml", "-n"))
    monkeypatch.chdir(repo_root)
    audited, text = set(), {}
    for rel in SAMPLE:
        lines = []
        code = audit(out / rel, configfiles=[str(base / f"{name}.yaml")], why=True, out=lines.append)
        assert code in (0, 1), lines
        text[rel] = "\n".join(lines)
        if code == 1:
            audited.add(rel)
    return {rel for rel in SAMPLE if str(out / rel) in planned}, audited, text


def _edit(path: Path, change):
    """Apply ``change(bytes) -> bytes`` to ``path``; returns an undo restoring bytes and mtime."""
    original, stat = path.read_bytes(), path.stat()
    path.write_bytes(change(original))

    def undo():
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    return undo


def test_nothing_changed_nothing_flagged(project, run, monkeypatch):
    base, cfg = run
    planned, audited, text = _flags(project, base, cfg, "same", monkeypatch)
    assert planned == audited == set(), text


@pytest.mark.parametrize("key", ["followup_cutoff", "seed"])
def test_config_key(project, run, monkeypatch, key):
    base, cfg = run
    changed = copy.deepcopy(cfg)
    if key == "seed":
        changed["seed"] += 1
        cause = f"seed: {cfg['seed']!r} -> {changed['seed']!r}"
    else:
        changed["data"]["followup_cutoff"] = "2023-01-31"
        cause = f'data.followup_cutoff: "{cfg["data"]["followup_cutoff"]}" -> "2023-01-31"'
    planned, audited, text = _flags(project, base, changed, key, monkeypatch)
    assert planned == audited == set(SAMPLE)
    assert cause in text["tables/table2.csv"] and "=> rule exhibit_table2" in text["tables/table2.csv"]


def test_notebook(project, run, monkeypatch):
    base, cfg = run
    nb = project / "notebooks" / "figure4_km.ipynb"
    data = json.loads(nb.read_text(encoding="utf-8"))
    cell = next(
        c for c in data["cells"] if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", [])
    )
    src = cell["source"] if isinstance(cell["source"], list) else [cell["source"]]
    cell["source"] = [*src[:-1], src[-1].rstrip("\n") + "\n", "_edited_by_test = 1"]
    undo = _edit(nb, lambda _: (json.dumps(data, indent=1) + "\n").encode())
    try:
        planned, audited, text = _flags(project, base, cfg, "nb", monkeypatch)
    finally:
        undo()
    assert planned == audited == {"figures/figure4_km.png"}
    assert "notebooks/figure4_km.ipynb" in text["figures/figure4_km.png"]
    assert "+_edited_by_test = 1" in text["figures/figure4_km.png"]


def test_package_module(project, run, monkeypatch):
    base, cfg = run
    module = project / "src" / "crlmflow" / "survival" / "summaries.py"
    undo = _edit(module, lambda b: b + b"\n# edited by tests/workflow/test_staleness.py\n")
    try:
        planned, audited, text = _flags(project, base, cfg, "module", monkeypatch)
    finally:
        undo()
    assert planned == audited and planned and planned != set(SAMPLE)
    some = next(iter(audited))
    assert "src/crlmflow/survival/summaries.py" in text[some] and "+# edited by tests" in text[some]


def test_input_data(project, run, monkeypatch):
    base, cfg = run
    raw = Path(cfg["outdir"]) / "data" / "development" / "raw_cohort.csv"
    undo = _edit(raw, lambda b: b.rstrip(b"\n") + b" \n")
    try:
        planned, audited, text = _flags(project, base, cfg, "input", monkeypatch)
    finally:
        undo()
    assert planned == audited == set(SAMPLE)
    assert "raw_cohort.csv: changed" in text["tables/table2.csv"] and "=> rule clean" in text["tables/table2.csv"]


def test_every_table_and_figure_audits(project, run, monkeypatch):
    base, cfg = run
    out = Path(cfg["outdir"])
    monkeypatch.chdir(project)
    manifest = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert manifest["configfiles"][-1] == str(base / "run.yaml")
    files = list(manifest["entries"]) + [str(p) for p in (out / "simulation_study").glob("*.*")]
    assert any(f.endswith("simulation_study.png") for f in files)
    for f in files:
        lines = []
        assert audit(f, out=lines.append) == 0, lines


def test_the_run_is_a_valid_provenance_run_crate(run, validate_crate):
    base, cfg = run
    out = Path(cfg["outdir"])
    crate = json.loads((out / "ro-crate-metadata.json").read_text(encoding="utf-8"))
    ids = {e["@id"] for e in crate["@graph"]}
    assert {"tables/table2.csv", "figures/figure4_km.png", "#job-exhibit_table2"} <= ids
    assert (out / "provenance" / "code" / "notebooks" / "figure4_km.ipynb").is_file()
    assert validate_crate(out) == []
