"""Model updating on an external cohort (crlmflow.validation.updating) against R's
survival::coxph / survfit (tests/fixtures/r_reference/updating/updating.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crlmflow.validation.calibration import calibration_slope
from crlmflow.validation.concordance import concordance_index
from crlmflow.validation.updating import recalibrate, updated_survival

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "r_reference" / "updating"


@pytest.fixture(scope="module")
def ref():
    rows = pd.read_csv(FIX / "updating_rows.csv")
    return rows, json.loads((FIX / "updating.json").read_text())


def test_slope_recalibration_matches_r(ref):
    rows, r = ref
    upd = recalibrate(rows["time"], rows["event"], rows["lp"])["slope_recalibrated"]
    assert upd.slope == pytest.approx(r["slope"], rel=1e-6)
    assert upd.se == pytest.approx(r["slope_se"], rel=1e-6)
    # the slope is the calibration slope the validation reports
    assert upd.slope == pytest.approx(calibration_slope(rows["time"], rows["event"], rows["lp"]).slope, rel=1e-12)
    np.testing.assert_allclose(upd.survival(rows["lp"], r["horizons"]), np.array(r["surv_slope"]), atol=1e-6)


def test_recalibration_in_the_large_matches_r(ref):
    rows, r = ref
    upd = recalibrate(rows["time"], rows["event"], rows["lp"])["recalibrated_in_the_large"]
    assert upd.slope == 1.0 and np.isnan(upd.se)
    np.testing.assert_allclose(upd.survival(rows["lp"], r["horizons"]), np.array(r["surv_citl"]), atol=1e-6)


def test_updates_keep_discrimination_and_absorb_a_shift_of_lp(ref):
    rows, r = ref
    t, e, lp = rows["time"], rows["event"], rows["lp"].to_numpy()
    base = recalibrate(t, e, lp)
    shifted = recalibrate(t, e, lp + 2.5)  # another centring of the same frozen model
    for name, upd in base.items():
        a = updated_survival(upd, lp, r["horizons"])
        b = updated_survival(shifted[name], lp + 2.5, r["horizons"])
        for k in a:
            np.testing.assert_allclose(a[k], b[k], atol=1e-10)
            # a monotone update: the ranking, hence Harrell's C, is unchanged
            c_lp = concordance_index(t, e, lp).c_index
            assert concordance_index(t, e, -a[k]).c_index == pytest.approx(c_lp, abs=1e-12)
