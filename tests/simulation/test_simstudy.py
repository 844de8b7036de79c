"""Simulation study (crlmflow.simulation.study): performance measures on hand-made inputs, one
replicate of the procedure on a tiny cohort, the figure, and the Snakemake target."""

from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crlmflow.pipeline.streams import integer_seed, seed_sequence
from crlmflow.simulation import performance as perf
from crlmflow.simulation import study as ss
from crlmflow.simulation.study import NULL, TRUE, TRUE_NOT_CANDIDATE
from crlmflow.simulation.true_performance import true_risk, true_risk_column

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def _config(**sim) -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg["simulation_study"].update(sim)
    return cfg


# ---------------------------------------------------------------------------------------
# seeds and Monte Carlo performance measures
# ---------------------------------------------------------------------------------------


def test_replicate_seeds_depend_only_on_seed_and_rep():
    a = ss.replicate_seeds(11, 3)
    assert a == ss.replicate_seeds(11, 3)
    assert set(a) == {"simulate", "split", "bootstrap"} and len(set(a.values())) == 3
    assert a != ss.replicate_seeds(11, 4) and a != ss.replicate_seeds(12, 3)
    assert ss.truth_cohort_seed(11) not in {v for r in range(50) for v in ss.replicate_seeds(11, r).values()}
    # the named streams of the table in crlmflow.pipeline.streams
    assert list(a.values()) == [int(v) for v in seed_sequence(11, "simstudy_replicate", 3).generate_state(3)]
    assert ss.truth_cohort_seed(11) == integer_seed(11, "simstudy_truth")


def test_bias_mcse():
    bias, mcse = perf.bias_mcse([1.0, 2.0, 3.0, np.nan], 1.5)
    assert bias == pytest.approx(0.5)
    assert mcse == pytest.approx(math.sqrt(2 / 6))  # sum of squares 2, n(n-1) = 6
    assert perf.bias_mcse([2.0], 1.0) == (1.0, pytest.approx(float("nan"), nan_ok=True))
    assert all(math.isnan(v) for v in perf.bias_mcse([], 0.0))


def test_proportion_and_coverage_mcse():
    p, se = perf.proportion_mcse(3, 4)
    assert p == 0.75 and se == pytest.approx(math.sqrt(0.75 * 0.25 / 4))
    assert all(math.isnan(v) for v in perf.proportion_mcse(0, 0))
    cov, se = perf.coverage_mcse([0.0, 1.0, 2.0, np.nan], [2.0, 3.0, 4.0, 5.0], 1.5)
    assert cov == pytest.approx(2 / 3) and se == pytest.approx(math.sqrt(2 / 9 / 3))


def test_rmse_mcse():
    rmse, se = perf.rmse_mcse([1.0, -1.0, 2.0, -2.0])
    assert rmse == pytest.approx(math.sqrt(2.5))
    # MCSE(MSE) = sqrt(sum((e^2 - 2.5)^2) / (4 * 3)) = sqrt(9 / 12); delta method to the RMSE
    assert se == pytest.approx(math.sqrt(9 / 12) / (2 * math.sqrt(2.5)))


# ---------------------------------------------------------------------------------------
# summaries on a hand-made study
# ---------------------------------------------------------------------------------------


def _reference() -> pd.DataFrame:
    rows = [
        ("a", TRUE, True, 0.5),
        ("b", NULL, True, 0.0),
        ("c", NULL, False, 0.0),
        ("k", TRUE_NOT_CANDIDATE, False, 0.2),
    ]
    return pd.DataFrame(
        [
            dict(
                endpoint="os",
                term=t,
                variable=t,
                label=t.upper(),
                role=r,
                estimable=e,
                log_hr_true=b,
                hr_true=math.exp(b),
                log_hr_large_sample=b + 0.01,
                se_large_sample=0.01,
                estimand="hand-made",
            )
            for t, r, e, b in rows
        ]
    )


