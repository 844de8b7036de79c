"""Benchmark: the simulation study, each method arm timed on its own.

    .venv/bin/python tools/benchmark_simstudy.py [--replicates 200] [--cores 2] [--batches 2]
        [--arms paper ...] [--baseline] [--workdir /tmp/crlm_simstudy_bench]

Runs in a fresh output directory under ``--workdir`` (never ``results/``), with the default
config otherwise (``simulation_study.bootstrap_B``, ``n_eligible`` and ``truth_n`` as
configured):

1. the truth cohort (rule ``simstudy_truth_cohort``), timed once;
2. for each arm in ``--arms`` (default: every registered arm), all replicates of that arm
   alone (``simulation_study.arms: [arm]``), in ``--batches`` jobs on ``--cores`` cores
   (rule ``simstudy_batch`` forced, the truth cohort reused);
3. with ``--baseline``, the first arm again with one job per replicate (``batches =
   replicates``: the design before batching, a fresh process per replicate), and the ratio
   baseline / batched measured in the same run.

Printed per step: wall time, CPU time (user + system of every job, ``wait4`` rusage of the
Snakemake process tree, robust to other load on a shared machine), CPU time per replicate,
the projected wall time on ``--cores`` idle cores (CPU time / the cores the step's jobs can
use: what the wall time would be without other load), each arm's CPU time as a multiple of
the paper arm's (measured in the same run), and the load average before and after.  Timings
only, no assertions (issue 20: the paper's-procedure arm with 200 replicates should take <= 3
minutes on an idle 2-core machine).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from crlmflow.simulation.batches import replicate_batches  # noqa: E402


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def _run(cmd: list[str], log_path: Path) -> dict:
    t0 = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)} (log {log_path})")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime}


def _config(workdir: Path, name: str, out: Path, **sim) -> Path:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg["outdir"] = str(out)
    if "arms" not in cfg["simulation_study"]:  # a study without the arm registry: the paper's only
        sim.pop("arms", None)
    cfg["simulation_study"].update(sim)
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


def _registered_arms() -> list[str]:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    return list(cfg["simulation_study"].get("arms") or ["paper"])


def _table(rows, replicates: int, cores: int) -> None:
    """The per-step table; an arm's ``x paper`` is its CPU time over the paper arm's."""
    first = next(((k, r) for name, k, r in rows if name == "arm paper"), None)
    paper = first[1]["cpu"] if first else float("nan")
    head = ("step", "jobs", "wall s", "cpu s", "cpu s/rep", f"idle {cores}-core s", "x paper")
    print(f"\n{head[0]:<28}{head[1]:>6}{head[2]:>10}{head[3]:>10}{head[4]:>11}{head[5]:>15}{head[6]:>9}")
    for name, n_jobs, r in rows:
        arm = name != "truth cohort"
        per = r["cpu"] / replicates if arm else float("nan")
        idle = r["cpu"] / min(cores, n_jobs)  # CPU spread over the cores its jobs can use
        ratio = r["cpu"] / paper if arm else float("nan")
        print(f"{name:<28}{n_jobs:>6}{r['wall']:>10.1f}{r['cpu']:>10.1f}{per:>11.2f}{idle:>15.1f}{ratio:>9.2f}")
    if first:
        print(
            f"\npaper arm, {replicates} replicates: {paper / min(cores, first[0]):.0f} s projected on {cores} idle "
            f"cores ({paper / replicates:.2f} CPU s per replicate); issue 20's goal: <= 180 s for 200 replicates"
        )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--batches", type=int, default=None, help="jobs per arm (default: --cores)")
    ap.add_argument("--arms", nargs="+", default=None)
    ap.add_argument("--baseline", action="store_true", help="also time one job per replicate")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/crlm_simstudy_bench"))
    args = ap.parse_args(argv)
    batches = args.batches or args.cores
    arms = args.arms or _registered_arms()
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    out = args.workdir / "out"
    snake = [str(Path(sys.executable).parent / "snakemake"), "--cores", str(args.cores), "-q"]
    print(f"simulation study benchmark: {args.replicates} replicates, {args.cores} cores; load {_load()}")
    rows = []
    cfg = _config(args.workdir, "truth", out, replicates=args.replicates)
    truth = f"{out}/simulation_study/truth/truth_reference.csv"
    rows.append(("truth cohort", 1, _run([*snake, f"--configfile={cfg}", truth], args.workdir / "truth.log")))
    plan = [(arm, batches) for arm in arms]
    if args.baseline:
        plan.append((arms[0], args.replicates))
    for arm, k in plan:
        cfg = _config(args.workdir, f"{arm}_{k}", out, replicates=args.replicates, batches=k, arms=[arm])
        n_jobs = len(replicate_batches(args.replicates, k))
        targets = [f"{out}/simulation_study/batches/batch_{b}.csv" for b in range(n_jobs)]
        cmd = [*snake, f"--configfile={cfg}", "--forcerun", "simstudy_batch", "--", *targets]
        res = _run(cmd, args.workdir / f"{arm}_{k}.log")
        rows.append((f"arm {arm}", n_jobs, res))
        print(f"  {arm:<22} {n_jobs:>4} jobs  wall {res['wall']:7.1f} s  cpu {res['cpu']:7.1f} s", flush=True)
    _table(rows, args.replicates, args.cores)
    if args.baseline:
        base, batched = rows[-1][2], rows[1][2]
        print(
            f"\nratio one job per replicate / {batches} batches ({arms[0]}): "
            f"wall {base['wall'] / batched['wall']:.2f}x, cpu {base['cpu'] / batched['cpu']:.2f}x"
        )
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
