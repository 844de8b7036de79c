"""tools/benchmark_scale.py runs the whole DAG at two tiny sizes and prints its per-stage
table with growth ratios (no timing assertions: the machine is shared)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("data", "models", "survival", "validation", "bootstrap", "exhibits", "total", "whole")


@pytest.mark.workflow
def test_benchmark_scale_prints_every_stage(tmp_path):
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "benchmark_scale.py"),
            "--sizes",
            "200",
            "400",
            "--B",
            "4",
            "--chunks",
            "2",
            "--calibration-B",
            "4",
            "--permutations",
            "20",
            "--cores",
            "2",
            "--workdir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = res.stdout
    table = out[out.index("stage      ") :]
    assert "n=200" in table and "n=400" in table
    assert "growth relative to n=200" in table
    lines = {ln.split()[0]: ln.split()[1:] for ln in table.splitlines() if ln.strip() and ln.split()[0] in STAGES}
    for s in STAGES:
        assert s in lines, s
    assert "load average" in out
    assert not (tmp_path / "n200" / "results").exists()  # outputs removed unless --keep
    assert not (tmp_path / "n200" / "whole").exists()
    assert "one invocation" in out  # by default also the whole default target in one run
    goals = [ln for ln in out.splitlines() if ln.startswith("whole default DAG at n=")]
    assert len(goals) == 2 and all(("within the goal" in g) != ("over the goal" in g) for g in goals)


def test_goal_lines_compare_each_whole_run_with_the_goal():
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmark_scale", ROOT / "tools" / "benchmark_scale.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    row = dict(stage="whole", n=100000, max_job_mb=900.0)
    fast = bench.goal_lines([{**row, "wall_s": 559.0, "peak_tree_mb": 1600.0}, {**row, "stage": "data"}], 2)
    slow = bench.goal_lines([{**row, "wall_s": 628.0, "peak_tree_mb": 1600.0}], 2)
    big = bench.goal_lines([{**row, "wall_s": 500.0, "peak_tree_mb": 5000.0}], 2)
    assert len(fast) == 1 and "within the goal" in fast[0] and "559.0 s wall" in fast[0]
    assert "over the goal" in slow[0] and "over the goal" in big[0]


def test_benchmark_config_is_one_study_config_extending_the_papers(tmp_path):
    """The benchmark passes one --configfile: the paper's study extended to the size."""
    import importlib.util

    from crlmflow.pipeline.config import load_study_config, validate_config

    spec = importlib.util.spec_from_file_location("benchmark_scale", ROOT / "tools" / "benchmark_scale.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = tmp_path / "c.yaml"
    bench.write_config(path, tmp_path / "out", 250, 4, 2, 4, 20)
    cfg = validate_config(load_study_config(path))
    paper = validate_config(load_study_config(ROOT / "config" / "config.yaml"))
    assert cfg["data"]["synthetic"]["n_eligible"] == 250 and cfg["outdir"] == str(tmp_path / "out")
    assert cfg["validation"]["bootstrap_B"] == 4 and cfg["endpoints"] == paper["endpoints"]
    assert cfg["candidates"] == paper["candidates"]
    source = (ROOT / "tools" / "benchmark_scale.py").read_text(encoding="utf-8")
    assert source.count('"--configfile"') == 1
