"""Cluster execution: the Slurm profile and per-rule resources (always), and the bootstrap
run through Snakemake's Slurm executor, byte-identical to a local run (marker ``slurm``).

The integration test needs a reachable Slurm cluster and is skipped without one;
``make test-slurm`` starts a one-node cluster on this machine (tools/slurm_localhost.sh)
and runs it, failing instead of skipping (CRLMFLOW_REQUIRE_SLURM=1).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

BIN = Path(sys.executable).parent
PROFILE = "profiles/slurm"


def _env():
    env = dict(os.environ)
    # Jobs run `python -m snakemake` and the rule scripts from PATH on the compute node
    # (sbatch exports this environment): the project's venv must come first.
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(BIN.parent)
    # as in the Makefile: each job is a fresh Python process, let it reuse bytecode
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(args, cwd, timeout=600):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=_env(), timeout=timeout)


# -- without a cluster --


def test_profile_keys(repo_root):
    profile = yaml.safe_load((repo_root / PROFILE / "config.yaml").read_text(encoding="utf-8"))
    assert profile["executor"] == "slurm"
    assert {"slurm_partition", "slurm_account", "mem_mb", "runtime"} <= set(profile["default-resources"])
    assert profile["latency-wait"] >= 30 and profile["retries"] >= 1 and profile["jobs"] >= 1


def test_snakemake_accepts_profile(repo_root):
    """Parsed by Snakemake with the Slurm plugin loaded; the partition comes from SBATCH_PARTITION."""
    env_partition = {"SBATCH_PARTITION": "crlm_test_partition"}
    res = subprocess.run(
        [str(BIN / "snakemake"), "--profile", PROFILE, "--dry-run"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        env={**_env(), **env_partition},
        timeout=300,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    resources = [line for line in out.splitlines() if line.strip().startswith("resources:")]
    assert resources and all("slurm_partition=crlm_test_partition" in line for line in resources)


def _rule_blocks(repo_root):
    files = [repo_root / "Snakefile", *sorted((repo_root / "workflow" / "rules").glob("*.smk"))]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for block in re.split(r"(?m)^(?=rule \w+:)", text)[1:]:
            yield path.name, re.match(r"rule (\w+):", block).group(1), block


def test_every_rule_with_a_job_declares_threads_memory_and_runtime(repo_root):
    """A rule that runs something (not a target-only rule like `all`) must tell the cluster
    how many cores, how much memory and how much time it needs."""
    missing = []
    checked = 0
    for fname, rule, block in _rule_blocks(repo_root):
        if not re.search(r"(?m)^    (script|shell|run|notebook|wrapper):", block):
            continue
        checked += 1
        resources = re.search(r"(?ms)^    resources:\n(.*?)(?=^    \w+:|\Z)", block)
        declared = set(re.findall(r"(?m)^        (\w+)=", resources.group(1))) if resources else set()
        if not {"mem_mb", "runtime"} <= declared or not re.search(r"(?m)^    threads: ", block):
            missing.append(f"{fname}:{rule}")
    assert checked >= 20
    assert not missing, f"rules without threads:, or resources mem_mb= and runtime=: {missing}"


def test_resources_scale_with_cohort_size(repo_root, tmp_path):
    """The bootstrap asks for more memory and time at n = 100,000 than at the default size."""

    def resources(n):
        cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))
        cfg["outdir"] = str(tmp_path / f"out{n}")
        cfg["data"]["synthetic"]["n_eligible"] = n
        path = tmp_path / f"n{n}.yaml"
        path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        res = _run(
            [str(BIN / "snakemake"), "--dry-run", "--configfile", str(path), "--until", "bootstrap_chunk"], repo_root
        )
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        job = re.split(r"(?m)^(?:local)?rule bootstrap_chunk:$", res.stdout)[1]
        line = next(ln for ln in job.splitlines() if ln.strip().startswith("resources:"))
        return {k: int(v) for k, v in re.findall(r"\b(mem_mb|runtime)=(\d+)", line)}

    small, large = resources(389), resources(100_000)
    assert 1000 <= small["mem_mb"] < large["mem_mb"] <= 8000
    assert 10 <= small["runtime"] < large["runtime"] <= 240


# -- on a Slurm cluster --


def _cluster_unreachable():
    """Why no Slurm cluster can take jobs from here, or None."""
    for tool in ("sinfo", "sbatch", "squeue"):
        if shutil.which(tool) is None:
            return f"no Slurm cluster: `{tool}` not on PATH (make test-slurm starts a local one)"
    try:
        res = subprocess.run(["sinfo", "-h", "-o", "%P %a"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "no Slurm cluster: sinfo timed out"
    if res.returncode != 0:
        return f"no Slurm cluster: sinfo failed ({res.stderr.strip()[:200]})"
    if not any(line.split()[-1] == "up" for line in res.stdout.splitlines() if line.strip()):
        return "no Slurm cluster: no partition is up"
    return None


def _sacct_works():
    if shutil.which("sacct") is None:
        return False
    res = subprocess.run(["sacct", "-X", "-n", "-S", "now"], capture_output=True, text=True, timeout=30)
    return res.returncode == 0


BOOTSTRAP_FILES = ("bootstrap_replicates.csv", "optimism.csv", "selection_frequency.csv")


def _bootstrap_outputs(out: Path) -> dict:
    files = sorted(out.glob("validation/*/bootstrap/chunk_*.csv"))
    files += [p for name in BOOTSTRAP_FILES for p in sorted(out.glob(f"validation/*/{name}"))]
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in files}


@pytest.mark.slurm
def test_bootstrap_on_slurm_matches_local_run(repo_root):
    reason = _cluster_unreachable()
    if reason:
        if os.environ.get("CRLMFLOW_REQUIRE_SLURM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)

    # Inside the repository, not /tmp: compute nodes must see the config and the outputs
    # (shared filesystem); .snakemake/ is git-ignored.
    base = repo_root / ".snakemake" / "slurm_test"
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=base))
    try:
        cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))
        cfg["data"]["synthetic"]["n_eligible"] = 160
        cfg["validation"].update(bootstrap_B=24, bootstrap_chunks=4)
        runs = {}
        for name in ("local", "slurm"):
            cfg["outdir"] = str(work / name)
            path = work / f"{name}.yaml"
            path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
            targets = [
                str(work / name / "validation" / ep / f)
                for ep in cfg["endpoints"]
                for f in ("optimism.csv", "selection_frequency.csv")
            ]
            runs[name] = (path, targets)

        path, targets = runs["local"]
        res = _run([str(BIN / "snakemake"), *targets, "--cores", "2", "--configfile", str(path), "-q"], repo_root)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]

        path, targets = runs["slurm"]
        cmd = [
            str(BIN / "snakemake"),
            *targets,
            "--profile",
            PROFILE,
            "--configfile",
            str(path),
            "--jobs",
            "8",
            "--slurm-init-seconds-before-status-checks",
            "5",
        ]
        if not _sacct_works():
            # no accounting database (e.g. the one-node test cluster): finished jobs are
            # still listed by squeue for MinJobAge seconds
            cmd += ["--slurm-status-command", "squeue"]
        start = time.time()
        res = _run(cmd, repo_root, timeout=1800)
        log = res.stdout + res.stderr
        assert res.returncode == 0, f"{' '.join(cmd)}\n{log[-6000:]}"
        print(f"slurm run: {time.time() - start:.0f} s")
        submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", log)
        # simulate, clean, derive, split, 2 endpoints x (4 chunks + gather)
        assert len(submitted) >= 14, log[-3000:]

        local, slurm = _bootstrap_outputs(work / "local"), _bootstrap_outputs(work / "slurm")
        assert len(local) == 2 * (4 + len(BOOTSTRAP_FILES)), sorted(local)
        assert sorted(slurm) == sorted(local)
        differ = [f for f in local if local[f] != slurm[f]]
        assert not differ, f"Slurm and local runs differ in {differ}"
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not any(base.iterdir()):
            base.rmdir()
