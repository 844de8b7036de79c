"""MAR missingness of the simulation study's scenarios (crlmflow.simulation.missingness)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from crlmflow.pipeline.streams import stream
from crlmflow.simulation.generator import simulate_cohort
from crlmflow.simulation.missingness import impose_missingness, missing_probability, parse_missing
from crlmflow.simulation.scenarios import BUILTIN_SCENARIOS, scenario_settings


@pytest.fixture(scope="module")
def raw():
    return simulate_cohort(2000, 7)[0]


def test_probability_is_logistic_in_standardised_columns_with_the_mean_fraction(raw):
    entry = parse_missing([{"variable": "alb", "fraction": 0.2, "depends_on": {"died": 1.0, "age": 0.5}}])[0]
    p = missing_probability(raw, entry)
    assert p.mean() == pytest.approx(0.2, abs=1e-9)
    died = raw["death_date"].notna().to_numpy(float)
    age = raw["age"].to_numpy(float)
    z = 1.0 * (died - died.mean()) / died.std() + 0.5 * (age - age.mean()) / age.std()
    # logit p - linear part is the same intercept for every row
    a = np.log(p / (1 - p)) - z
    assert np.ptp(a) < 1e-9
    np.testing.assert_allclose(expit(a[0] + z), p, rtol=1e-12)
    assert p[died == 1].mean() > p[died == 0].mean()  # the outcome drives missingness


def test_impose_missingness_is_seeded_mar_and_leaves_other_columns(raw):
    spec = [{"variable": "alb", "fraction": 0.2, "depends_on": {"recurred": 1.0}}]
    before = raw.copy()
    a = impose_missingness(raw, spec, stream(3, "simstudy_missingness"))
    b = impose_missingness(raw, spec, stream(3, "simstudy_missingness"))
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(raw, before)  # the input is not changed
    miss = a["alb"].isna() & raw["alb"].notna()  # (the export has a few missing values of its own)
    assert 0.15 < miss.mean() < 0.25
    rec = raw["recurrence_date"].notna()
    assert miss[rec].mean() > miss[~rec].mean()
    pd.testing.assert_frame_equal(a.drop(columns="alb"), raw.drop(columns="alb"))
    assert impose_missingness(raw, [], stream(3, "simstudy_missingness")) is raw


def test_parse_missing_errors():
    with pytest.raises(ValueError, match="depend on itself"):
        parse_missing([{"variable": "alb", "fraction": 0.1, "depends_on": {"alb": 1.0}}])
    with pytest.raises(ValueError, match=r"fraction must lie in \(0, 1\)"):
        parse_missing([{"variable": "alb", "fraction": 1.0}])
    with pytest.raises(ValueError, match="expected keys"):
        parse_missing([{"variable": "alb", "share": 0.1}])
    raw = simulate_cohort(50, 1)[0]
    with pytest.raises(ValueError, match="not a raw-export column"):
        impose_missingness(raw, [{"variable": "alb", "fraction": 0.1, "depends_on": {"nope": 1}}], stream(1, "split"))


def test_mar_scenario_is_shipped_and_parsed():
    s = scenario_settings({"n_eligible": 389, "scenario": "mar"})
    assert s["effects"] is None and [m["variable"] for m in s["missing"]] == ["r0_resection", "alb", "ca19_9"]
    assert all("died" in m["depends_on"] or "recurred" in m["depends_on"] for m in s["missing"])
    assert scenario_settings({"n_eligible": 389, "scenario": "shrunken"})["missing"] == []
    assert "mar" in BUILTIN_SCENARIOS
