"""Studies not shaped like the paper: a config that says what it means (extends, null
removes), one endpoint, endpoint columns with any names."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

BIN = Path(sys.executable).parent
#: an 'os' token in a path: figure_model_os.png, models/os/..., not 'provenance'
OS_TOKEN = re.compile(r"(?<![a-z])os(?![a-z])")


def _run(args, cwd):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True)


def _planned_outputs(repo_root, config_path):
    """Every file the default target would make (a dry run: nothing is computed)."""
    res = _run([str(BIN / "snakemake"), "--cores", "1", "-n", "--configfile", str(config_path), "--summary"], repo_root)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    rows = [line.split("\t") for line in res.stdout.splitlines() if "\t" in line]
    assert rows[0][0] == "output_file"
    return [r[0] for r in rows[1:]]


def _colon_subset(repo_root, path, n=300):
    """R's survival::colon (data/colon.csv), first n patients, recurrence only, with its
    columns named unlike the paper's."""
    df = pd.read_csv(repo_root / "data" / "colon.csv").iloc[:n]
    df = df.rename(columns={"id": "pid", "rfs_months": "months_to_relapse", "rfs_event": "relapsed"})
    df.drop(columns=["os_months", "os_event", "node4"]).to_csv(path, index=False)
    return path


def _one_endpoint_config(repo_root, tmp_path):
    data = _colon_subset(repo_root, tmp_path / "colon_dfs.csv")
    cfg = {
        "outdir": str(tmp_path / "out"),
        "seed": 7,
        "data": {
            "source": "file",
            "file": {"path": str(data), "format": "generic", "columns": {"pid": "patient_id"}},
            "followup_cutoff": None,
        },
        "split": {"method": "random", "stratify": "relapsed"},
        "endpoints": {"dfs": {"time": "months_to_relapse", "event": "relapsed", "label": "Disease-free survival"}},
        "candidates": [
            {"name": "rx", "type": "factor", "ref": "Obs", "levels": ["Obs", "Lev", "Lev+5FU"], "label": "Treatment"},
            {"name": "age", "type": "numeric", "label": "Age", "unit": "years", "range": [18, 100]},
            {"name": "obstruct", "type": "binary", "label": "Obstruction"},
            {"name": "nodes", "type": "numeric", "label": "Positive lymph nodes", "range": [0, 100]},
            {"name": "extent", "type": "numeric", "label": "Local spread", "range": [1, 4]},
        ],
        "horizons": [12, 36],
        "validation": {"bootstrap_B": 8, "bootstrap_chunks": 2, "calibration_B": 4, "cutpoint_permutations": 10},
    }  # complete in itself, and no simulation_study block: the schema defaults apply
    path = tmp_path / "dfs.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def test_extending_config_that_drops_os_plans_no_os_file(repo_root, tmp_path):
    own = tmp_path / "rfs_only.yaml"
    own.write_text(
        yaml.safe_dump(
            {
                # relative to the extending file, as a user writes it
                "extends": os.path.relpath(repo_root / "config" / "config.yaml", tmp_path),
                "outdir": str(tmp_path / "out"),
                "split": {"stratify": "rfs_event"},
                "endpoints": {"os": None},
            }
        ),
        encoding="utf-8",
    )
    outputs = _planned_outputs(repo_root, own)
    assert any("/models/rfs/" in p for p in outputs) and any("table1" in p for p in outputs)
    stray = [p for p in outputs if OS_TOKEN.search(p[len(str(tmp_path)) :])]
    assert not stray, f"files of the dropped os endpoint: {stray[:5]}"
    # the paper comparison needs both of the paper's endpoints
    assert not any("paper_comparison" in p for p in outputs)
    assert not (tmp_path / "out").exists()


def test_one_endpoint_generic_study_plans_no_other_endpoint(repo_root, tmp_path):
    outputs = _planned_outputs(repo_root, _one_endpoint_config(repo_root, tmp_path))
    rel = [p[len(str(tmp_path)) :] for p in outputs]
    assert any("/models/dfs/" in p for p in rel)
    assert not [p for p in rel if OS_TOKEN.search(p) or "rfs" in p]


def test_no_configfile_still_runs_the_papers_study(repo_root):
    outputs = _planned_outputs(repo_root, repo_root / "config" / "config.yaml")
    res = _run([str(BIN / "snakemake"), "--cores", "1", "-n", "--summary"], repo_root)
    assert res.returncode == 0, res.stderr[-3000:]
    planned = [r.split("\t")[0] for r in res.stdout.splitlines() if "\t" in r]
    assert planned[0] == "output_file" and planned[1:] == outputs
    assert any("/models/os/" in p for p in outputs) and any("paper_comparison" in p for p in outputs)


