import numpy as np
import pandas as pd
import pytest

from crlmflow.report.exhibits.analysis_comparison import analysis_comparison

CANDS_REF = [
    {"name": "age", "type": "numeric", "label": "Age"},
    {"name": "chemo_full_course", "type": "binary", "label": "Full-course chemotherapy"},
    {"name": "chemo_neoadjuvant_only", "type": "binary", "label": "Only neoadjuvant chemotherapy"},
]
CANDS_RUN = [
    {"name": "age", "type": "numeric", "label": "Age"},
    {"name": "chemo_group", "type": "factor", "label": "Chemotherapy", "ref": "a", "levels": ["a", "b", "c"]},
]


def _inputs():
    ref = {
        "fit": {"n": 70, "events": 30, "event": "reference_event", "selected": ["chemo_neoadjuvant_only"],
                "candidate_parameters": 2, "events_per_candidate_parameter": 15.0},
        "n_validation": 30, "events_validation": 12, "c_index": 0.70, "c_lower": 0.6, "c_upper": 0.8,
        "slope": 0.8, "slope_lower": 0.5, "slope_upper": 1.1, "death_censors_rfs": True, "train_fraction": 0.7,
    }  # fmt: skip
    fit = {"n": 100, "events": 50, "event": "rfs_event", "selected": ["chemo_group", "age"],
           "candidate_parameters": 3, "events_per_candidate_parameter": 50 / 3}  # fmt: skip
    opt = pd.DataFrame({"measure": ["c_index", "slope"], "apparent": [0.75, 1.0], "corrected": [0.72, 0.9]})
    return ref, fit, opt


def test_side_by_side_rows_carry_both_analyses():
    ref, fit, opt = _inputs()
    kw = dict(
        labels={"rfs": "RFS"},
        ref_study={"candidates": CANDS_REF, "exclude": ["chemo_full_course"], "death_censors_rfs": True},
        run_study={"candidates": CANDS_RUN, "exclude": [], "death_censors_rfs": False},
        bootstrap_B=200,
    )
    t = analysis_comparison({"rfs": ref}, {"rfs": fit}, {"rfs": opt}, **kw).set_index("quantity")
    assert t.loc["Outcome", "reference"].startswith("recurrence; death without recurrence censored")
    assert "composite" in t.loc["Outcome", "this_run"]
    assert "Chemotherapy (3 levels, joint test)" in t.loc["Candidate coding", "this_run"]
    assert "kept out of selection: Full-course chemotherapy" in t.loc["Candidate coding", "reference"]
    assert t.loc["Development data", "reference_value"] == 70 and t.loc["Development data", "this_run_value"] == 100
    assert t.loc["Selected terms", "this_run"] == "Chemotherapy; Age"
    assert t.loc["Harrell's C", "this_run_value"] == 0.72 and t.loc["Harrell's C", "reference_value"] == 0.70
    assert "apparent 0.750" in t.loc["Harrell's C", "this_run"]
    assert t.loc["Calibration slope", "this_run_value"] == 0.9
    assert "B = 200" in t.loc["Validation", "this_run"]
    # without the bootstrap the corrected values are not available, never invented
    t0 = analysis_comparison({"rfs": ref}, {"rfs": fit}, {"rfs": None}, **{**kw, "bootstrap_B": 0})
    c0 = t0.set_index("quantity").loc["Harrell's C"]
    assert np.isnan(c0["this_run_value"]) and c0["this_run"] == "NA"
    # from a landmark the development data say so
    t6 = analysis_comparison(
        {"rfs": ref}, {"rfs": fit}, {"rfs": opt}, **{**kw, "run_study": {**kw["run_study"], "landmark": 6}}
    )
    dev = t6.set_index("quantity").loc["Development data", "this_run"]
    assert dev.startswith("all patients event-free and followed at the 6-month landmark, n = 100")


def _beyond_inputs():
    cands = [
        {"name": "age", "type": "numeric", "label": "Age", "spline_knots": 3},
        {"name": "cea", "type": "numeric", "label": "CEA", "spline_knots": 3},
        {"name": "chemo_group", "type": "factor", "label": "Chemotherapy", "ref": "a", "levels": ["a", "b", "c"]},
    ]
    anova = pd.DataFrame(
        {
            "row": ["age", " Nonlinear", "cea", " Nonlinear", "TOTAL NONLINEAR", "TOTAL"],
            "predictor": ["age", "age", "cea", "cea", "", ""],
            "part": ["all", "nonlinear", "all", "nonlinear", "total_nonlinear", "total"],
            "chisq": [9.0, 0.5, 12.0, 8.0, 8.6, 20.0],
            "df": [2, 1, 2, 1, 2, 4],
            "p": [0.011, 0.48, 0.0025, 0.0047, 0.0136, 0.0005],
        }
    )
    models = pd.DataFrame(
        {
            "model": ["shrunk_stepwise", "full", "ridge"],
            "shrinkage": [0.8, np.nan, np.nan],
            "shrinkage_source": ["bootstrap calibration slope, selection repeated (200 replicates)", np.nan, np.nan],
        }
    )
    perf = pd.DataFrame(
        {
            "model": ["shrunk_stepwise"] * 2 + ["full"] * 2 + ["ridge"] * 2 + ["full"],
            "set": ["train"] * 6 + ["train"],
            "measure": ["c_index", "calibration_slope"] * 3 + ["brier"],
            "horizon": [np.nan] * 6 + [12.0],
            "estimate": [0.75, 1.25, 0.80, 1.0, 0.78, 1.3, 0.2],
        }
    )
    return cands, anova, models, perf