def _replicates() -> pd.DataFrame:
    # rep 0 selects a, b; rep 1 a; rep 2 b; rep 3 nothing. (coef, lower, upper) of the log-HR.
    chosen = {
        (0, "a"): (0.6, 0.4, 0.8),
        (0, "b"): (0.2, -0.1, 0.5),
        (1, "a"): (0.3, 0.1, 0.45),
        (2, "b"): (-0.3, -0.5, -0.1),
    }
    c = {
        0: (0.80, 0.72, 0.70, 0.01, 0.69),
        1: (0.80, 0.68, 0.70, 0.01, 0.69),
        2: (0.80, 0.70, 0.70, 0.001, 0.69),
        3: (0.80, 0.70, 0.70, 0.01, 0.69),
    }
    rows = []
    for rep in range(4):
        app, split, true, split_se, corr = c[rep]
        for term in ("a", "b", "c"):
            b, lo, hi = chosen.get((rep, term), (np.nan,) * 3)
            rows.append(
                dict(
                    rep=rep,
                    endpoint="os",
                    term=term,
                    variable=term,
                    selected=int((rep, term) in chosen),
                    coef=b,
                    se=0.1,
                    hr=math.exp(b),
                    hr_lower=math.exp(lo),
                    hr_upper=math.exp(hi),
                    events_train=100,
                    c_apparent=app,
                    c_split=split,
                    c_split_se=split_se,
                    c_corrected=corr,
                    c_true=true,
                )
            )
    return pd.DataFrame(rows)


def test_summarise_predictors_by_hand():
    tab = perf.summarise_predictors(_replicates(), _reference()).set_index("term")
    a, b, c, k = (tab.loc[t] for t in "abck")
    assert a["replicates"] == 4 and a["n_selected"] == 2 and a["selection_freq"] == 0.5
    assert a["selection_freq_mcse"] == pytest.approx(math.sqrt(0.25 / 4))
    assert a["bias"] == pytest.approx(0.45 - 0.5) and a["bias_mcse"] == pytest.approx(0.15)
    assert a["bias_vs_large_sample"] == pytest.approx(0.45 - 0.51)
    assert a["coverage"] == pytest.approx(0.5)  # rep 1's CI (0.1, 0.45) misses 0.5
    assert a["empirical_se"] == pytest.approx(np.std([0.6, 0.3], ddof=1)) and a["model_se"] == pytest.approx(0.1)
    assert a["n_selected_given_all_true"] == 2 and a["bias_given_all_true"] == pytest.approx(-0.05)
    assert b["selection_freq"] == 0.5 and b["bias"] == pytest.approx(-0.05) and b["coverage"] == 0.5
    # only rep 0 selected b together with every true predictor (a)
    assert b["n_selected_given_all_true"] == 1 and b["bias_given_all_true"] == pytest.approx(0.2)
    assert b["coverage_given_all_true"] == 1.0
    assert c["selection_freq"] == 0 and math.isnan(c["bias"]) and not c["estimable"]
    assert k["role"] == TRUE_NOT_CANDIDATE and k["n_selected"] == 0


def test_summarise_models_by_hand():
    m = perf.summarise_models(_replicates(), _reference()).iloc[0]
    assert m["replicates"] == 4 and m["n_true_predictors"] == 1 and m["true_predictors"] == "a"
    assert m["mean_selected"] == 1.0 and m["mean_true_selected"] == 0.5 and m["mean_null_selected"] == 0.5
    assert m["p_all_true_selected"] == 0.5 and m["p_exact_true_model"] == 0.25
    assert m["p_no_null_selected"] == 0.5 and m["p_empty_model"] == 0.25
    assert m["p_exact_true_model_mcse"] == pytest.approx(math.sqrt(0.25 * 0.75 / 4))


def test_summarise_c_by_hand():
    tab = perf.summarise_c(_replicates()).set_index("estimator")
    split = tab.loc["split_sample"]
    assert split["replicates"] == 4 and split["mean_true_c"] == pytest.approx(0.70)
    assert split["mean_error"] == pytest.approx(0.0, abs=1e-12)
    assert split["rmse"] == pytest.approx(math.sqrt((0.02**2 * 2) / 4))
    # |error| <= 1.96 SE: reps 2 and 3 (error 0); reps 0 and 1 have |0.02| > 1.96 * 0.01
    assert split["ci_coverage"] == 0.5
    corr = tab.loc["optimism_corrected"]
    assert corr["mean_error"] == pytest.approx(-0.01) and corr["sd_error"] == pytest.approx(0.0, abs=1e-12)
    assert corr["rmse"] == pytest.approx(0.01)
    assert tab.loc["apparent", "mean_error"] == pytest.approx(0.10) and math.isnan(tab.loc["apparent", "ci_coverage"])


