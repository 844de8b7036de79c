"""Figures stay readable at registry size: censor marks, cut-off dots and ROC vertices are
aggregated above a size threshold and untouched below it (the default study's figures)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.report.plots.km import CENSOR_MARK_BINS, censor_marks, km_steps
from crlmflow.report.plots.roc import MAX_CURVE_POINTS, thin_curve


def _curve(n_times, n_censor_each):
    t = np.linspace(0.5, 60, n_times)
    return km_steps(
        pd.DataFrame(
            {"time": t, "surv": np.linspace(1, 0.3, n_times), "lower": 0.2, "upper": 1.0, "n_censor": n_censor_each}
        )
    )


def test_censor_marks_small_group_unchanged():
    c = _curve(140, 2)  # 280 censored patients (the default study has at most 250 per group)
    assert len(censor_marks(c, 60.0)) == 140


def test_censor_marks_thinned_for_large_group():
    c = _curve(1800, 30)  # 54,000 censored patients
    cm = censor_marks(c, 60.0)
    assert 0 < len(cm) <= CENSOR_MARK_BINS + 1
    assert set(cm["time"]).issubset(set(c["time"])) and (cm["n_censor"] > 0).all()


def test_thin_curve_keeps_small_curves_and_bounds_large_ones():
    rng = np.random.default_rng(0)
    small = np.sort(rng.uniform(size=(500, 2)), axis=0)
    assert thin_curve(small) is small
    big = np.vstack([[0, 0], np.sort(rng.uniform(size=(70_000, 2)), axis=0), [1, 1]])
    th = thin_curve(big)
    assert len(th) <= 2 * MAX_CURVE_POINTS + 2
    assert np.array_equal(th[0], big[0]) and np.array_equal(th[-1], big[-1])
    # no vertex of the full curve lies more than one grid cell away from the thinned one
    idx = np.searchsorted(th[:, 0], big[:, 0], side="right") - 1
    assert np.all(np.abs(big[:, 1] - th[np.maximum(idx, 0), 1]) <= 2.0 / MAX_CURVE_POINTS + 1e-12)


def _risk_table_label_gap(n0: int) -> float:
    """Pixels between the right edge of the group labels and the left edge of the time-0
    count in a KM panel with n0 patients at risk."""
    from crlmflow.report.plots.km import plot_km

    times = np.array([0.0, 6.0, 12.0, 30.0])
    curves = pd.DataFrame(
        {"group": "g", "time": times, "surv": [1.0, 0.9, 0.8, 0.6], "lower": 0.5, "upper": 1.0, "n_censor": 0}
    )
    at_risk = pd.DataFrame({"group": "g", "time": [0.0, 12.0, 24.0], "n_risk": [n0, n0 // 2, n0 // 4]})
    fig = plot_km(curves, at_risk, groups=["g"], group_labels={"g": "Only neoadjuvant"})
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axt = fig.axes[1]
    label = axt.get_yticklabels()[0].get_window_extent(renderer)
    count = next(t for t in axt.texts if t.get_text() == str(n0)).get_window_extent(renderer)
    return count.x0 - label.x1


def test_risk_table_group_labels_clear_of_registry_sized_counts():
    # a few pixels of air at 100 dpi, whatever the width of the counts
    assert _risk_table_label_gap(389) > 2
    assert _risk_table_label_gap(100_000) > 2
