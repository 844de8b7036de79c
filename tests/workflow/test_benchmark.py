"""tools/benchmark.py runs end to end with a tiny B and prints its ratio lines (no timing
assertions: the machine is shared)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _benchmark_module():
    spec = importlib.util.spec_from_file_location("crlm_benchmark_tool", ROOT / "tools" / "benchmark.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_r_ratio_measured_in_this_run_is_labelled_measured():
    """R run in the same benchmark: R's wall time over ours on the same cores, said so."""
    bm = _benchmark_module()
    lines = bm.r_ratio_lines(2.0, 3.0, 1000, 2, 272, {"elapsed": 50.0, "cpu": 99.0, "selected_mean": {"os": 7.5}})
    ratio = [x for x in lines if x.startswith("ratio R / ours")]
    assert len(ratio) == 1
    assert "measured in this run" in ratio[0] and "2 processes" in ratio[0] and "stored" not in ratio[0]
    assert ratio[0].endswith("25.0x")  # 50 s / 2 s
    assert any("the same 272 rows" in x for x in lines)


def test_r_ratio_without_r_is_labelled_stored_with_date_and_machine():
    """No R: the stored timing with its date and machine, compared per core (R's one core
    against ours on one process), labelled stored, never as measured."""
    bm = _benchmark_module()
    stored = {
        "date": "2001-02-03",
        "machine": "machine X",
        "what": "procedure Y",
        "rows": 272,
        "B": 1000,
        "cores": 1,
        "seconds": {"os": 90.0, "rfs": 70.0},
    }
    lines = bm.r_ratio_lines(2.0, 3.0, 500, 2, 272, None, stored=stored)
    text = "\n".join(lines)
    assert "2001-02-03" in text and "machine X" in text and "measured" not in text
    ratio = [x for x in lines if x.startswith("ratio R / ours")]
    assert len(ratio) == 1 and "stored R timing" in ratio[0] and "per core" in ratio[0]
    assert ratio[0].endswith("15.0x")  # 90 s x 500 / 1000 = 45 s of R on one core / 3 s of ours on one process


def test_benchmark_runs_and_prints_ratios():
    res = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "benchmark.py"), "--B", "5", "--cores", "2", "--no-r"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "OS only, 1 process: 5 replicates" in out
    assert "OS + RFS, 2 processes: 10 replicates" in out
    assert "identical in the serial and the parallel run: True" in out
    assert "ratio R / ours (stored R timing" in out
    assert "ratio lifelines(default) / crlmflow per fit:" in out
    assert "ratio lifelines(precision=1e-12) / crlmflow per fit:" in out
    assert "load average" in out
