"""Multiple imputation of missing predictors, from config through the DAG."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

BIN = Path(sys.executable).parent


@pytest.mark.workflow
def test_multiple_imputation_runs_from_config(repo_root, tmp_path):
    with open(repo_root / "config" / "config.yaml", encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    out = tmp_path / "out"
    cfg["outdir"] = str(out)
    cfg["data"]["synthetic"]["n_eligible"] = 200
    cfg["data"]["missing_predictors"] = "multiple_imputation"
    cfg["data"]["imputation"] = {"m": 3, "bootstrap_B": 2, "bootstrap_order": "bootstrap_then_impute"}
    cfg["validation"].update(bootstrap_B=4, bootstrap_chunks=2, calibration_B=2, cutpoint_permutations=10)
    path = tmp_path / "mi.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    targets = [
        str(out / "models" / ep / "mi" / f) for ep in ("os", "rfs") for f in ("pooled.csv", "performance.csv")
    ] + [
        str(out / "figures" / "figure1_flowchart.png"),
        str(out / "tables" / "table1.csv"),
        # the pooled model's table, and the complete-case exhibits that point to it
        str(out / "tables" / "mi_pooled_model.md"),
        str(out / "tables" / "table2.md"),
        str(out / "tables" / "performance_comparison.md"),
        str(out / "report" / "results.md"),
        str(out / "figures" / "figure_model_os.png"),
    ]
    res = subprocess.run(
        [str(BIN / "snakemake"), *targets, "--cores", "2", "--configfile", str(path), "-q"],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    # the synthetic export leaves one lab value or date blank in some patients: kept, counted
    flow = json.loads((out / "data" / "development" / "flow.json").read_text())
    assert flow["excluded"]["missing required data"] == 0 and flow["incomplete_kept"] > 0
    assert sum(flow["imputed"].values()) >= flow["incomplete_kept"]
    quality = pd.read_csv(out / "data" / "development" / "data_quality.csv")
    assert quality["imputed"].sum() == sum(flow["imputed"].values())
    everyone = pd.read_csv(out / "data" / "analysis_cohort_incomplete.csv")
    complete = pd.read_csv(out / "data" / "analysis_cohort.csv")
    split = json.loads((out / "data" / "split_summary.json").read_text())
    assert len(everyone) == flow["included"] == sum(split["n"].values())
    assert len(complete) == sum(split["complete_case"]["n"].values()) < len(everyone)
    for ep in ("os", "rfs"):
        mi = out / "models" / ep / "mi"
        sel = pd.read_csv(mi / "selection.csv")
        pooled = pd.read_csv(mi / "pooled.csv")
        assert (sel["imputations"] == 3).all()
        assert set(pooled["term"]) == set(sel.loc[sel["in_final"].astype(bool), "variable"])
        assert (pooled["t"] >= pooled["ubar"]).all() and (pooled["m"] == 3).all()
        perf = pd.read_csv(mi / "performance.csv").iloc[0]
        assert 0.5 < perf["apparent"] < 1 and perf["bootstrap_B"] == 2
        assert perf["bootstrap_order"].startswith("bootstrap then impute") and 0 <= perf["corrected"] < 1
        assert len(pd.read_csv(mi / "per_imputation.csv")) == 3
    table1 = (out / "tables" / "table1.md").read_text(encoding="utf-8")
    assert "Multiple imputation:" in table1 and f"{flow['incomplete_kept']} of {len(everyone)}" in table1

    _check_pooled_table_and_complete_case_wording(out, split)


def _check_pooled_table_and_complete_case_wording(out, split):
    """The supplementary table of the pooled model holds each endpoint's pooled terms (HR on
    t with Barnard-Rubin df, FMI), the selection shares over m = 3 and the pooled
    performance; Table 2, the bootstrap tables and the results text say they are the
    complete-case analysis of n patients and point to it."""
    tab = pd.read_csv(out / "tables" / "mi_pooled_model.csv", dtype=str, keep_default_na=False)
    md = (out / "tables" / "mi_pooled_model.md").read_text(encoding="utf-8")
    for ep, label in (("os", "OS"), ("rfs", "RFS")):
        rows = tab[tab["Endpoint"] == label]
        pooled = pd.read_csv(out / "models" / ep / "mi" / "pooled.csv")
        terms = rows[rows["df"] != ""]
        assert len(terms) == len(pooled)  # one row per pooled term, with its df and FMI
        for fmi in terms["FMI"]:
            assert 0 <= float(fmi) <= 1
        assert terms["Selected in imputations"].str.fullmatch(r"[23]/3 \(\d+%\)").all()
        perf = pd.read_csv(out / "models" / ep / "mi" / "performance.csv").set_index("measure")
        c = rows[rows["Variable"] == "Harrell's C-index"].iloc[0]
        assert c["Apparent"] == f"{perf.loc['c_index', 'apparent']:.3f}"
        assert c["Corrected"] == f"{perf.loc['c_index', 'corrected']:.3f}"
        assert len(rows[rows["Variable"] == "Calibration slope"]) == 1
    for text in ("m: OS 3; RFS 3", "majority rule", "Rubin 1987", "Barnard & Rubin 1999", "bootstrap then impute"):
        assert text in md, text
    cc = split["complete_case"]["n"]
    wording = f"complete-case analysis: fitted and evaluated on the {cc['train']} training set patients and {cc['validation']} validation set patients"
    for name in ("table2.md", "performance_comparison.md", "selection_stability.md"):
        text = (out / "tables" / name).read_text(encoding="utf-8")
        assert wording in text.lower() and "tables/mi_pooled_model" in text, name
    assert "complete-case analysis" in (out / "tables" / "table2.md").read_text(encoding="utf-8").splitlines()[0]
    # Figure 2's panel A says "Complete-case training set" (the notebook ran with complete_case)
    figure_nb = (out / "notebooks" / "figure_model_os.ipynb").read_text(encoding="utf-8")
    assert "complete_case = True" in figure_nb
    results = (out / "report" / "results.md").read_text(encoding="utf-8")
    assert "complete-case analysis of the" in results and "tables/mi_pooled_model" in results
