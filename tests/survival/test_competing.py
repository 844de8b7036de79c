import numpy as np
import pytest

from crlmflow.survival.competing import check_status, event_from_status


def test_event_codings_of_one_status():
    status = [0, 1, 2, 1, 0, 2]
    assert event_from_status(status, death_is_event=True).tolist() == [0, 1, 1, 1, 0, 1]
    assert event_from_status(status, death_is_event=False).tolist() == [0, 1, 0, 1, 0, 0]


def test_status_other_than_0_1_2_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"found 3 at position 2"):
        check_status(np.array([0, 1, 3]))


def _fixture():
    from rref import read_csv, read_json

    return read_csv("competing/competing_data.csv"), read_json("competing/competing.json")


def test_aalen_johansen_equals_survfit_multistate():
    from rref import assert_abs

    from crlmflow.survival.competing import aalen_johansen

    d, ref = _fixture()
    for cause, key in ((1, "aj_cif1"), (2, "aj_cif2")):
        got = aalen_johansen(d["time"], d["status"], ref["times"], cause=cause)
        assert_abs(got, ref[key], what=key)


def test_cause_specific_cox_absolute_risk_equals_riskregression():
    from rref import assert_abs, assert_rel

    from crlmflow.survival.competing import cause_specific_absolute_risk
    from crlmflow.survival.cox import CoxData, baseline_hazard

    d, ref = _fixture()
    X = d[["x1", "x2"]].to_numpy(float)
    new = np.array([[r["x1"], r["x2"]] for r in ref["newdata"]], dtype=float)
    hazards, lps = [], []
    for cause, key in ((1, "csc_coef_cause1"), (2, "csc_coef_cause2")):
        data = CoxData(d["time"], (d["status"] == cause).astype(float), X, names=["x1", "x2"])
        fit = data.fit()
        assert_rel(fit.coef, ref[key], what=key)
        hazards.append(baseline_hazard(data, fit))
        lps.append(new @ fit.coef)
    for pl, key in ((True, "csc_risk_cause1_product_limit"), (False, "csc_risk_cause1_exponential")):
        got = cause_specific_absolute_risk(hazards, lps, ref["times"], 0, product_limit=pl)
        assert_abs(got, np.array(ref[key]), what=key)
