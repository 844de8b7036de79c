"""tools/benchmark.py runs end to end with a tiny B and prints its ratio lines (no timing
assertions: the machine is shared)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_runs_and_prints_ratios():
    res = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "benchmark.py"), "--B", "5", "--cores", "2"],
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
    assert "ratio lifelines(default) / crlmflow per fit:" in out
    assert "ratio lifelines(precision=1e-12) / crlmflow per fit:" in out
    assert "load average" in out