def test_summarise_and_markdown():
    tables = perf.summarise(_replicates(), _reference())
    assert set(tables) == {"predictors", "models", "c_index"}
    md = perf.report_markdown(tables, dict(replicates=4, n_eligible=389, bootstrap_B=5, truth_n=1000, seed=1))
    assert "# Simulation study" in md and "Selected models" in md and "| OS | A | true predictor |" in md


# ---------------------------------------------------------------------------------------
# the procedure on a tiny cohort
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    cfg = _config(n_eligible=150, bootstrap_B=3, truth_n=600, seed=5, arms=["paper"])
    cohort, truth = ss.simulate_analysis_cohort(600, ss.truth_cohort_seed(5), cfg)
    risks = {true_risk_column(k): true_risk(truth, k, cohort, 36) for k in ("os", "rfs")}
    cohort = cohort[ss.analysis_columns(cfg)].assign(**risks)
    return cfg, cohort, truth


def test_truth_reference(tiny):
    cfg, cohort, truth = tiny
    assert len(cohort) == 600 and not cohort.isna().any().any()
    ref = ss.truth_reference(truth, cohort, cfg)
    os_true = set(ref.loc[(ref["endpoint"] == "os") & (ref["role"] == TRUE), "variable"])
    assert os_true == {"hospital_days", "r0_resection", "rfa", "chemo_neoadjuvant_only", "crs_score"}
    rfs_true = set(ref.loc[(ref["endpoint"] == "rfs") & (ref["role"] == TRUE), "variable"])
    assert rfs_true == {"r0_resection", "rfa", "crs_score"}
    row = ref[(ref["endpoint"] == "os") & (ref["term"] == "rfa")].iloc[0]
    assert row["log_hr_true"] == pytest.approx(math.log(2.326)) and np.isfinite(row["log_hr_large_sample"])
    assert set(ref.loc[ref["role"] == TRUE_NOT_CANDIDATE, "variable"]) == {"kras_mutant"}
    excl = ref[ref["variable"] == "chemo_full_course"]
    assert not excl["estimable"].any() and excl["log_hr_large_sample"].isna().all()
    assert ref.loc[ref["role"] == NULL, "log_hr_true"].eq(0).all()


def test_run_replicate_tiny_cohort_is_deterministic(tiny):
    cfg, cohort, _ = tiny
    a = ss.run_replicate(cfg, 2, 5, cohort)
    assert list(a.columns) == ss.REPLICATE_COLUMNS
    assert len(a) == 2 * len(cfg["candidates"]) and set(a["endpoint"]) == {"os", "rfs"}
    per_ep = a.drop_duplicates("endpoint").set_index("endpoint")
    assert (per_ep["n_train"] == 105).all() and (per_ep["n_validation"] == 45).all()  # ceil(0.7 * 150)
    for col in ("c_apparent", "c_split", "c_corrected", "c_true"):
        assert per_ep[col].between(0.3, 1.0).all(), col
    assert (per_ep["arm"] == "paper").all() and per_ep["ici_true"].between(0, 0.5).all()
    assert per_ep["slope_true"].between(0.1, 3).all() and per_ep["slope_corrected"].notna().all()
    assert (per_ep["n_bootstrap"] == 3).all()
    assert per_ep["c_corrected"].to_numpy() == pytest.approx((per_ep["c_apparent"] - per_ep["c_optimism"]).to_numpy())
    sel = a[a["selected"] == 1]
    assert sel[["coef", "se", "hr_lower", "hr_upper"]].notna().all().all()
    assert (sel["hr_lower"] < sel["hr"]).all() and (sel["hr"] < sel["hr_upper"]).all()
    assert a.loc[a["selected"] == 0, "coef"].isna().all()
    for _, g in a.groupby("endpoint"):
        assert g["n_selected"].iloc[0] == int(g["selected"].sum())
    assert a["seed_simulate"].iloc[0] == ss.replicate_seeds(5, 2)["simulate"]
    pd.testing.assert_frame_equal(a, ss.run_replicate(cfg, 2, 5, cohort))
    b = ss.run_replicate(cfg, 3, 5, cohort)
    assert not a["c_split"].equals(b["c_split"])


