import numpy as np
import pandas as pd

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
