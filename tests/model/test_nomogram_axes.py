"""Nomogram axis settings against rms 6.5-0 called with the same settings.

Fixture: ``tests/fixtures/r_reference/nomogram_axes.json``, written by
``nomogram_axes.R`` beside it (full range, datadist display range, explicit values).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crlmflow.model.nomogram import display_limits, nomogram_points, total_points

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "r_reference"
TOL = 1e-6
NUMERIC = ("age", "hospital_days", "ca19_9", "crs_score")


@pytest.fixture(scope="module")
def ref():
    return json.loads((HERE / "nomogram_axes.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rows():
    return pd.read_csv(HERE / "crlm_a_rows.csv")


def _specs(setting: str, ref) -> list[dict]:
    specs = [{"name": n, "type": "numeric"} for n in NUMERIC]
    specs.insert(3, {"name": "r0_resection", "type": "binary"})
    for s in specs:
        if setting == "display":
            s["nomogram_axis"] = "display"
        elif setting == "explicit" and s["name"] in ref["settings"]["explicit"]["at"]:
            s["nomogram_axis"] = ref["settings"]["explicit"]["at"][s["name"]]
    return specs


def test_display_limits_equal_datadist(ref, rows):
    for name, lim in ref["display_limits"].items():
        np.testing.assert_allclose(display_limits(rows[name]), lim, rtol=0, atol=1e-9)


@pytest.mark.parametrize("setting", ["full", "display", "explicit"])
def test_points_equal_rms_with_same_axis_settings(setting, ref, rows):
    r = ref["settings"][setting]
    coefs = dict(zip(ref["terms"], ref["coef"]))
    specs = _specs(setting, ref)
    nomo = nomogram_points(coefs, specs, rows)
    for name, ax in nomo.predictors.items():
        assert [float(v) for v in ax.values] == pytest.approx(r["predictors"][name]["values"], abs=1e-12), name
        np.testing.assert_allclose(ax.xbeta, r["predictors"][name]["xbeta"], rtol=0, atol=TOL)
        np.testing.assert_allclose(ax.points, r["predictors"][name]["points"], rtol=0, atol=TOL)
    assert nomo.points_per_unit_lp == pytest.approx(r["points_per_unit_lp"], rel=TOL)
    assert nomo.lp_at_zero_points == pytest.approx(r["lp_at_zero_points"], abs=TOL)
    np.testing.assert_allclose(nomo.total_points_axis, r["total_points_axis"], rtol=0, atol=TOL)
    np.testing.assert_allclose(nomo.lp_axis_lp, r["lp_axis"]["lp"], rtol=0, atol=TOL)
    tp = total_points(coefs, specs, rows, nomogram=nomo)
    np.testing.assert_allclose(tp, r["per_row_total_points"], rtol=0, atol=1e-5)


def test_display_axis_gives_the_trimmed_predictor_fewer_points(ref):
    # the point of the option: the long-tailed predictor no longer owns the 0..100 scale
    full = ref["settings"]["full"]["predictors"]["hospital_days"]["points"]
    disp = ref["settings"]["display"]["predictors"]["hospital_days"]["points"]
    assert max(disp) - min(disp) < max(full) - min(full)


def test_bad_axis_setting_is_a_clear_error(rows):
    with pytest.raises(ValueError, match="hospital_days.*'full', 'display' or a list"):
        nomogram_points({"hospital_days": 0.1}, [{"name": "hospital_days", "nomogram_axis": "trim"}], rows)
    with pytest.raises(ValueError, match="at least 2 values"):
        nomogram_points({"hospital_days": 0.1}, [{"name": "hospital_days", "nomogram_axis": [5]}], rows)