def test_run_replicate_without_deaths_before_a_horizon(tiny):
    """Replicate 20 of the default study has no OS death within 12 months in its training
    set (a Brier/IPA at 12 months would divide by zero); the C-only procedure still runs."""
    from crlmflow.data.cohort import assign_sets

    _, cohort, _ = tiny
    cfg = _config(bootstrap_B=2, arms=["paper"])
    seed = cfg["simulation_study"]["seed"]
    seeds = ss.replicate_seeds(seed, 20)
    data, _ = ss.simulate_analysis_cohort(cfg["simulation_study"]["n_eligible"], seeds["simulate"], cfg)
    split = dict(cfg["split"], method="random")
    data, _ = assign_sets({"development": data}, split, seed=seeds["split"])
    train = data[data["set"] == "train"]
    assert not ((train["os_months"] <= 12) & (train["os_event"] == 1)).any()  # the premise
    a = ss.run_replicate(cfg, 20, seed, cohort)
    os_row = a[a["endpoint"] == "os"].iloc[0]
    assert np.isfinite(os_row["c_corrected"]) and os_row["n_bootstrap"] == 2


def test_every_arm_on_the_same_cohort(tiny):
    """All registered arms on one replicate: the paper's arm is unchanged by the others, the
    all-data arms develop on every patient and have no split C, the full model keeps the pool."""
    cfg, cohort, _ = tiny
    both = dict(cfg, simulation_study=dict(cfg["simulation_study"], arms=["paper", "paper_all_data", "full"]))
    a = ss.run_replicate(both, 2, 5, cohort)
    assert list(dict.fromkeys(a["arm"])) == ["paper", "paper_all_data", "full"]
    pd.testing.assert_frame_equal(a[a["arm"] == "paper"].reset_index(drop=True), ss.run_replicate(cfg, 2, 5, cohort))
    per = a.drop_duplicates(["arm", "endpoint"]).set_index(["arm", "endpoint"])
    assert (per.loc["paper_all_data", "n_train"] == 150).all() and per.loc["full", "c_split"].isna().all()
    assert per.loc["paper_all_data", "n_validation"].eq(0).all()
    pool = [c["name"] for c in cfg["candidates"] if c["name"] not in cfg["exclude_from_multivariable"]]
    full = a[(a["arm"] == "full") & (a["endpoint"] == "os")]
    assert set(full.loc[full["selected"] == 1, "variable"]) == set(pool)
    assert per.loc["full", "n_selected"].eq(len(pool)).all()
    # apparent C >= corrected C is the usual direction for a 26-parameter model on 150 patients
    assert (per.loc["full", "c_apparent"] > per.loc["full", "c_corrected"]).all()
    with pytest.raises(ValueError, match="registered"):
        ss.run_replicate(dict(cfg, simulation_study=dict(cfg["simulation_study"], arms=["lasso?"])), 2, 5, cohort)


def test_truth_key_rejects_unsimulated_endpoint(tiny):
    cfg, cohort, _ = tiny
    bad = dict(cfg, endpoints={"dfs": {"time": "dfs_months", "event": "dfs_event", "label": "DFS"}})
    with pytest.raises(ValueError, match="not simulated"):
        ss.truth_key(bad["endpoints"]["dfs"])


def test_plot_simulation_study(tmp_path):
    from crlmflow.report.plots import save_figure
    from crlmflow.report.plots.simstudy import plot_simulation_study

    tables = perf.summarise(_replicates(), _reference())
    fig = plot_simulation_study(tables["predictors"], _replicates(), tables["c_index"], seed=1)
    assert len(fig.axes) == 2
    paths = save_figure(fig, tmp_path / "sim")
    assert paths["png"].stat().st_size > 1000 and paths["pdf"].read_bytes()[:4] == b"%PDF"


# ---------------------------------------------------------------------------------------
# the Snakemake target
# ---------------------------------------------------------------------------------------