@pytest.mark.workflow
def test_one_endpoint_study_with_its_own_column_names_runs_to_the_end(repo_root, tmp_path):
    res = _run(
        [str(BIN / "snakemake"), "--cores", "2", "--configfile", str(_one_endpoint_config(repo_root, tmp_path)), "-q"],
        repo_root,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = tmp_path / "out"
    table1 = pd.read_csv(out / "tables" / "table1.csv")
    chars = table1["Characteristic"].tolist()
    assert "DFS, months, median (Q1, Q3)" in chars and "DFS event, n (%)" in chars
    assert not any("OS" in c or "RFS" in c for c in chars)
    perf = pd.read_csv(out / "validation" / "dfs" / "performance.csv")
    assert set(perf["set"]) == {"train", "validation"}
    summary = json.loads((out / "data" / "split_summary.json").read_text())
    assert summary["stratify"] == "relapsed" and sum(summary["n"].values()) == len(
        pd.read_csv(out / "data" / "analysis_cohort.csv")
    )
    # every applicable exhibit (no paper comparison, no KRAS: not a CRLM study)
    for base in (
        "figure1_flowchart",
        "figure_model_dfs",
        "figure4_km",
        "suppl_calibration_dfs",
        "figure_model_dfs_CF_roc_dca",
    ):
        for ext in ("pdf", "png"):
            assert (out / "figures" / f"{base}.{ext}").stat().st_size > 1000, base
    for t in ("table1", "table2", "table3", "performance_comparison", "selection_stability"):
        assert (out / "tables" / f"{t}.csv").exists(), t
    assert not (out / "tables" / "paper_comparison.csv").exists()
    assert (out / "provenance.json").exists()
    every = [str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()]
    assert not [p for p in every if OS_TOKEN.search(p) or "rfs" in p]


@pytest.mark.workflow
def test_two_renamed_endpoints_without_split_run_to_the_end(repo_root, tmp_path):
    """Both of colon's endpoints under names unlike the paper's, developed on everyone
    (split.method: none): no empty validation column anywhere."""
    df = pd.read_csv(repo_root / "data" / "colon.csv").iloc[:250]
    names = {"os_months": "futime", "os_event": "died", "rfs_months": "rtime", "rfs_event": "recur"}
    df.rename(columns={**names, "id": "patient_id"}).drop(columns=["node4"]).to_csv(tmp_path / "c.csv", index=False)
    cfg = {
        "outdir": str(tmp_path / "out"),
        "data": {
            "source": "file",
            "file": {"path": str(tmp_path / "c.csv"), "format": "generic"},
            "followup_cutoff": None,
        },
        "split": {"method": "none"},
        "endpoints": {
            "death": {"time": "futime", "event": "died", "label": "Death from any cause"},
            "relapse": {"time": "rtime", "event": "recur", "label": "Relapse or death"},
        },
        "candidates": [
            {"name": "rx", "type": "factor", "ref": "Obs", "levels": ["Obs", "Lev", "Lev+5FU"], "label": "Treatment"},
            {"name": "nodes", "type": "numeric", "label": "Positive lymph nodes", "range": [0, 100]},
            {"name": "extent", "type": "numeric", "label": "Local spread", "range": [1, 4]},
        ],
        "km": {"group": "rx"},
        "horizons": [12, 36],
        "validation": {"bootstrap_B": 8, "bootstrap_chunks": 2, "calibration_B": 4, "cutpoint_permutations": 10},
    }
    path = tmp_path / "renamed.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    res = _run([str(BIN / "snakemake"), "--cores", "2", "--configfile", str(path), "-q"], repo_root)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = tmp_path / "out"
    chars = pd.read_csv(out / "tables" / "table1.csv")["Characteristic"].tolist()
    assert {"DEATH, months, median (Q1, Q3)", "DEATH event, n (%)", "RELAPSE event, n (%)"} <= set(chars)
    perf = pd.read_csv(out / "tables" / "performance_comparison.csv")
    assert not [c for c in perf.columns if "alidation" in c]
    for ep in ("death", "relapse"):
        assert (out / "figures" / f"figure_model_{ep}.png").exists()
    summary = json.loads((out / "data" / "split_summary.json").read_text())
    analysed = pd.read_csv(out / "data" / "analysis_cohort.csv")
    assert summary["died_by_set"]["train"] == int(analysed["died"].sum()) > 0


def test_three_endpoints_each_get_their_own_files(repo_root, tmp_path):
    df = pd.read_csv(repo_root / "data" / "colon.csv").iloc[:200]
    df["t3"], df["e3"] = df["rfs_months"], df["rfs_event"]
    df.rename(columns={"id": "patient_id"}).to_csv(tmp_path / "c.csv", index=False)
    eps = {
        "alpha": {"time": "os_months", "event": "os_event", "label": "A"},
        "beta": {"time": "rfs_months", "event": "rfs_event", "label": "B"},
        "gamma": {"time": "t3", "event": "e3", "label": "C"},
    }
    cfg = {
        "outdir": str(tmp_path / "out"),
        "data": {
            "source": "file",
            "file": {"path": str(tmp_path / "c.csv"), "format": "generic"},
            "followup_cutoff": None,
        },
        "endpoints": eps,
        "candidates": [{"name": "nodes", "type": "numeric", "range": [0, 100]}],
    }
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    outputs = _planned_outputs(repo_root, path)
    for ep in eps:
        assert any(f"/models/{ep}/model.json" in p for p in outputs), ep
        assert any(f"/figures/figure_model_{ep}.png" in p for p in outputs), ep
    assert not any("paper_comparison" in p for p in outputs)
