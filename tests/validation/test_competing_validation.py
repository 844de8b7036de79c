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


def test_performance_table_reports_sparse_horizons_as_not_estimable():
    from crlmflow.validation.competing import competing_performance

    d, ref = _fixture()
    risk = np.array(ref["risk_apparent"])
    perf = competing_performance(d["time"], d["status"], risk, ref["times"], min_events=10, min_at_risk=60)
    at = perf.set_index(["horizon", "measure"])
    # at 36 months fewer than 60 patients are still event-free: no AUC, Brier or O/E there
    controls_36 = int((d["time"] > 36).sum())
    assert controls_36 < 60 and not at.loc[(36, "auc"), "estimable"] and np.isnan(at.loc[(36, "auc"), "estimate"])
    assert at.loc[(6, "auc"), "estimable"]
    assert_abs(at.loc[(6, "auc"), "estimate"], ref["score_auc"][0])
    assert at.loc[(12, "auc"), "cases"] == int(((d["time"] <= 12) & (d["status"] == 1)).sum())
