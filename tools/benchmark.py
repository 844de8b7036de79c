"""Benchmark: bootstrap optimism correction with selection inside every replicate, and the
per-fit speed of our Cox fitter beside lifelines.

    .venv/bin/python tools/benchmark.py [--B 1000] [--cores 2] [--data tests/fixtures/r_reference/crlm_synth_a.csv] [--no-r]

Prints, on one seeded 70% training subset of the data:
  (1) wall time of B replicates (univariable screening p < 0.10 + stepAIC both ways, refit,
      C / Dxy / slope / R2 / Brier on bootstrap and original data) for OS on one process, and
      for OS + RFS together over --cores processes; R's same procedure (screening then stepAIC in
      each resample, tools/benchmark_r_bootstrap.R) on the same rows, B and cores when Rscript
      with survival and MASS is on the PATH, and the ratio labelled "measured"; otherwise R's
      stored timing (date and machine printed) and a per-core ratio labelled "stored";
  (2) per-fit time of crlmflow's CoxData.fit on the OS final model beside lifelines
      CoxPHFitter (default settings and fit_options=dict(precision=1e-12)), as ratios.
Timings only (no assertions): the machine may be shared, so the load average is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from crlmflow.survival.cox import CoxData
from crlmflow.validation.optimism import (
    apparent_performance,
    run_replicates,
    run_replicates_parallel,
    summarise_optimism,
)

ROOT = Path(__file__).resolve().parents[1]
R_SCRIPT = ROOT / "tools" / "benchmark_r_bootstrap.R"
# R's time when Rscript is not available: R's procedure (as tools/benchmark_r_bootstrap.R) with
# B = 1000 on one core per endpoint, on the default data's 272 training rows, measured side by
# side with crlmflow for issue 20 on an idle machine
STORED_R = {
    "date": "2026-12-05",
    "machine": "the project's 2-core Intel Xeon development VM, idle (R 4.2.2)",
    "what": "screening then stepAIC in each resample (tools/benchmark_r_bootstrap.R)",
    "rows": 272,
    "B": 1000,
    "cores": 1,
    "seconds": {"os": 96.0, "rfs": 75.0},
}
DEFAULT_DATA = ROOT / "tests" / "fixtures" / "r_reference" / "crlm_synth_a.csv"
CANDIDATES = [
    "male",
    "age",
    "bmi",
    "hospital_days",
    "r0_resection",
    "rfa",
    "ca19_9",
    "cea",
    "wbc",
    "neut",
    "lymph",
    "hgb",
    "plt",
    "alt",
    "ast",
    "tbil",
    "dbil",
    "alb",
    "d_dimer",
    "nlr",
    "plr",
    "sii",
    "chemo_full_course",
    "chemo_neoadjuvant_only",
    "chemo_adjuvant_only",
    "asa",
    "crs_score",
]
EXCLUDE = ("chemo_full_course",)
ENDPOINTS = [("os", "os_months", "os_event"), ("rfs", "rfs_months", "rfs_event")]
HORIZONS = [12, 36, 60]


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def r_available() -> bool:
    """Rscript on the PATH with the survival and MASS packages installed."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return False
    check = 'quit(status = as.integer(!all(sapply(c("survival", "MASS"), requireNamespace, quietly = TRUE))))'
    try:
        return subprocess.run([rscript, "-e", check], capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def run_r(train: pd.DataFrame, candidates: list[str], B: int, cores: int, seed: int) -> dict:
    """Time R's procedure (tools/benchmark_r_bootstrap.R: screening then stepAIC in each of B
    resamples per endpoint, over ``cores`` processes) on the same training rows.
    Returns {"elapsed": wall s, "cpu": s, "selected_mean": {endpoint: mean terms}}."""
    need = candidates + [c for _, t, e in ENDPOINTS for c in (t, e)]
    eps = ",".join(f"{t}:{e}" for _, t, e in ENDPOINTS)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "train.csv"
        train[need].to_csv(csv, index=False)
        cmd = [shutil.which("Rscript") or "Rscript", str(R_SCRIPT), str(csv), str(B), str(cores), str(seed)]
        cmd += [",".join(candidates), ",".join(EXCLUDE), eps]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    out: dict = {"selected_mean": {}}
    for line in res.stdout.splitlines():
        parts = line.split()
        if parts[:1] in (["elapsed"], ["cpu"]):
            out[parts[0]] = float(parts[1])
        elif parts[:1] == ["selected_mean"]:
            out["selected_mean"][parts[1]] = float(parts[2])
    return out


def r_ratio_lines(
    ours_parallel_s: float,
    ours_serial_os_s: float,
    B: int,
    cores: int,
    n_rows: int,
    measured: dict | None,
    stored: dict = STORED_R,
) -> list[str]:
    """The R comparison, labelled by where R's time comes from.

    ``measured`` (R run in this benchmark, same rows, B and cores): ratio of the wall times
    of OS + RFS on ``cores`` processes, labelled "measured".  Without it: the stored timing
    with its date and machine, compared per core (R on one core against ours on one process
    for OS, scaled to B), labelled "stored"."""
    if measured is not None:
        sel = ", ".join(f"{k} {v:.1f}" for k, v in measured.get("selected_mean", {}).items())
        return [
            f"R (survival + MASS: screening then stepAIC in each resample; R's own resamples), OS + RFS, "
            f"{cores} processes, the same {n_rows} rows: {2 * B} replicates in {measured['elapsed']:.2f} s wall "
            f"(CPU {measured['cpu']:.2f} s; mean terms selected: {sel})",
            f"ratio R / ours (measured in this run: same rows, B={B}, {cores} processes each, wall time): "
            f"{measured['elapsed'] / ours_parallel_s:.1f}x",
        ]
    r_os = stored["seconds"]["os"] * B / stored["B"]
    return [
        f"R not run (Rscript with survival and MASS not on the PATH, or --no-r): stored R timing of "
        f"{stored['date']} on {stored['machine']}: {stored['what']}, {stored['rows']} rows, "
        f"{stored['B']} replicates on {stored['cores']} core: OS {stored['seconds']['os']:.1f} s, "
        f"RFS {stored['seconds']['rfs']:.1f} s",
        f"ratio R / ours (stored R timing, per core: R's OS on 1 core / ours on 1 process in this run, "
        f"B={B}): {r_os / ours_serial_os_s:.1f}x",
    ]


def _time_fits(fn, min_reps: int = 20, min_seconds: float = 0.5) -> float:
    """Median-of-batches seconds per call."""
    fn()
    per = []
    t_end = time.perf_counter() + min_seconds
    while len(per) < 5 or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        for _ in range(min_reps):
            fn()
        per.append((time.perf_counter() - t0) / min_reps)
        if len(per) > 200:
            break
    return float(np.median(per))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--B", type=int, default=1000)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--train-fraction", type=float, default=0.7)
    ap.add_argument("--no-r", action="store_true", help="do not run R; print the stored R timing")
    args = ap.parse_args(argv)

    df = pd.read_csv(args.data)
    keep = [c for c in CANDIDATES if c in df.columns]
    need = keep + [c for _, t, e in ENDPOINTS for c in (t, e)]
    df = df.dropna(subset=need).reset_index(drop=True)
    rng = np.random.default_rng(args.seed)
    idx = np.sort(rng.choice(len(df), int(round(args.train_fraction * len(df))), replace=False))
    train = df.iloc[idx].reset_index(drop=True)
    print(f"data: {args.data}  n={len(df)}  training subset n={len(train)} (seed {args.seed})")
    print(f"B={args.B}  cores={args.cores}  cpu_count={os.cpu_count()}  load average (1/5/15 min): {_load()}")

    # (1) bootstrap optimism correction, selection inside each replicate
    jobs = [
        dict(
            train_df=train,
            candidates=keep,
            time_col=t,
            event_col=e,
            horizons=HORIZONS,
            seed=args.seed,
            endpoint_index=k,
            exclude=EXCLUDE,
            screen_p=0.10,
            method="stepaic_both",
        )
        for k, (_, t, e) in enumerate(ENDPOINTS)
    ]
    t0, c0 = time.perf_counter(), time.process_time()
    os_reps = run_replicates(replicates=range(args.B), **jobs[0])
    t_os, c_os = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"OS only, 1 process: {args.B} replicates in {t_os:.2f} s wall "
        f"({1000 * t_os / max(args.B, 1):.2f} ms per replicate; mean {os_reps['n_fits'].mean():.1f} Cox fits each)"
    )
    print(
        f"OS only, CPU time of that process: {c_os:.2f} s ({1000 * c_os / max(args.B, 1):.2f} ms per replicate; "
        f"wall/CPU {t_os / max(c_os, 1e-9):.2f} shows the contention)"
    )
    t0 = time.perf_counter()
    both = run_replicates_parallel(jobs, B=args.B, cores=args.cores)
    t_both = time.perf_counter() - t0
    print(
        f"OS + RFS, {args.cores} processes: {2 * args.B} replicates in {t_both:.2f} s wall "
        f"({1000 * t_both / max(2 * args.B, 1):.2f} ms per replicate-endpoint wall)"
    )
    same = os_reps.equals(both[0])
    print(f"OS replicates identical in the serial and the parallel run: {same}")
    ref_json = Path(args.data).with_name("crlm_a.json")
    if ref_json.exists() and Path(args.data).name == "crlm_synth_a.csv":
        tim = {ep: json.loads(ref_json.read_text())["endpoints"][ep]["timings"] for ep, _, _ in ENDPOINTS}
        r_val = sum(v["validate_seconds"] for v in tim.values())
        print(
            f"R rms::validate(B={tim['os']['validate_B']}, bw=TRUE: fastbw on the final model only, no "
            f"screening), OS + RFS, 1 process: {r_val:.2f} s (fixture timings; different procedure)"
        )
    measured = None if args.no_r or not r_available() else run_r(train, keep, args.B, args.cores, args.seed)
    for line in r_ratio_lines(t_both, t_os, args.B, args.cores, len(train), measured):
        print(line)

    for (ep, t, e), reps in zip(ENDPOINTS, both):
        app = apparent_performance(train, keep, t, e, HORIZONS, exclude=EXCLUDE)
        summ = summarise_optimism(app, reps)
        c = summ.loc["c_index"]
        print(
            f"  {ep}: selected {app['selected']}; C apparent {c['apparent']:.4f}, optimism {c['optimism']:.4f}, "
            f"corrected {c['corrected']:.4f}; slope test mean {summ.loc['slope', 'test_mean']:.3f}; "
            f"replicates with no variable selected: {int((reps['n_selected'] == 0).sum())}"
        )

    # (2) one Cox fit of the final OS model: ours vs lifelines
    ep, t, e = ENDPOINTS[0]
    app = apparent_performance(train, keep, t, e, HORIZONS, exclude=EXCLUDE)
    terms = app["selected"] or ["crs_score"]
    X = train[terms].to_numpy(float)
    tt, ee = train[t].to_numpy(float), train[e].to_numpy(float)
    ours_one = lambda: CoxData(tt, ee, X, names=terms).fit()  # noqa: E731  (sort + fit)
    prepared = CoxData(tt, ee, X, names=terms)
    ours_prep = lambda: prepared.with_weights(None).fit()  # noqa: E731
    sec_ours = _time_fits(ours_one)
    sec_prep = _time_fits(ours_prep)
    print(
        f"Cox fit of the final OS model ({len(terms)} terms, n={len(train)}): "
        f"crlmflow {1e3 * sec_ours:.3f} ms per fit (incl. sort), {1e3 * sec_prep:.3f} ms on prepared data"
    )
    try:
        from lifelines import CoxPHFitter
    except ImportError:  # pragma: no cover
        print("lifelines not installed: no comparison")
        return 0
    dl = train[terms + [t, e]].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        def ll_default():
            return CoxPHFitter().fit(dl, t, e)

        def ll_precise():
            return CoxPHFitter().fit(dl, t, e, fit_options=dict(precision=1e-12))

        # lifelines also stops on a relative log-likelihood change (r_precision, default 1e-9)
        def ll_tight():
            return CoxPHFitter().fit(dl, t, e, fit_options=dict(precision=1e-12, r_precision=1e-14))

        sec_ld = _time_fits(ll_default, min_reps=5)
        sec_lp = _time_fits(ll_precise, min_reps=5)
        sec_lt = _time_fits(ll_tight, min_reps=5)
        ours = ours_one()
        diff_d = np.max(np.abs(ll_default().params_.to_numpy() - ours.coef))
        diff_p = np.max(np.abs(ll_precise().params_.to_numpy() - ours.coef))
        diff_t = np.max(np.abs(ll_tight().params_.to_numpy() - ours.coef))
    print(f"lifelines CoxPHFitter default: {1e3 * sec_ld:.3f} ms per fit; max |coef diff| vs ours {diff_d:.2e}")
    print(f"lifelines CoxPHFitter precision=1e-12: {1e3 * sec_lp:.3f} ms per fit; max |coef diff| vs ours {diff_p:.2e}")
    print(
        f"lifelines CoxPHFitter precision=1e-12, r_precision=1e-14: {1e3 * sec_lt:.3f} ms per fit; "
        f"max |coef diff| vs ours {diff_t:.2e}"
    )
    print(f"ratio lifelines(default) / crlmflow per fit: {sec_ld / sec_ours:.1f}x")
    print(f"ratio lifelines(precision=1e-12) / crlmflow per fit: {sec_lp / sec_ours:.1f}x")
    print(f"ratio lifelines(precision=1e-12, r_precision=1e-14) / crlmflow per fit: {sec_lt / sec_ours:.1f}x")
    ref_json = Path(args.data).with_name("crlm_a.json")
    if ref_json.exists() and Path(args.data).name == "crlm_synth_a.csv":
        tim = json.loads(ref_json.read_text())["endpoints"]["os"]["timings"]
        r_fit = tim["coxph_seconds"] / tim["coxph_reps"]
        print(
            f"R coxph (fixture timing, final crlm_a OS model on all rows): {1e3 * r_fit:.3f} ms per fit; "
            f"ratio R / crlmflow {r_fit / sec_ours:.1f}x"
        )
    print(f"load average at the end: {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
