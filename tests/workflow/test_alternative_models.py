"""Models beyond the paper and the minimum sample size, from config through the DAG."""

import subprocess
import sys
from pathlib import Path

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
