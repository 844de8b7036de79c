"""Simulation-study arms beyond the paper (crlmflow.simulation.arms_beyond): LASSO, ridge, the
shrunk stepwise model and the spline arms on one tiny replicate, each against the package's
own implementation; the missing-data hook of run_replicate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crlmflow.model.alternatives import fit_penalised_model, shrink_coefficients
from crlmflow.model.penalised import fold_ids
from crlmflow.pipeline.streams import stream
from crlmflow.simulation import arms_beyond as ab
from crlmflow.simulation import study as ss
from crlmflow.simulation.arms import ARMS, Arm, arms_named
from crlmflow.simulation.true_performance import true_risk, true_risk_column
from crlmflow.validation.concordance import concordance_index

ROOT = Path(__file__).resolve().parents[2]
NEW = ["lasso", "ridge", "shrunk_stepwise", "full_splines", "paper_splines"]


def _config(**sim) -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg["simulation_study"].update(sim)
    cfg["alternative_models"] = {"cv_folds": 3, "n_alphas": 8, "penalty_rule": "min"}
    return cfg


@pytest.fixture(scope="module")
def run():
    cfg = _config(n_eligible=150, bootstrap_B=3, penalised_bootstrap_B=2, seed=5, arms=["paper_all_data", *NEW])
    cohort, truth = ss.simulate_analysis_cohort(600, ss.truth_cohort_seed(5), cfg)
    risks = {true_risk_column(k): true_risk(truth, k, cohort, 36) for k in ("os", "rfs")}
    cohort = cohort[ss.analysis_columns(cfg)].assign(**risks)
    table = ss.run_replicate(cfg, 2, 5, cohort)
    everyone = ss.replicate_cohort(cfg, ss.replicate_seeds(5, 2), "complete_case")[2]
    return cfg, cohort, table, everyone


def test_new_arms_are_registered_opt_in_and_report_every_measure(run):
    cfg, _, a, _ = run
    assert [arm.name for arm in arms_named(NEW)] == NEW
    assert list(dict.fromkeys(a["arm"])) == ["paper_all_data", *NEW]
    assert list(a.columns) == ss.REPLICATE_COLUMNS
    per = a.drop_duplicates(["arm", "endpoint"]).set_index(["arm", "endpoint"])
    assert per[["c_true", "slope_true", "ici_true", "c_apparent"]].notna().all().all()
    assert per["c_split"].isna().all() and (per["n_train"] == 150).all()
    # optimism-corrected C for every arm here (penalised: penalised_bootstrap_B = 2 resamples)
    assert per["c_corrected"].notna().all()
    assert (per.loc[["lasso", "ridge"], "n_bootstrap"] == 2).all()


def test_penalised_arms_are_the_packages_fits(run):
    cfg, _, a, everyone = run
    kw = ss.selection_kwargs(cfg)
    seed = ss.replicate_seeds(5, 2)["bootstrap"]
    for arm, l1 in ab.PENALISED_ARMS.items():
        for k, (ep, spec) in enumerate(cfg["endpoints"].items()):
            foldid = fold_ids(len(everyone), 3, stream(seed, "penalty_cv_folds", k))
            model = fit_penalised_model(
                everyone, cfg["candidates"], spec["time"], spec["event"], l1_ratio=l1, foldid=foldid,
                exclude=kw["exclude"], n_alphas=8,
            )  # fmt: skip
            rows = a[(a["arm"] == arm) & (a["endpoint"] == ep)].set_index("term")
            beta = dict(zip(model.columns, model.coef))
            kept = [t for t, b in beta.items() if b != 0]
            assert set(rows.index[rows["selected"] == 1]) == set(kept)
            np.testing.assert_allclose(rows.loc[kept, "coef"], [beta[t] for t in kept], rtol=1e-12)
            assert rows.loc[kept, ["se", "hr_lower"]].isna().all().all()  # no Wald interval
    ridge = a[a["arm"] == "ridge"].drop_duplicates("endpoint")
    lasso = a[a["arm"] == "lasso"].drop_duplicates("endpoint")
    assert (ridge["n_selected"] >= lasso["n_selected"].to_numpy()).all()


def test_shrunk_stepwise_is_the_stepwise_model_times_its_bootstrap_slope(run):
    cfg, _, a, everyone = run
    for ep, spec in cfg["endpoints"].items():
        step = a[(a["arm"] == "paper_all_data") & (a["endpoint"] == ep)]
        shrunk = a[(a["arm"] == "shrunk_stepwise") & (a["endpoint"] == ep)]
        s = step["slope_corrected"].iloc[0]
        kept = step[step["selected"] == 1]
        model = shrink_coefficients(
            everyone, cfg["candidates"], spec["time"], spec["event"], terms=kept["term"], coef=kept["coef"], shrinkage=s
        )
        np.testing.assert_allclose(shrunk.loc[shrunk["selected"] == 1, "coef"], s * kept["coef"].to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(model.coef, s * kept["coef"].to_numpy(), rtol=1e-12)
        # a uniform shrinkage keeps the ranking: same C (apparent, corrected, true); slope used up
        for col in ("c_apparent", "c_corrected", "c_true", "n_selected"):
            assert shrunk[col].iloc[0] == pytest.approx(step[col].iloc[0]), col
        assert np.isnan(shrunk["slope_corrected"].iloc[0])
        assert shrunk["slope_true"].iloc[0] == pytest.approx(step["slope_true"].iloc[0] / s, rel=1e-4)


def test_spline_arms_model_continuous_candidates_as_splines(run):
    cfg, _, a, _ = run
    splines = [c for c in ab.spline_candidates(cfg) if c.get("spline_knots")]
    names = {c["name"] for c in splines}
    assert {"age", "alb", "hospital_days"} <= names and "crs_score" not in names  # a score stays linear
    assert all(c["spline_knots"] == ab.SPLINE_KNOTS for c in splines)
    full = a[(a["arm"] == "full_splines") & (a["endpoint"] == "os")]
    assert {"alb", "alb'", "alb''"} <= set(full["term"])
    fitted = set(full.loc[full["term"].str.endswith("'"), "variable"])
    assert {"age", "alb", "hospital_days"} <= fitted <= names  # too few distinct values: kept linear
    spline_rows = full[full["variable"].isin(fitted)]
    assert spline_rows["coef"].isna().all()  # a spline has no single log-HR
    linear = full[~full["variable"].isin(fitted) & (full["selected"] == 1)]
    assert linear["coef"].notna().all() and len(linear) > 0


def test_spline_arms_take_pre_specified_spline_variables():
    cfg = _config(spline_variables=["alb"], spline_knots=3)
    splines = {c["name"]: c["spline_knots"] for c in ab.spline_candidates(cfg) if c.get("spline_knots")}
    assert splines == {"alb": 3}  # every other candidate stays linear
    with pytest.raises(ValueError, match="'rfa' is not a numeric candidate"):
        ab.spline_candidates(_config(spline_variables=["rfa"]))


def test_penalised_optimism_is_harrells_formula():
    """Corrected = apparent - mean(boot - orig) on hand-fixed resamples of a tiny strategy."""
    cfg = _config(n_eligible=120)
    data, _ = ss.simulate_analysis_cohort(120, 3, cfg)
    spec = cfg["endpoints"]["os"]
    cands = [c for c in cfg["candidates"] if c["name"] in ("hospital_days", "crs_score", "rfa")]

    def fit(df):
        return fit_penalised_model(
            df, cands, spec["time"], spec["event"], l1_ratio=0.0, foldid=fold_ids(len(df), 3, stream(1, "split")),
            n_alphas=5,
        )  # fmt: skip

    out = ab.penalised_optimism(data, fit, spec["time"], spec["event"], 2, 11, 0)
    t, e = data[spec["time"]], data[spec["event"]]
    app = concordance_index(t, e, fit(data).design(data) @ fit(data).coef).c_index
    opt = []
    from crlmflow.validation.optimism import bootstrap_indices

    for b in range(2):
        boot = data.iloc[bootstrap_indices(len(data), 11, 0, b)].reset_index(drop=True)
        m = fit(boot)
        cb = concordance_index(boot[spec["time"]], boot[spec["event"]], m.design(boot) @ m.coef).c_index
        opt.append(cb - concordance_index(t, e, m.design(data) @ m.coef).c_index)
    assert out["c_apparent"] == pytest.approx(app)
    assert out["c_corrected"] == pytest.approx(app - np.mean(opt)) and out["n_bootstrap"] == 2
    assert ab.penalised_optimism(data, fit, spec["time"], spec["event"], 0, 11, 0)["n_bootstrap"] == 0


def test_missing_data_hook_cleans_each_policy_once(run, monkeypatch):
    """An arm registered with its own missing-data policy (the multiple-imputation hook) gets the
    same simulated export cleaned with that policy; complete-case arms share one cleaning."""
    cfg, cohort, _, _ = run
    seen = []
    real = ss.simulate_analysis_cohort

    def spy(n, seed, config):
        seen.append((seed, config["data"]["missing_predictors"]))
        return real(n, seed, config)

    monkeypatch.setattr(ss, "simulate_analysis_cohort", spy)
    probe = Arm("probe_policy", "probe", "test only", False, ARMS["full"].develop, ARMS["full"].validate)
    probe = Arm(**{**probe.__dict__, "missing_data": "error"})
    monkeypatch.setitem(ARMS, "probe_policy", probe)
    c = dict(cfg, simulation_study=dict(cfg["simulation_study"], arms=["full", "paper", "probe_policy"], bootstrap_B=0))
    out = ss.run_replicate(c, 2, 5, cohort)
    sim_seed = ss.replicate_seeds(5, 2)["simulate"]
    assert seen == [(sim_seed, "complete_case"), (sim_seed, "error")]
    per = out.drop_duplicates(["arm", "endpoint"])
    assert (per["n_excluded_missing"] >= 0).all() and per["n_excluded_missing"].nunique() == 1


def test_mar_scenario_complete_case_counts_the_excluded(run):
    from crlmflow.simulation.scenarios import scenario_settings

    cfg, cohort, _, _ = run
    mar = scenario_settings({"n_eligible": 150, "scenario": "mar"})["missing"]
    c = dict(cfg, missing=mar, simulation_study=dict(cfg["simulation_study"], arms=["full"], bootstrap_B=0))
    base = ss.run_replicate(dict(c, missing=[]), 2, 5, cohort).drop_duplicates("endpoint")
    out = ss.run_replicate(c, 2, 5, cohort).drop_duplicates("endpoint")
    extra = out["n_excluded_missing"].to_numpy() - base["n_excluded_missing"].to_numpy()
    assert (extra > 20).all()  # about a third of 150 incomplete
    assert (out["n_train"].to_numpy() == base["n_train"].to_numpy() - extra).all()
    assert isinstance(out, pd.DataFrame) and out["c_true"].notna().all()


# ---------------------------------------------------------------------------------------
# paper_mi: the paper's selection by multiple imputation under the mar scenario
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mi_run(run):
    """One small ``mar`` replicate with the complete-case and the multiple-imputation arms
    (truth cohort complete, as in the study)."""
    from crlmflow.simulation.scenarios import scenario_settings

    cfg, cohort, _, _ = run
    mar = scenario_settings({"n_eligible": 150, "scenario": "mar"})["missing"]
    sim = dict(cfg["simulation_study"], arms=["paper_all_data", "paper_mi"], bootstrap_B=0, mi_m=2)
    c = dict(cfg, missing=mar, simulation_study=sim)
    return c, cohort, ss.run_replicate(c, 2, 5, cohort)


def test_paper_mi_is_opt_in_and_keeps_the_incomplete_patients(mi_run):
    cfg, _, a = mi_run
    assert "paper_mi" not in yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["simulation_study"]["arms"]
    assert ARMS["paper_mi"].missing_data == "multiple_imputation" and not ARMS["paper_mi"].split_sample
    assert list(a.columns) == ss.REPLICATE_COLUMNS
    per = a.drop_duplicates(["arm", "endpoint"]).set_index(["arm", "endpoint"])
    cc, mi = per.loc["paper_all_data"], per.loc["paper_mi"]
    # the complete-case arm lost the incomplete patients; the MI arm analyses all of them
    assert (cc["n_excluded_missing"] > 20).all() and (mi["n_excluded_missing"] == 0).all()
    np.testing.assert_array_equal(mi["n_train"], cc["n_train"] + cc["n_excluded_missing"])
    assert (mi["events_train"] > cc["events_train"]).all()
    # the same measures as every arm; no optimism correction
    assert mi[["c_true", "slope_true", "ici_true", "c_apparent"]].notna().all().all()
    assert mi[["c_corrected", "slope_corrected", "c_split"]].isna().all().all() and (mi["n_bootstrap"] == 0).all()
    kept = a[(a["arm"] == "paper_mi") & (a["selected"] == 1)]
    assert len(kept) > 0 and kept[["coef", "se", "hr", "hr_lower", "p"]].notna().all().all()


def test_paper_mi_is_the_packages_pooled_model(mi_run):
    """Terms, pooled coefficients and apparent C are fit_with_multiple_imputation's on the
    replicate's cohort cleaned with the multiple-imputation policy, seeded by the replicate's
    bootstrap seed and the endpoint; the true C is that of its pooled linear predictor."""
    from crlmflow.model.imputed import fit_with_multiple_imputation

    cfg, cohort, a = mi_run
    seeds = ss.replicate_seeds(5, 2)
    everyone = ss.replicate_cohort(cfg, seeds, "multiple_imputation")[2]
    assert everyone[[c["name"] for c in cfg["candidates"]]].isna().any(axis=1).sum() > 20
    spec = cfg["endpoints"]["os"]
    res = fit_with_multiple_imputation(
        everyone, cfg["candidates"], spec["time"], spec["event"], seed=seeds["bootstrap"], endpoint_index=0, m=2,
        **ss.selection_kwargs(cfg),
    )  # fmt: skip
    rows = a[(a["arm"] == "paper_mi") & (a["endpoint"] == "os")]
    assert rows["selected_terms"].iloc[0] == ";".join(res.terms)
    kept = rows[rows["selected"] == 1].set_index("term")
    np.testing.assert_allclose(kept.loc[res.pooled.index, "coef"], res.pooled["estimate"], rtol=1e-12)
    np.testing.assert_allclose(kept.loc[res.pooled.index, "se"], res.pooled["se"], rtol=1e-12)
    c_app = res.performance.set_index("measure").loc["c_index", "apparent"]
    assert rows["c_apparent"].iloc[0] == pytest.approx(c_app)
    lp = res.linear_predictor(cohort)
    c_true = concordance_index(cohort[spec["time"]], cohort[spec["event"]], lp).c_index
    assert rows["c_true"].iloc[0] == pytest.approx(c_true)


def test_paper_mi_does_not_depend_on_batching(mi_run):
    """Replicate 2 run after replicate 0 in the same process gives the same rows as alone."""
    from crlmflow.simulation.batches import run_batch

    cfg, cohort, a = mi_run
    both = run_batch(cfg, [0, 2], 5, cohort, ss.run_replicate)
    pd.testing.assert_frame_equal(both[both["rep"] == 2].reset_index(drop=True), a)


def test_paper_mi_bootstrap_is_the_packages_impute_then_bootstrap(mi_run):
    """With mi_bootstrap_B the arm reports fit_with_multiple_imputation's optimism (Harrell's
    bootstrap within each imputed dataset, averaged: impute then bootstrap), capped by
    bootstrap_B; without it, apparent C only."""
    from crlmflow.model.imputed import fit_with_multiple_imputation

    cfg, cohort, _ = mi_run
    sim = dict(cfg["simulation_study"], arms=["paper_mi"], bootstrap_B=2, mi_bootstrap_B=5)
    c = dict(cfg, simulation_study=sim)
    a = ss.run_replicate(c, 2, 5, cohort)
    seeds = ss.replicate_seeds(5, 2)
    everyone = ss.replicate_cohort(c, seeds, "multiple_imputation")[2]
    spec = c["endpoints"]["rfs"]
    res = fit_with_multiple_imputation(
        everyone, c["candidates"], spec["time"], spec["event"], seed=seeds["bootstrap"], endpoint_index=1, m=2,
        bootstrap_B=2, bootstrap_order="impute_then_bootstrap", **ss.selection_kwargs(c),
    )  # fmt: skip
    perf = res.performance.set_index("measure")
    row = a[a["endpoint"] == "rfs"].iloc[0]
    assert row["n_bootstrap"] == 2  # min(mi_bootstrap_B, bootstrap_B)
    assert row["c_apparent"] == pytest.approx(perf.loc["c_index", "apparent"], rel=1e-12)
    assert row["c_corrected"] == pytest.approx(perf.loc["c_index", "corrected"], rel=1e-12)
    assert row["slope_corrected"] == pytest.approx(perf.loc["slope", "corrected"], rel=1e-12)
    assert row["c_corrected"] != row["c_apparent"]
