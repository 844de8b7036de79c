"""The Snakemake workflow itself: lint, formatting, and a small end-to-end run."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

BIN = Path(sys.executable).parent


def _run(args, cwd, **kw):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, **kw)


def test_snakemake_lint_is_clean(repo_root):
    res = _run([str(BIN / "snakemake"), "--lint"], repo_root)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Congratulations" in res.stdout + res.stderr


def test_snakefmt_check_is_clean(repo_root):
    res = _run([str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules"], repo_root)
    assert res.returncode == 0, res.stdout + res.stderr


def test_invalid_config_fails_before_any_job(repo_root, tmp_path):
    with open(repo_root / "config" / "config.yaml", encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    cfg["outdir"] = str(tmp_path / "out")
    cfg["selection"]["method"] = "backward"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    res = _run([str(BIN / "snakemake"), "--cores", "1", "--configfile", str(path), "-n"], repo_root)
    assert res.returncode != 0
    assert "selection.method" in res.stderr + res.stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.workflow
def test_no_split_develops_on_everyone_and_skips_validation_exhibits(repo_root, tmp_path):
    with open(repo_root / "config" / "config.yaml", encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    out = tmp_path / "out"
    cfg["outdir"] = str(out)
    cfg["split"]["method"] = "none"
    cfg["data"]["synthetic"]["n_eligible"] = 150
    cfg["validation"].update(bootstrap_B=8, bootstrap_chunks=2, calibration_B=4, cutpoint_permutations=10)
    path = tmp_path / "none.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    res = _run([str(BIN / "snakemake"), "--cores", "2", "--configfile", str(path), "-q"], repo_root)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    summary = json.loads((out / "data" / "split_summary.json").read_text())
    assert summary["method"] == "none" and summary["n"] == {"train": 150, "validation": 0}
    perf = pd.read_csv(out / "validation" / "os" / "performance.csv")
    assert set(perf["set"]) == {"train"}
    assert (out / "validation" / "os" / "optimism.csv").exists()
    table1 = pd.read_csv(out / "tables" / "table1.csv")
    assert not any("alidation" in c for c in table1.columns)
    assert (out / "figures" / "figure4_km.png").exists() and (out / "provenance.json").exists()
