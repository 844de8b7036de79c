"""Models beyond the paper and the minimum sample size, from config through the DAG."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

BIN = Path(sys.executable).parent


@pytest.mark.workflow
def test_alternative_models_and_sample_size_run_from_config(repo_root, tmp_path):
    with open(repo_root / "config" / "config.yaml", encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    out = tmp_path / "out"
    cfg["outdir"] = str(out)
    cfg["data"]["synthetic"]["n_eligible"] = 200
    cfg["validation"].update(bootstrap_B=6, bootstrap_chunks=2, calibration_B=2, cutpoint_permutations=10)
    cfg["alternative_models"] = {
        "methods": ["full", "lasso", "elastic_net", "ridge", "shrunk_stepwise"],
        "cv_folds": 3,
        "n_alphas": 8,
    }
    path = tmp_path / "alt.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    targets = [str(out / "tables" / "model_comparison.csv"), str(out / "tables" / "sample_size.csv")]
    res = subprocess.run(
        [str(BIN / "snakemake"), *targets, "--cores", "2", "--configfile", str(path), "-q"],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    table = pd.read_csv(out / "tables" / "model_comparison.csv")
    # the paper's model first, then every alternative, each on both sets, per endpoint
    assert table["Model"].nunique() == 6 and len(table) == 2 * 6 * 2
    assert table["Model"].iloc[0].startswith("Paper's model")
    perf = pd.read_csv(out / "validation" / "os" / "alternatives_performance.csv")
    assert set(perf["model"]) == {"full", "lasso", "elastic_net", "ridge", "shrunk_stepwise"}
    models = pd.read_csv(out / "models" / "os" / "alternatives" / "models.csv").set_index("model")
    assert "bootstrap calibration slope" in models.loc["shrunk_stepwise", "shrinkage_source"]
    cv = pd.read_csv(out / "models" / "os" / "alternatives" / "penalty_cv.csv")
    assert cv.groupby("model")["chosen"].sum().to_dict() == {"elastic_net": 1, "lasso": 1, "ridge": 1}
    size = pd.read_csv(out / "models" / "os" / "sample_size.csv")
    assert (size["parameters"] == 26).all() and (size["actual_n"] == size["actual_n"].iloc[0]).all()


@pytest.mark.workflow
def test_alternative_models_get_the_paper_models_validation_figures(repo_root, tmp_path):
    """Calibration, ROC and decision curves of each alternative beside the paper's model:
    the curves come from the same function on the same patients, and the figures draw them."""
    from PIL import Image

    with open(repo_root / "config" / "config.yaml", encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    out = tmp_path / "out"
    cfg["outdir"] = str(out)
    cfg["data"]["synthetic"]["n_eligible"] = 200
    cfg["validation"].update(bootstrap_B=4, bootstrap_chunks=1, calibration_B=2, cutpoint_permutations=10)
    cfg["alternative_models"] = {"methods": ["full", "ridge", "shrunk_stepwise"], "cv_folds": 3, "n_alphas": 8}
    path = tmp_path / "alt.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    figs = [out / "figures" / f"suppl_alternatives_os_{kind}.png" for kind in ("calibration", "roc", "dca")]
    res = subprocess.run(
        [str(BIN / "snakemake"), *map(str, figs), "--cores", "2", "--configfile", str(path), "-q"],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    val = out / "validation" / "os"
    fit = json.loads((out / "models" / "os" / "fit.json").read_text())
    expected = {"full", "ridge"} | ({"shrunk_stepwise"} if fit["selected"] else set())
    keys = ["set", "horizon", "threshold"]
    paper_dca = pd.read_csv(val / "decision_curves.csv").set_index(keys)
    dca = pd.read_csv(val / "alternatives_decision_curves.csv")
    assert set(dca["model"]) == expected and set(dca["set"]) == {"train", "validation"}
    for _, d in dca.groupby("model"):
        d = d.set_index(keys)
        # treating everyone depends on the patients only: the paper model's line, exactly
        assert d["net_benefit_all"].equals(paper_dca.loc[d.index, "net_benefit_all"])
        assert (d["estimable"] == paper_dca.loc[d.index, "estimable"]).all()
    cal = pd.read_csv(val / "alternatives_calibration.csv")
    assert set(cal["model"]) == expected
    assert (cal.loc[cal["set"] == "train", "evaluation"] == "apparent").all()
    assert cal["mean_predicted"].between(0, 1).all() and not (cal["km_lower"] > cal["km_upper"]).any()
    roc = pd.read_csv(val / "alternatives_roc_curves.csv")
    perf = pd.read_csv(val / "alternatives_performance.csv")
    assert set(roc["model"]) == expected
    checked = 0
    for (m, s, h), r in roc.groupby(["model", "set", "horizon"], sort=False):
        # each written curve's trapezoid area (cuts in file order, as survivalROC) is its AUC
        fp, tp = r["fpr"].to_numpy(float), r["tpr"].to_numpy(float)
        area = float(np.sum((fp[:-1] - fp[1:]) * (tp[:-1] + tp[1:]) / 2))
        row = perf[(perf["model"] == m) & (perf["set"] == s) & (perf["measure"] == "auc_km") & (perf["horizon"] == h)]
        assert len(row) == 1
        if bool(row["estimable"].iloc[0]):
            assert area == pytest.approx(float(row["estimate"].iloc[0]), abs=1e-12)
            checked += 1
    assert checked >= len(expected)
    for png in figs:
        img = Image.open(png)
        assert abs(img.size[0] - 170 / 25.4 * 300) < 2  # double-column width, 170 mm at 300 dpi
        assert "Alternative models" in img.info.get("exhibit", "")
    executed = (out / "notebooks" / "supplementary_alternatives_os.ipynb").read_text()
    assert "Beyond the paper: ridge Cox" in executed and "headline" in executed
