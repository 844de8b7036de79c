import numpy as np
from rref import assert_rel, read_csv, read_json

from crlmflow.model.time_varying import time_varying_table

CANDIDATES = [{"name": "x1", "type": "numeric"}, {"name": "x2", "type": "binary"}]


def _train():
    d = read_csv("competing/competing_data.csv")
    return d.assign(time=np.maximum(np.round(d["time"]), 1), event=(d["status"] == 1).astype(int))


def test_final_model_refit_with_log_time_coefficient_equals_coxph_tt():
    ref = read_json("competing/time_varying.json")
    fit = {"time": "time", "event": "event", "selected": ["x1", "x2"], "terms": ["x1", "x2"]}
    t = time_varying_table(fit, CANDIDATES, _train(), "x2", "log", None, [12, 36]).set_index("term")
    assert_rel(t.loc[["x1", "x2", "x2:log(t)"], "coef"].to_numpy(), ref["log_coef"], what="coef")
    b, g = ref["log_coef"][1], ref["log_coef"][2]
    assert np.isclose(t.loc["x2 log-HR at 36 months", "coef"], b + g * np.log(36))
    assert t.loc["x2:log(t)", "note"].startswith("gamma")


def test_term_not_in_the_final_model_says_so():
    fit = {"time": "time", "event": "event", "selected": ["x1"], "terms": ["x1"]}
    t = time_varying_table(fit, CANDIDATES, _train(), "x2", "log", None, [12])
    assert len(t) == 1 and t.loc[0, "note"] == "no time-varying fit: not in the final model"


def test_spline_term_is_not_refitted_on_its_linear_column_alone():
    fit = {
        "time": "time",
        "event": "event",
        "selected": ["x1"],
        "terms": ["x1", "x1'"],
        "knots": {"x1": [0.1, 0.5, 0.9]},
    }
    t = time_varying_table(fit, CANDIDATES, _train(), "x1", "log", None, [12])
    assert len(t) == 1 and t.loc[0, "note"] == "no time-varying fit: a spline (several columns)"
