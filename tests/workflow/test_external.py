"""External validation through the real workflow: the project's simulated external centre."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

BIN = Path(sys.executable).parent


def _external_config(repo_root, out):
    with open(repo_root / "config" / "config.yaml", encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    cfg["outdir"] = str(out)
    cfg["split"]["method"] = "external"
    cfg["data"]["synthetic"]["n_eligible"] = 200
    cfg["external"]["synthetic"]["n_eligible"] = 150
    cfg["validation"].update(bootstrap_B=8, bootstrap_chunks=2, calibration_B=4, cutpoint_permutations=10)
    return cfg


@pytest.mark.workflow
def test_simulated_external_centre_runs_to_the_end_with_every_exhibit(repo_root, tmp_path):
    out = tmp_path / "out"
    path = tmp_path / "external.yaml"
    path.write_text(yaml.safe_dump(_external_config(repo_root, out)), encoding="utf-8")
    res = subprocess.run(
        [str(BIN / "snakemake"), "--cores", "2", "--configfile", str(path), "-q"],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]

    # both cohorts with their own exclusions; each set is its own cohort's included patients
    summary = json.loads((out / "data" / "split_summary.json").read_text())
    dev_flow = json.loads((out / "data" / "development" / "flow.json").read_text())
    ext_flow = json.loads((out / "data" / "external" / "flow.json").read_text())
    assert summary["method"] == "external"
    assert summary["n"] == {"train": dev_flow["included"], "validation": ext_flow["included"]}
    assert ext_flow["included"] == 150 and ext_flow["read"] > 150
    cohort = pd.read_csv(out / "data" / "analysis_cohort.csv", dtype={"patient_id": str})
    ext_ids = cohort.loc[cohort["cohort"] == "external", "patient_id"]
    assert ext_ids.str.match(r"^E\d+$").all(), "identifiers are the centre's own, never rewritten"

    # every applicable exhibit, per endpoint
    exhibits = ["figures/figure1_flowchart", "figures/figure4_km"]
    exhibits += [f"figures/{f}_{ep}" for ep in ("os", "rfs") for f in ("figure_model", "suppl_calibration")]
    for base in exhibits:
        for ext in ("pdf", "png"):
            assert (out / f"{base}.{ext}").stat().st_size > 1000, base
    for t in ("table1", "table2", "table3", "performance_comparison", "selection_stability", "paper_comparison"):
        assert (out / "tables" / f"{t}.csv").exists(), t
    assert (out / "provenance.json").exists()

    # extrapolation accounting and the updated models, beside the frozen model's numbers
    for ep in ("os", "rfs"):
        assert (out / "figures" / f"external_calibration_{ep}.png").stat().st_size > 1000
        extrap = pd.read_csv(out / "validation" / ep / "extrapolation.csv")
        assert (extrap["n_external"] == ext_flow["included"]).all()
        assert extrap["in_model"].any()
        upd = pd.read_csv(out / "validation" / ep / "updating.csv")
        assert set(upd["model"]) == {"recalibrated_in_the_large", "slope_recalibrated"}
        perf = pd.read_csv(out / "validation" / ep / "performance.csv")
        slope = perf.query("set == 'validation' and measure == 'calibration_slope'")["estimate"].item()
        coef = upd.query("model == 'slope_recalibrated' and measure == 'lp_coefficient'")["estimate"].item()
        assert coef == pytest.approx(slope, rel=1e-9), "slope recalibration uses the frozen lp"
        text = (out / "tables" / f"external_validation_{ep}.md").read_text(encoding="utf-8")
        assert text.index("Frozen model: external validation") < text.index("Updated:")

    # the external cohort is named as such, never "validation set"
    for t in ("table1", "table3", "performance_comparison"):
        text = (out / "tables" / f"{t}.md").read_text(encoding="utf-8")
        assert "External cohort" in text, t
        assert "Validation set" not in text and "held-out" not in text, t


@pytest.mark.workflow
def test_real_public_pair_runs_to_the_end_and_matches_r(repo_root, tmp_path):
    """config/rotterdam_gbsg.yaml through the real workflow (Rotterdam develops, GBSG
    validates), with GBSG's 'er' column removed: the frozen model does not use it, so the
    external file need not have it. The workflow's external-validation numbers match R."""
    gbsg = pd.read_csv(repo_root / "data" / "gbsg.csv", dtype={"id": str}).drop(columns=["er"])
    gbsg.to_csv(tmp_path / "gbsg_no_er.csv", index=False)
    out = tmp_path / "out"
    cfg = {
        "extends": str(repo_root / "config" / "rotterdam_gbsg.yaml"),
        "outdir": str(out),
        "external": {"file": {"path": str(tmp_path / "gbsg_no_er.csv")}},
        "validation": {"bootstrap_B": 8, "bootstrap_chunks": 2, "calibration_B": 4, "cutpoint_permutations": 10},
    }
    path = tmp_path / "pair.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    res = subprocess.run(
        [str(BIN / "snakemake"), "--cores", "2", "--configfile", str(path), "-q"],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]

    ref = json.loads((repo_root / "tests/fixtures/r_reference/rotterdam_gbsg/rotterdam_gbsg.json").read_text())
    fit = json.loads((out / "models" / "rfs" / "fit.json").read_text())
    assert fit["selected"] == ref["selected"] and "er" not in fit["selected"]
    perf = pd.read_csv(out / "validation" / "rfs" / "performance.csv").query("set == 'validation'")
    one = perf.set_index("measure")
    assert one.loc["c_index", "estimate"] == pytest.approx(ref["c_index"], abs=1e-6)
    assert one.loc["calibration_slope", "estimate"] == pytest.approx(ref["calibration_slope"], abs=1e-6)
    by_h = perf.set_index(["measure", "horizon"])
    for j, h in enumerate(ref["horizons"]):
        for m in ("auc_uno", "brier", "ipa"):
            assert by_h.loc[(m, h), "estimate"] == pytest.approx(ref[m][j], abs=1e-6), (m, h)
    summary = json.loads((out / "data" / "split_summary.json").read_text())
    assert summary["n"] == {"train": ref["n_development"], "validation": ref["n_external"]}

    # every applicable exhibit of a one-endpoint external study, and nothing of another endpoint
    for base in ("figure1_flowchart", "figure4_km", "figure_model_rfs", "suppl_calibration_rfs"):
        for ext in ("pdf", "png"):
            assert (out / "figures" / f"{base}.{ext}").stat().st_size > 1000, base
    assert (out / "figures" / "external_calibration_rfs.png").stat().st_size > 1000
    for t in ("table1", "table2", "table3", "performance_comparison", "external_validation_rfs"):
        assert (out / "tables" / f"{t}.csv").exists(), t
    assert not (out / "tables" / "paper_comparison.csv").exists()
    every = [str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()]
    assert not [p for p in every if "_os" in p or "/os/" in p]
    table1 = pd.read_csv(out / "tables" / "table1.csv").set_index("Characteristic")
    (ext_col,) = [c for c in table1.columns if c.startswith("External cohort")]
    (er_row,) = [c for c in table1.index if c.startswith("Oestrogen receptor")]
    assert table1.loc[er_row, ext_col] == "not recorded"
    extrap = pd.read_csv(out / "validation" / "rfs" / "extrapolation.csv").set_index("predictor")
    assert extrap.loc["grade3", "in_model"] and extrap.loc["size", "n_external"] == ref["n_external"]
    assert (out / "provenance.json").exists()
