"""net_benefit against the fixture's survival DCA (Vickers' KM method) for every horizon."""

from __future__ import annotations

import numpy as np
import pytest
from rref import CASES, TOL, endpoint, na

from crlmflow.validation.decision_curve import net_benefit


@pytest.mark.parametrize("ds,ep", CASES)
def test_matches_fixture_dca(ds, ep):
    time, event, e = endpoint(ds, ep)
    assert len(e["dca"]) == 3
    for block in e["dca"]:
        h = block["horizon"]
        ref = block["table"]
        out = net_benefit(time, event, 1.0 - np.asarray(e["per_row"][f"surv_{h}"]), h)
        assert out.attrs["km_surv_all"] == pytest.approx(block["km_surv_all"], abs=TOL)
        np.testing.assert_array_equal(out["threshold"], ref["threshold"])
        for mine, theirs in [
            ("prop_high_risk", "prop_high_risk"),
            ("net_benefit_model", "net_benefit_model"),
            ("net_benefit_all", "net_benefit_treat_all"),
            ("net_benefit_none", "net_benefit_treat_none"),
        ]:
            np.testing.assert_allclose(out[mine], ref[theirs], rtol=0, atol=TOL, err_msg=f"{h} {mine}")
        # NB differences are divided by pt/(1-pt): up to x99 at pt = 0.01, so compare relatively
        np.testing.assert_allclose(
            out["net_interventions_avoided_per100"], ref["net_interventions_avoided_per100"], rtol=TOL, atol=TOL
        )
        np.testing.assert_allclose(out["km_surv_high_risk"], na(ref["km_surv_high_risk"]), atol=TOL)  # NaN == NaN


def test_extremes():
    time = np.array([1.0, 2.0, 3.0, 4.0])
    event = np.array([1, 0, 1, 0])
    out = net_benefit(time, event, np.zeros(4), 2.5, thresholds=[0.5])
    assert out["net_benefit_model"].iloc[0] == 0.0 and np.isnan(out["km_surv_high_risk"].iloc[0])
    with pytest.raises(ValueError):
        net_benefit(time, event, np.zeros(4), 2.5, thresholds=[0.0])


def test_net_benefit_is_flagged_where_the_high_risk_group_is_not_followed_to_t():
    """The high-risk group at high thresholds may all be censored or dead before t: its KM
    at t is then carried forward, and the row is flagged, not reported as an estimate."""
    time = np.array([2.0, 3.0, 4.0, 20.0, 25.0, 30.0, 8.0, 9.0])
    event = np.array([1, 0, 1, 0, 1, 0, 0, 1])
    risk = np.array([0.9, 0.95, 0.85, 0.1, 0.2, 0.3, 0.5, 0.6])
    out = net_benefit(time, event, risk, 12.0, thresholds=[0.25, 0.55, 0.8]).set_index("threshold")
    # >= 0.8: follow-up 2, 3, 4, all before 12;  >= 0.55: includes 9 (< 12);  >= 0.25: includes 25, 30
    assert out["high_risk_followed_to_t"].to_dict() == {0.25: True, 0.55: False, 0.8: False}