def test_splines_and_shrinkage_rows_show_what_they_change():
    ref, fit, opt = _inputs()
    cands, anova, models, perf = _beyond_inputs()
    kw = dict(
        labels={"rfs": "RFS"},
        ref_study={"candidates": CANDS_REF, "exclude": [], "death_censors_rfs": True},
        run_study={"candidates": cands, "exclude": [], "death_censors_rfs": False},
        bootstrap_B=200,
    )
    t = analysis_comparison(
        {"rfs": ref},
        {"rfs": fit},
        {"rfs": opt},
        anova={"rfs": anova},
        alternatives={"rfs": perf},
        alternative_models={"rfs": models},
        **kw,
    ).set_index("quantity")
    nl = t.loc["Non-linear terms"]
    assert "3 knots" in nl["this_run"] and "offered to 2 continuous candidates" in nl["this_run"]
    # counted from the fit's knots where it has them (too few distinct values: linear)
    one = analysis_comparison(
        {"rfs": ref}, {"rfs": {**fit, "knots": {"age": [1, 2, 3]}}}, {"rfs": opt}, anova={"rfs": anova}, **kw
    )
    assert "offered to 1 continuous candidates" in one.set_index("quantity").loc["Non-linear terms", "this_run"]
    assert "Age non-linear P 0.48" in nl["this_run"] and "CEA non-linear P 0.005" in nl["this_run"]
    assert nl["this_run_value"] == 0.0136  # TOTAL NONLINEAR
    assert "linear (assumed" in nl["reference"]
    s = t.loc["Uniform shrinkage factor"]
    assert s["this_run_value"] == 0.8 and "bootstrap calibration slope" in s["this_run"]
    c = t.loc["Shrunk model: Harrell's C"]
    # uniform shrinkage keeps the ranking: the stepwise model's corrected C, beside the paper's
    assert c["this_run_value"] == 0.72 and c["reference_value"] == 0.70
    sl = t.loc["Shrunk model: calibration slope"]
    assert sl["this_run_value"] == pytest.approx(0.9 / 0.8) and sl["reference_value"] == 0.8
    assert "apparent 1.25" in sl["this_run"]
    full = t.loc["Beyond the paper: pre-specified full model, apparent C"]
    assert full["this_run_value"] == 0.80 and "calibration slope 1.00" in full["this_run"]
    assert t.loc["Beyond the paper: ridge Cox, apparent C", "this_run_value"] == 0.78
    assert "not optimism-corrected" in full["this_run"]


def test_no_splines_no_alternatives_no_extra_rows():
    ref, fit, opt = _inputs()
    _, anova, _, _ = _beyond_inputs()
    kw = dict(
        labels={"rfs": "RFS"},
        ref_study={"candidates": CANDS_REF, "exclude": [], "death_censors_rfs": True},
        run_study={"candidates": CANDS_RUN, "exclude": [], "death_censors_rfs": False},
        bootstrap_B=200,
    )
    t = analysis_comparison({"rfs": ref}, {"rfs": fit}, {"rfs": opt}, anova={"rfs": anova}, **kw)
    assert len(t) == 8 and "Non-linear terms" not in set(t["quantity"])


def test_spline_offered_but_not_selected_and_heuristic_shrinkage():
    ref, fit, _ = _inputs()
    cands, anova, models, perf = _beyond_inputs()
    linear_anova = anova[anova["part"].isin(["all", "total"])]
    models = models.assign(shrinkage_source=["heuristic (LR - p)/LR, p = 3 candidate parameters", np.nan, np.nan])
    t = analysis_comparison(
        {"rfs": ref},
        {"rfs": fit},
        {"rfs": None},
        labels={"rfs": "RFS"},
        ref_study={"candidates": CANDS_REF, "exclude": [], "death_censors_rfs": True},
        run_study={"candidates": cands, "exclude": [], "death_censors_rfs": False},
        bootstrap_B=0,
        anova={"rfs": linear_anova},
        alternatives={"rfs": perf},
        alternative_models={"rfs": models},
    ).set_index("quantity")
    assert t.loc["Non-linear terms", "this_run"].endswith("no spline in the final model")
    assert np.isnan(t.loc["Non-linear terms", "this_run_value"])
    # without the bootstrap nothing optimism-corrected is invented
    assert np.isnan(t.loc["Shrunk model: Harrell's C", "this_run_value"])
    assert np.isnan(t.loc["Shrunk model: calibration slope", "this_run_value"])
    assert "heuristic" in t.loc["Shrunk model: calibration slope", "this_run"]
