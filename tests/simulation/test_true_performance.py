"""True performance on the truth cohort (crlmflow.simulation.true_performance)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crlmflow.simulation import true_performance as tp
from crlmflow.simulation.study import analysis_columns

TRUTH = {
    "os": {
        "log_hr": {"a": 0.5, "kras_mutant": 0.2},
        "baseline_cumulative_hazard": {"knots_months": [0, 10, 20], "H0": [0.0, 0.1, 0.3]},
    },
    "rfs": {
        "log_hr": {"a": 0.3},
        "baseline_cumulative_hazard": {"knots_months": [0, 10, 20], "H0": [0.0, 0.2, 0.4]},
    },
}


def test_true_cumulative_hazard_interpolates_and_extrapolates_as_the_mechanism():
    assert tp.true_cumulative_hazard(TRUTH, "os", 5) == pytest.approx(0.05)
    assert tp.true_cumulative_hazard(TRUTH, "os", 30) == pytest.approx(0.5)  # OS: last slope continues
    assert tp.true_cumulative_hazard(TRUTH, "rfs", 30) == pytest.approx(0.4)  # RFS: cure, flat


def test_true_risk_by_hand():
    df = pd.DataFrame({"a": [0.0, 1.0], "kras": ["wild_type", "mutant"]})
    assert tp.true_linear_predictor(TRUTH, "os", df) == pytest.approx([0.0, 0.7])
    r = tp.true_risk(TRUTH, "os", df, 10)
    assert r == pytest.approx([1 - math.exp(-0.1), 1 - math.exp(-0.1 * math.exp(0.7))])
    assert tp.true_risk_column("os") == "true_risk_os"


def test_true_performance_by_hand():
    time = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    event = np.array([1, 1, 0, 1, 1, 0])
    lp = np.array([2.0, 1.0, 0.5, 0.2, -1.0, -2.0])
    out = tp.true_performance(lp, np.full(6, 0.3), time, event, np.full(6, 0.5))
    assert out["c_true"] == 1.0 and out["ici_true"] == pytest.approx(0.2) and np.isfinite(out["slope_true"])
    flat = tp.true_performance(np.zeros(6), np.full(6, 0.3), time, event, np.array([0.1, 0.5] * 3))
    assert flat["c_true"] == 0.5 and math.isnan(flat["slope_true"]) and flat["ici_true"] == pytest.approx(0.2)


def test_true_linear_predictor_is_the_simulators(repo_root):
    """On the workflow's cleaned columns the simulator's own linear predictor is recovered: a Cox
    fit of the outcome on it has slope ~1 (the mechanism is a Cox model with these log-HRs)."""
    import yaml

    from crlmflow.simulation.study import simulate_analysis_cohort
    from crlmflow.validation.calibration import calibration_slope

    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))
    cohort, truth = simulate_analysis_cohort(6000, 11, cfg)
    assert set(analysis_columns(cfg)) <= set(cohort.columns)
    lp = tp.true_linear_predictor(truth, "os", cohort)
    fit = calibration_slope(cohort["os_months"], cohort["os_event"], lp)
    assert abs(fit.slope - 1.0) < 3 * fit.se