def _digests(folder: Path) -> dict:
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and not rel.startswith(("notebooks/", "logs/")):
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.mark.workflow
def test_simulation_study_target(repo_root, tmp_path):
    out = tmp_path / "out"
    cfg = _config(
        replicates=3,
        bootstrap_B=5,
        truth_n=2000,
        seed=99,
        batches=2,
        arms=["paper", "full", "lasso", "shrunk_stepwise", "full_splines"],
        penalised_bootstrap_B=2,
    )
    cfg["alternative_models"] = {"cv_folds": 3, "n_alphas": 6}
    cfg["outdir"] = str(out)
    path = tmp_path / "sim.yaml"

    def run(cores, batches=2):
        cfg["simulation_study"]["batches"] = batches
        path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        res = subprocess.run(
            [str(BIN / "snakemake"), "simulation_study", "--cores", str(cores), "--configfile", str(path), "-q"],
            cwd=repo_root,
            capture_output=True,
            text=True,
        )
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]

    run(2)
    sim = out / "simulation_study"
    reps = pd.read_csv(sim / "replicates.csv")
    assert sorted(reps["rep"].unique()) == [0, 1, 2]
    assert sorted(p.name for p in (sim / "batches").iterdir()) == ["batch_0.csv", "batch_1.csv"]
    per_rep = reps.drop_duplicates(["rep", "endpoint"])
    assert per_rep["c_true"].between(0.55, 0.85).all()
    assert per_rep[["c_apparent", "c_split", "c_corrected"]].stack().between(0.4, 1.0).all()
    pred = pd.read_csv(sim / "predictors.csv")
    assert set(pred["role"]) == {TRUE, NULL, TRUE_NOT_CANDIDATE}
    assert pred["selection_freq"].dropna().between(0, 1).all()
    # the procedure keeps true predictors far more often than null ones
    est = pred[pred["estimable"].astype(bool)]
    assert est.loc[est["role"] == TRUE, "selection_freq"].mean() > est.loc[est["role"] == NULL, "selection_freq"].mean()
    c = pd.read_csv(sim / "c_index.csv")
    assert set(c["estimator"]) == {"apparent", "split_sample", "optimism_corrected"}
    assert (c["replicates"] == 3).all() and c["rmse"].between(0, 0.3).all()
    md = (sim / "simulation_study.md").read_text(encoding="utf-8")
    assert "3 replicates of 389 eligible patients" in md and "Method comparison" in md
    meth = pd.read_csv(sim / "methods.csv")
    arms = ["paper", "full", "lasso", "shrunk_stepwise", "full_splines"]
    assert meth[["arm", "endpoint"]].values.tolist() == [[a, ep] for a in arms for ep in ("os", "rfs")]
    assert meth["c_corrected_mean_error"].notna().all()  # every arm here has a corrected C
    assert "Full model with splines" in md or "full_splines" in md
    assert meth["mean_slope_true"].between(0.2, 2).all() and meth["mean_ici_true"].between(0, 0.3).all()
    assert (meth.loc[meth["arm"] == "full", "true_kept"] == 1).all()
    assert (sim / "method_comparison.png").stat().st_size > 10_000
    assert (sim / "simulation_study.png").stat().st_size > 10_000
    assert (sim / "simulation_study.pdf").read_bytes()[:4] == b"%PDF"
    assert not (out / "provenance.json").exists() and not (out / "models").exists()  # not the main DAG

    # identical with another number of cores and another batching: every table byte for byte,
    # the figure pixel for pixel (the batch files, the jobs' provenance and the lineage the
    # figure files carry in their metadata name other batch jobs)
    def comparable(digests):
        return {k: v for k, v in digests.items() if not k.startswith("provenance/") and "/batches/" not in k
                and not k.endswith((".png", ".pdf"))}  # fmt: skip

    first = comparable(_digests(out))
    assert "simulation_study/replicates.csv" in first and "simulation_study/predictors.csv" in first
    shutil.move(out, tmp_path / "first")
    run(1, batches=3)
    assert len(list((sim / "batches").iterdir())) == 3
    assert comparable(_digests(out)) == first
    from matplotlib.image import imread

    png = "simulation_study/simulation_study.png"
    np.testing.assert_array_equal(imread(out / png), imread(tmp_path / "first" / png))
