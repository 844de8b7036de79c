import numpy as np
import pytest
from rref import assert_abs, assert_rel, read_csv, read_json

from crlmflow.survival.time_varying import cox_time_varying, time_function


def _data():
    d = read_csv("competing/competing_data.csv")
    t = np.maximum(np.round(d["time"].to_numpy()), 1)  # whole months: tied event times
    return t, (d["status"] == 1).astype(float).to_numpy(), d[["x1", "x2"]].to_numpy(float)


@pytest.mark.parametrize("form", ["log", "step"])
def test_time_varying_coefficient_equals_coxph_tt(form):
    ref = read_json("competing/time_varying.json")
    t, e, X = _data()
    fit = cox_time_varying(t, e, X, 1, form, step_at=12)
    assert_rel(fit.coef, ref[f"{form}_coef"], what="coef")
    assert_rel(fit.se, ref[f"{form}_se"], what="se")
    assert_abs(fit.loglik, ref[f"{form}_loglik"], what="loglik")
    assert fit.gamma == fit.coef[-1] and 0 < fit.gamma_p < 1


def test_time_function_forms():
    assert time_function([1.0, np.e], "log").tolist() == [0.0, 1.0]
    assert time_function([6.0, 12.0, 13.0], "step", 12).tolist() == [0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="needs step_at"):
        time_function([1.0], "step")
