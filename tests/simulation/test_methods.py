"""Method comparison of the simulation study (crlmflow.simulation.methods), on hand-made replicates."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crlmflow.simulation import methods as mt
from crlmflow.simulation.study import NULL, TRUE


def _reference() -> pd.DataFrame:
    rows = [("a", TRUE, 0.5), ("b", TRUE, 0.2), ("n", NULL, 0.0)]
    return pd.DataFrame(
        [
            dict(endpoint="os", term=t, variable=t, label=t, role=r, estimable=True, log_hr_true=b,
                 hr_true=math.exp(b), log_hr_large_sample=b, se_large_sample=0.01, estimand="hand")
            for t, r, b in rows
        ]
    )  # fmt: skip


def _replicates() -> pd.DataFrame:
    # arm x: rep 0 keeps a and n, rep 1 keeps a and b; arm y keeps everything
    kept = {("x", 0): {"a": 0.7, "n": 0.1}, ("x", 1): {"a": 0.6, "b": 0.2}, ("y", 0): {"a": 0.5, "b": 0.3, "n": 0.0},
            ("y", 1): {"a": 0.4, "b": 0.1, "n": 0.2}}  # fmt: skip
    c = {("x", 0): (0.70, 0.68, 0.9, 0.8), ("x", 1): (0.66, 0.67, 0.8, 0.9), ("y", 0): (0.71, 0.69, 0.9, 0.85),
         ("y", 1): (0.65, 0.66, 0.85, 0.9)}  # fmt: skip
    rows = []
    for (arm, rep), coefs in kept.items():
        corr, true, sc, st = c[(arm, rep)]
        for term in "abn":
            rows.append(
                dict(rep=rep, arm=arm, endpoint="os", term=term, variable=term, selected=int(term in coefs),
                     coef=coefs.get(term, np.nan), se=0.1, hr=math.exp(coefs.get(term, np.nan)), hr_lower=0.5,
                     hr_upper=3.0, events_train=100, n_selected=len(coefs), c_apparent=corr + 0.05,
                     c_split=np.nan if arm == "y" else corr - 0.01, c_split_se=0.02, c_corrected=corr, c_true=true,
                     slope_corrected=sc, slope_true=st, ici_true=0.05)
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_correlation_se():
    r, se, n = mt.correlation_se([1, 2, 3, 4], [1, 3, 2, 4])
    assert r == pytest.approx(0.8) and se == pytest.approx((1 - 0.64) / math.sqrt(3)) and n == 4
    assert math.isnan(mt.correlation_se([1, 1, 1], [1, 2, 3])[0])
    assert math.isnan(mt.correlation_se([1, np.nan], [1, 2])[0])


def test_summarise_methods_by_hand():
    m = mt.summarise_methods(_replicates(), _reference(), target_mcse=0.01).set_index("arm")
    x, y = m.loc["x"], m.loc["y"]
    assert x["replicates"] == 2 and x["true_kept"] == pytest.approx(0.75) and x["null_kept"] == pytest.approx(0.5)
    assert x["true_kept_mcse"] == pytest.approx(0.25)  # per-replicate shares 0.5, 1.0: SD 0.354 / sqrt(2)
    # log-HR error of kept true predictors: rep 0 (0.7 - 0.5) = 0.2; rep 1 mean(0.1, 0.0) = 0.05
    assert x["log_hr_error"] == pytest.approx(0.125)
    assert y["true_kept"] == 1.0 and y["null_kept"] == 1.0
    assert x["c_corrected_mean_error"] == pytest.approx(0.005) and x["c_corrected_rmse"] == pytest.approx(
        math.sqrt((0.02**2 + 0.01**2) / 2)
    )
    assert x["c_split_mean_error"] == pytest.approx(-0.005) and math.isnan(y["c_split_rmse"])
    # SD of the corrected-C error (0.02, -0.01) is 0.0212: (0.0212 / 0.01)^2 = 4.5 -> 5 replicates
    assert x["c_corrected_replicates_for_target"] == 5
    assert x["mean_slope_true"] == pytest.approx(0.85) and x["mean_ici_true"] == pytest.approx(0.05)
    assert math.isnan(x["c_corrected_corr_true"])  # fewer than 3 replicates: no correlation


def test_methods_predictors_and_markdown():
    reps, ref = _replicates(), _reference()
    pred = mt.summarise_methods_predictors(reps, ref)
    assert pred.columns[0] == "arm" and len(pred) == 2 * len(ref)
    assert pred.set_index(["arm", "term"]).loc[("x", "a"), "selection_freq"] == 1.0
    settings = dict(replicates=2, truth_n=1000, bootstrap_B=5, horizon=36, target_mcse=0.01)
    md = mt.methods_markdown(mt.summarise_methods(reps, ref), {"x": "Arm X"}, settings)
    assert "Method comparison" in md and "| OS | Arm X |" in md and "| OS | y |" in md


def test_plot_method_comparison(tmp_path):
    from crlmflow.report.plots import save_figure
    from crlmflow.report.plots.simstudy_methods import plot_method_comparison

    reps = _replicates()
    fig = plot_method_comparison(mt.summarise_methods(reps, _reference()), reps, arm_labels={"x": "X"})
    assert len(fig.axes) == 3
    paths = save_figure(fig, tmp_path / "m")
    assert paths["png"].stat().st_size > 1000


def test_patients_analysed_spline_blanks_and_scenario_notes():
    """Patients analysed / excluded per arm; a blank coefficient (a spline's columns) is left out
    of the log-HR error; the notes say what a non-linear or MAR scenario means."""
    reps, ref = _replicates(), _reference()
    reps = reps.assign(
        n_train=np.where(reps["rep"] == 0, 250, 260), n_excluded_missing=np.where(reps["rep"] == 0, 139, 129)
    )
    blank = (reps["arm"] == "x") & (reps["rep"] == 1) & (reps["term"] == "b")
    reps.loc[blank, "coef"] = np.nan  # kept, no single log-HR
    m = mt.summarise_methods(reps, ref).set_index("arm")
    assert m.loc["x", "mean_n_train"] == 255 and m.loc["x", "mean_n_excluded_missing"] == 134
    assert m.loc["x", "log_hr_error"] == pytest.approx((0.2 + 0.1) / 2)  # rep 1: a only
    assert m.loc["x", "true_kept"] == pytest.approx(0.75)  # the blank term still counts as kept
    scenario = {
        "effects": {"nonlinear": [{"endpoint": "os", "variable": "alb", "knot": 38.0}]},
        "missing": [{"variable": "alb", "fraction": 0.15, "depends_on": {"died": 1.0}}],
    }
    settings = dict(replicates=2, truth_n=1000, bootstrap_B=5, horizon=36, target_mcse=0.01, scenario=scenario)
    md = mt.methods_markdown(m.reset_index(), {}, settings)
    assert "| OS | x | 255 (134) |" in md
    assert "Non-linear truth: alb (OS, hinge at 38)" in md and "Missing at random" in md and "alb 15%" in md
    plain = mt.methods_markdown(mt.summarise_methods(_replicates(), ref), {}, {**settings, "scenario": None})
    assert "Non-linear truth" not in plain and "| OS | x | NA |" in plain
    assert "Spline arms" not in plain  # no spline arm ran
    named = mt.methods_markdown(m.reset_index(), {}, {**settings, "spline_knots": 3, "spline_variables": ["alb"]})
    assert "restricted cubic splines with 3 knots for the pre-specified alb (the other candidates linear)" in named
    every = mt.methods_markdown(m.reset_index(), {}, {**settings, "spline_knots": 4, "spline_variables": "all"})
    assert "with 4 knots for every continuous candidate" in every
