"""Splines from the config through the DAG: the fit, anova, partial effects, nomogram,
model file and ``score`` of a model with spline terms (a small cohort, few replicates)."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

BIN = Path(sys.executable).parent


@pytest.mark.workflow
def test_splines_run_through_the_dag(repo_root, tmp_path):
    with open(repo_root / "config" / "config.yaml", encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    out = tmp_path / "out"
    cfg["outdir"] = str(out)
    cfg["splines"] = {"knots": 4, "variables": ["plt", "age", "hgb"]}
    cfg["validation"].update(bootstrap_B=4, bootstrap_chunks=1, calibration_B=2, cutpoint_permutations=10)
    cfg["validation"]["cutpoint_bootstrap_B"] = 5
    path = tmp_path / "splines.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    targets = [str(out / "models" / "rfs" / f) for f in ("anova.csv", "model.json", "input_template.csv")]
    targets += [
        str(out / "figures" / "suppl_partial_effects_rfs.png"),
        str(out / "validation" / "rfs" / "optimism.csv"),
    ]
    cmd = [str(BIN / "snakemake"), *targets, "--cores", "2", "--configfile", str(path), "-q"]
    res = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]

    fit = json.loads((out / "models" / "rfs" / "fit.json").read_text())
    assert set(fit["knots"]) == {"plt", "age", "hgb"}
    univ = pd.read_csv(out / "models" / "rfs" / "univariable.csv")
    assert set(univ.loc[univ["variable"] == "plt", "df_term"]) == {3}
    anova = pd.read_csv(out / "models" / "rfs" / "anova.csv", keep_default_na=False)
    splines_in_model = [v for v in fit["selected"] if v in fit["knots"]]
    assert (anova["part"] == "nonlinear").sum() == len(splines_in_model)
    assert anova["row"].iloc[-1] == "TOTAL" and int(anova["df"].iloc[-1]) == len(fit["terms"])
    model = json.loads((out / "models" / "rfs" / "model.json").read_text())
    assert all("knots" in v for v in model["variables"] if v["name"] in splines_in_model)

    scored = out / "scored.csv"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "crlmflow",
            "score",
            "--model",
            str(out / "models" / "rfs" / "model.json"),
            "--input",
            str(out / "models" / "rfs" / "input_template.csv"),
            "--output",
            str(scored),
        ],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert pd.read_csv(scored)["lp"].notna().all()
