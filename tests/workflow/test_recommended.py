"""config/recommended.yaml: the methodologist's analysis runs end to end beside the paper's."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from crlmflow.report.formats import MODEL_LABELS

BIN = Path(sys.executable).parent


def _small_pair(repo_root, tmp_path, n=150):
    """The paper's study and the recommended one, both on the same small cohort, the
    recommended one with a small bootstrap, into a temporary outdir."""
    paper = tmp_path / "paper_small.yaml"
    paper.write_text(
        yaml.safe_dump(
            {
                "extends": str(repo_root / "config" / "config.yaml"),
                "outdir": str(tmp_path / "paper_out"),
                "data": {"synthetic": {"n_eligible": n}},
            }
        ),
        encoding="utf-8",
    )
    rec = tmp_path / "recommended_small.yaml"
    rec.write_text(
        yaml.safe_dump(
            {
                "extends": str(repo_root / "config" / "recommended.yaml"),
                "outdir": str(tmp_path / "out"),
                "data": {"synthetic": {"n_eligible": n}},
                "validation": {
                    "bootstrap_B": 8,
                    "bootstrap_chunks": 2,
                    "calibration_B": 4,
                    "cutpoint_permutations": 10,
                    "cutpoint_bootstrap_B": 4,
                },
                "comparison": {"reference": str(paper)},
            }
        ),
        encoding="utf-8",
    )
    return paper, rec


def test_recommended_config_is_valid_and_plans_the_comparison(repo_root, tmp_path):
    _, rec = _small_pair(repo_root, tmp_path)
    res = subprocess.run(
        [str(BIN / "snakemake"), "--cores", "1", "-n", "--configfile", str(rec)],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    for rule in (
        "reference_analysis",
        "exhibit_analysis_comparison",
        "competing_risks",
        "time_varying",
        "alternative_models",
        "exhibit_alternatives_validation",
        "exhibit_partial_effects",
    ):
        assert f"rule {rule}:" in res.stdout + res.stderr, rule


def test_reference_of_other_patients_is_a_config_error(repo_root, tmp_path):
    _, rec = _small_pair(repo_root, tmp_path)
    cfg = yaml.safe_load(rec.read_text())
    cfg["comparison"]["reference"] = str(repo_root / "config" / "config.yaml")  # 389 patients, not 150
    rec.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    res = subprocess.run(
        [str(BIN / "snakemake"), "--cores", "1", "-n", "--configfile", str(rec)],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert res.returncode != 0
    assert "must analyse the same patients" in res.stdout + res.stderr


@pytest.mark.workflow
def test_recommended_runs_end_to_end_with_the_side_by_side_table(repo_root, tmp_path):
    # 300 patients: after the landmark a smaller cohort can leave a binary candidate without
    # any death in one category, which the univariable screen reports as separation
    n = 300
    paper, rec = _small_pair(repo_root, tmp_path, n)
    res = subprocess.run(
        [str(BIN / "snakemake"), "--cores", "2", "--configfile", str(rec), "-q"],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = tmp_path / "out"
    cohort = pd.read_csv(out / "data" / "analysis_cohort.csv")
    assert set(cohort["set"]) == {"train"}  # developed on all patients
    # from the 3-month landmark: every patient left out is counted
    lm = json.loads((out / "data" / "split_summary.json").read_text())["landmark"]["development"]
    assert lm["landmark_months"] == 3 and lm["n_at_landmark"] == len(cohort)
    assert lm["n_before"] == lm["n_at_landmark"] + lm["event_by_landmark"] + lm["censored_by_landmark"]
    assert (cohort["rfs_months"] > 0).all() and lm["n_before"] == n
    # composite RFS: every death without recurrence is an RFS event
    assert (cohort["rfs_event"] == (cohort["rfs_status"] > 0)).all()
    assert (cohort["rfs_status"] == 2).any()
    # chemotherapy is one factor with a joint test: its dummies share one p
    univ = pd.read_csv(out / "models" / "os" / "univariable.csv")
    chemo = univ[univ["variable"] == "chemo_group"]
    assert len(chemo) == 2
    fit = json.loads((out / "models" / "os" / "fit.json").read_text())
    # splines with 3 knots: one extra parameter per continuous candidate, knots placed on the
    # development data; BMI (time-varying instead), CRS and ASA (scores) stay linear
    assert fit["n"] == len(cohort) and fit["candidate_parameters"] == 26 + len(fit["knots"])
    assert len(fit["knots"]) >= 15 and all(len(k) == 3 for k in fit["knots"].values())
    assert not {"bmi", "crs_score", "asa"} & set(fit["knots"])
    table = pd.read_csv(out / "tables" / "analysis_comparison.csv")
    assert list(table["endpoint"].unique()) == ["Overall survival", "Recurrence-free survival"]
    c = table[table["quantity"] == "Harrell's C"].set_index("endpoint")
    assert c["this_run_value"].between(0.5, 1).all() and c["reference_value"].between(0.5, 1).all()
    dev = table[table["quantity"] == "Development data"].set_index("endpoint")
    assert (dev["this_run_value"] == len(cohort)).all()
    assert (dev["reference_value"] < n).all()
    outcome = table[table["quantity"] == "Outcome"].set_index("endpoint").loc["Recurrence-free survival"]
    assert "censored" in outcome["reference"] and "composite" in outcome["this_run"]
    # the reference analysis splits the same patients into training and validation parts
    ref = json.loads((out / "comparison" / "reference_os.json").read_text())
    assert ref["n_validation"] + ref["fit"]["n"] == n  # every patient, before the landmark
    # recurrence with death as a competing event
    model = json.loads((out / "competing" / "recurrence" / "model.json").read_text())
    assert model["events_cause"] == int((cohort["rfs_status"] == 1).sum())
    assert model["events_competing"] == int((cohort["rfs_status"] == 2).sum())
    perf = pd.read_csv(out / "competing" / "recurrence" / "performance.csv")
    auc = perf[(perf["measure"] == "auc") & perf["estimable"].astype(bool)]
    assert len(auc) and auc["estimate"].between(0, 1).all()
    # BMI's coefficient refitted as beta + gamma * log t where the final model holds BMI
    for ep in ("os", "rfs"):
        tv = pd.read_csv(out / "models" / ep / "time_varying.csv")
        selected = "bmi" in json.loads((out / "models" / ep / "fit.json").read_text())["selected"]
        assert ("bmi:log(t)" in set(tv["term"])) == selected
        assert selected or tv["note"].iloc[0] == "no time-varying fit: not in the final model"
    md = (out / "tables" / "analysis_comparison.md").read_text()
    assert "Reference analysis" in md and "Simulated data" in md
    assert "competing-risk" in md and "apparent, not optimism-corrected" in md
    _assert_splines_and_shrinkage(out, table)


def _assert_splines_and_shrinkage(out, table):
    """What splines and shrinkage change, in the side-by-side table and the alternatives."""
    rows = table.set_index(["endpoint", "quantity"])
    for ep, label in (("os", "Overall survival"), ("rfs", "Recurrence-free survival")):
        fit = json.loads((out / "models" / ep / "fit.json").read_text())
        anova = pd.read_csv(out / "models" / ep / "anova.csv")
        nl = rows.loc[(label, "Non-linear terms")]
        assert "3 knots" in nl["this_run"] and "linear (assumed" in nl["reference"]
        splines = [v for v in fit["selected"] if v in fit["knots"]]
        assert (anova["part"] == "nonlinear").sum() == len(splines)
        assert pd.isna(nl["this_run_value"]) == (not splines)
        # the uniform shrinkage factor is the selection-aware bootstrap calibration slope
        opt = pd.read_csv(out / "validation" / ep / "optimism.csv").set_index("measure")
        models = pd.read_csv(out / "models" / ep / "alternatives" / "models.csv").set_index("model")
        assert set(models.index) == ({"full", "ridge", "lasso"} | ({"shrunk_stepwise"} if fit["selected"] else set()))
        perf = pd.read_csv(out / "validation" / ep / "alternatives_performance.csv")
        assert set(perf["set"]) == {"train"} and set(perf["evaluation"]) == {"apparent"}
        for m in ("full", "ridge", "lasso"):
            c = rows.loc[(label, f"{MODEL_LABELS[m]}, apparent C")]
            assert 0.5 <= c["this_run_value"] <= 1 and "not optimism-corrected" in c["this_run"]
        if not fit["selected"]:
            continue
        s = models.loc["shrunk_stepwise", "shrinkage"]
        assert s == pytest.approx(opt.loc["slope", "corrected"])
        assert rows.loc[(label, "Uniform shrinkage factor"), "this_run_value"] == pytest.approx(s)
        c = rows.loc[(label, "Shrunk model: Harrell's C")]
        assert c["this_run_value"] == pytest.approx(opt.loc["c_index", "corrected"])
        assert c["reference_value"] == rows.loc[(label, "Harrell's C"), "reference_value"]
        assert rows.loc[(label, "Shrunk model: calibration slope"), "this_run_value"] == pytest.approx(1.0)
