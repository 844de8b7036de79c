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
