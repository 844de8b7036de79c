"""The simulation_study target under two scenarios (tiny sizes): each writes its own folder,
its truth cohort carries the scenario's truth, and the default folder is left alone."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crlmflow.simulation.mechanism import TRUE_LOG_HR_OS

pytestmark = pytest.mark.workflow

BIN = Path(sys.executable).parent


def _run(repo_root, cfg, path):
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return subprocess.run(
        [str(BIN / "snakemake"), "simulation_study", "--cores", "2", "--configfile", str(path)],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )


def test_two_scenarios_run_end_to_end_each_in_its_folder(repo_root, tmp_path):
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))
    out = tmp_path / "out"
    cfg["outdir"] = str(out)
    cfg["simulation_study"].update(replicates=2, batches=1, n_eligible=150, bootstrap_B=2, truth_n=3000)
    cfg["simulation_study"]["arms"] = ["paper", "full"]
    cfg["simulation_study"]["scenarios"]["small_n"] = {"n_eligible": 200}
    for name in ("shrunken", "nonlinear"):
        cfg["simulation_study"]["scenario"] = name
        res = _run(repo_root, cfg, tmp_path / f"{name}.yaml")
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert not (out / "simulation_study" / "replicates.csv").exists()  # the default folder untouched

    shr = out / "simulation_study" / "shrunken"
    truth = json.loads((shr / "truth" / "ground_truth.json").read_text())
    for k, v in TRUE_LOG_HR_OS.items():
        assert truth["os"]["log_hr"][k] == pytest.approx(0.5 * v)
    reps = pd.read_csv(shr / "replicates.csv")
    assert set(reps["arm"]) == {"paper", "full"} and sorted(reps["rep"].unique()) == [0, 1]
    # true C, slope and ICI of every fitted model on the scenario's truth cohort (a model of noise
    # can have C slightly below 0.5 with halved effects and 150 patients)
    assert reps["c_true"].between(0.0, 1.0).all() and reps["c_true"].mean() > 0.5, reps["c_true"].describe()
    assert np.isfinite(reps["ici_true"]).all()
    assert "Scenario **shrunken**" in (shr / "simulation_study.md").read_text()

    nl = out / "simulation_study" / "nonlinear"
    truth = json.loads((nl / "truth" / "ground_truth.json").read_text())
    assert truth["os"]["nonlinear"][0]["variable"] == "alb"
    ref = pd.read_csv(nl / "truth" / "truth_reference.csv")
    alb = ref[(ref["variable"] == "alb") & (ref["endpoint"] == "os")].iloc[0]
    assert alb["role"] == "true predictor" and "hinge" in alb["estimand"]
    # the true risk of the truth cohort follows the hinge: higher below the ALB knot, other things equal
    cohort = pd.read_csv(nl / "truth" / "truth_cohort.csv")
    low = cohort["alb"] < 38
    assert cohort.loc[low, "true_risk_os"].mean() > cohort.loc[~low, "true_risk_os"].mean()
    for f in ("methods.csv", "c_index.csv", "simulation_study.png", "method_comparison.png"):
        assert (nl / f).exists() and (shr / f).exists(), f


def test_without_the_paper_arm_no_paper_figure_is_planned(repo_root, tmp_path):
    """The paper's-procedure figure draws the paper arm's tables; without that arm its tables
    hold a note, so the figure is not planned (it used to fail the run)."""
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg["outdir"] = str(tmp_path / "out")
    cfg["simulation_study"].update(replicates=2, batches=1, arms=["paper_all_data", "full"])
    path = tmp_path / "no_paper.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    res = subprocess.run(
        [str(BIN / "snakemake"), "simulation_study", "-n", "--quiet", "rules", "--configfile", str(path)],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "simstudy_methods_figure" in res.stdout and "simstudy_figure" not in res.stdout.replace(
        "simstudy_methods_figure", ""
    )
