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
