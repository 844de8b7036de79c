"""Scenarios of the simulation study: each override of the truth has its intended property,
and the default mechanism (behind the committed data/paper_expected_ranges.csv) is unchanged."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from crlmflow.pipeline.streams import stream
from crlmflow.simulation.generator import simulate_cohort
from crlmflow.simulation.mechanism import (
    TRUE_LOG_HR_OS,
    TRUE_LOG_HR_RFS,
    default_params,
    draw_covariates,
    draw_latent_times,
    linear_predictors,
    parse_case_mix,
)
from crlmflow.simulation.scenarios import BUILTIN_SCENARIOS, parse_effects, scenario_settings
from crlmflow.simulation.true_performance import true_linear_predictor

# sha256 of the default export (n_eligible 389, seed 20250417) and of its ground truth (sorted
# JSON), measured on main before scenarios existed: the default mechanism must not move.
DEFAULT_EXPORT_SHA = "5beac029f72502abce41dba460aad661ff182cc1e578aa5a359e2c56c89a627f"
DEFAULT_TRUTH_SHA = "85521aefe67a2a8bade684841a9e9cff12f6d992ee70a5d001ae880992b320c5"

SHRUNKEN = {"effect_scale": 0.5}
MANY_SMALL = {"effect_scale": 0.5, "extra_log_hr": {"os": {"age": 0.01, "alb": -0.03, "asa": 0.15}}}
HINGE = {"nonlinear": [{"endpoint": "os", "variable": "alb", "knot": 38, "log_hr_below": 0.3}]}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_default_mechanism_is_byte_for_byte_unchanged():
    df, truth = simulate_cohort(389, 20250417)
    assert _sha(df.to_csv(index=False)) == DEFAULT_EXPORT_SHA
    assert _sha(json.dumps(truth, sort_keys=True)) == DEFAULT_TRUTH_SHA
    assert "scenario_effects" not in truth and "nonlinear" not in truth["os"]
    same, _ = simulate_cohort(389, 20250417, effects={})  # an empty override is the default
    pd.testing.assert_frame_equal(df, same)


def _cohort(n: int, effects: dict | None, seed: int = 7):
    """Covariates and latent (uncensored) times of ``n`` patients under ``effects``."""
    rng = stream(seed, "simulate_cohort")
    p = default_params()
    x, _ = draw_covariates(n, rng, p, parse_case_mix(None))
    t_d, t_r = draw_latent_times(x, rng, p, parse_effects(effects))
    return x, t_d, t_r


def test_shrunken_scenario_halves_every_true_log_hr():
    x, _, _ = _cohort(2000, None)
    lp_os, lp_rfs = linear_predictors(x)
    s_os, s_rfs = linear_predictors(x, parse_effects(SHRUNKEN))
    np.testing.assert_allclose(s_os, 0.5 * lp_os, rtol=1e-12)
    np.testing.assert_allclose(s_rfs, 0.5 * lp_rfs, rtol=1e-12)
    _, truth = simulate_cohort(200, 3, effects=SHRUNKEN)
    for key, base in (("os", TRUE_LOG_HR_OS), ("rfs", TRUE_LOG_HR_RFS)):
        assert truth[key]["log_hr"] == pytest.approx({k: 0.5 * v for k, v in base.items()})


def test_shrunken_hr_is_recovered_in_a_large_sample():
    x, t_d, _ = _cohort(20000, SHRUNKEN)
    cols = ["hospital_days", "r0_resection", "rfa", "crs_score"]
    df = pd.DataFrame({c: np.asarray(x[c], float) for c in cols}).assign(T=np.minimum(t_d, 600.0), E=(t_d < 600.0))
    df["chemo_neoadjuvant_only"] = (x["chemotherapy"] == "neoadjuvant_only").astype(float)
    df["kras_mutant"] = (x["kras"] == "mutant").astype(float)
    fit = CoxPHFitter().fit(df, "T", "E")
    for name, beta in TRUE_LOG_HR_OS.items():  # within 3 SE of half the default log-HR
        assert abs(fit.params_[name] - 0.5 * beta) < 3 * fit.standard_errors_[name], name


def test_many_small_effects_add_to_the_shrunken_truth():
    x, _, _ = _cohort(2000, None)
    s_os, s_rfs = linear_predictors(x, parse_effects(SHRUNKEN))
    m_os, m_rfs = linear_predictors(x, parse_effects(MANY_SMALL))
    extra = 0.01 * x["age"] - 0.03 * x["alb"] + 0.15 * x["asa"]
    np.testing.assert_allclose(m_os, s_os + extra, rtol=1e-10)
    np.testing.assert_allclose(m_rfs, s_rfs, rtol=1e-12)
    _, truth = simulate_cohort(200, 3, effects=MANY_SMALL)
    assert truth["os"]["log_hr"]["alb"] == pytest.approx(-0.03)
    assert truth["os"]["log_hr"]["crs_score"] == pytest.approx(0.5 * TRUE_LOG_HR_OS["crs_score"])


def test_nonlinear_threshold_effect_is_visible_in_a_large_sample():
    x, t_d, _ = _cohort(20000, HINGE)
    df = pd.DataFrame({c: np.asarray(x[c], float) for c in ["hospital_days", "r0_resection", "rfa", "crs_score"]})
    df["chemo_neoadjuvant_only"] = (x["chemotherapy"] == "neoadjuvant_only").astype(float)
    df["kras_mutant"] = (x["kras"] == "mutant").astype(float)
    df["alb"] = x["alb"]
    df["alb_below_38"] = np.maximum(0.0, 38.0 - x["alb"])
    df = df.assign(T=np.minimum(t_d, 600.0), E=(t_d < 600.0))
    fit = CoxPHFitter().fit(df, "T", "E")
    assert abs(fit.params_["alb_below_38"] - 0.3) < 3 * fit.standard_errors_["alb_below_38"]
    assert abs(fit.params_["alb"]) < 3 * fit.standard_errors_["alb"]  # flat above the knot
    assert fit.params_["alb_below_38"] > 5 * fit.standard_errors_["alb_below_38"]  # clearly non-null


def test_true_linear_predictor_uses_the_scenarios_truth():
    """The truth cohort's true risk (hence true C, slope, ICI) is computed from the scenario's truth."""
    _, truth = simulate_cohort(300, 5, effects={**MANY_SMALL, **HINGE})
    x, _, _ = _cohort(300, None)
    lp_os, _ = linear_predictors(x, parse_effects({**MANY_SMALL, **HINGE}))
    cohort = pd.DataFrame(x).assign(chemo_neoadjuvant_only=(x["chemotherapy"] == "neoadjuvant_only").astype(float))
    np.testing.assert_allclose(true_linear_predictor(truth, "os", cohort), lp_os, rtol=1e-10)
    assert truth["os"]["nonlinear"][0]["knot"] == 38.0 and truth["rfs"]["nonlinear"] == []


def test_scenario_settings_and_errors():
    sim = {"n_eligible": 389, "scenario": "n1000", "scenarios": {"n1000": {"n_eligible": 1000}}}
    assert scenario_settings(sim) == {"name": "n1000", "n_eligible": 1000, "effects": None, "missing": []}
    assert scenario_settings({**sim, "scenario": "default"})["n_eligible"] == 389
    with pytest.raises(ValueError, match="'nope' is not defined"):
        scenario_settings({**sim, "scenario": "nope"})
    with pytest.raises(ValueError, match="unknown scenario effect keys"):
        parse_effects({"scale": 0.5})
    with pytest.raises(ValueError, match="no such simulated column"):
        simulate_cohort(50, 1, effects={"extra_log_hr": {"os": {"nlr": 0.1}}})


def test_shipped_scenarios_are_valid_and_selectable():
    sim = {"n_eligible": 389, "scenarios": {}}
    for name in BUILTIN_SCENARIOS:
        s = scenario_settings({**sim, "scenario": name})
        assert s["name"] == name
        parse_effects(s["effects"])
    assert scenario_settings({**sim, "scenario": "n1000"})["n_eligible"] == 1000
    assert scenario_settings({**sim, "scenario": "shrunken"})["effects"] == {"effect_scale": 0.5}
    own = {**sim, "scenario": "shrunken", "scenarios": {"shrunken": {"effects": {"effect_scale": 0.25}}}}
    assert scenario_settings(own)["effects"] == {"effect_scale": 0.25}  # the config's entry wins
    with pytest.raises(ValueError, match="may not define 'default'"):
        scenario_settings({**sim, "scenario": "default", "scenarios": {"default": {}}})
