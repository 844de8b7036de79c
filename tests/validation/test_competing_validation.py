import numpy as np
from rref import assert_abs, read_csv, read_json

from crlmflow.survival.competing import aalen_johansen
from crlmflow.validation.competing import competing_auc, competing_brier, competing_observed_expected


def _fixture():
    return read_csv("competing/competing_data.csv"), read_json("competing/competing.json")


def test_competing_risk_auc_and_brier_equal_riskregression_score():
    d, ref = _fixture()
    risk = np.array(ref["risk_apparent"])
    for j, t in enumerate(ref["times"]):
        assert_abs(competing_auc(d["time"], d["status"], risk[:, j], t), ref["score_auc"][j], what=f"AUC({t})")
        assert_abs(competing_brier(d["time"], d["status"], risk[:, j], t), ref["score_brier"][j], what=f"Brier({t})")


def test_observed_expected_is_aalen_johansen_over_mean_risk():
    d, ref = _fixture()
    risk = np.array(ref["risk_apparent"])[:, 1]
    oe = competing_observed_expected(d["time"], d["status"], risk, 12)
    assert np.isclose(oe, aalen_johansen(d["time"], d["status"], [12])[0] / risk.mean())
    # a model that doubles every risk is over-predicting: O/E halves
    assert np.isclose(competing_observed_expected(d["time"], d["status"], 2 * risk, 12), oe / 2)
