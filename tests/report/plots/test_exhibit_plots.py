"""The exhibit figures (KM, ROC, decision curves, calibration, flow chart, stacked pages)
render from small frames, reproducibly, without overlapping text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import assert_no_text_overlap

from crlmflow.report.plots import (
    plot_calibration,
    plot_calibration_grid,
    plot_dca,
    plot_flowchart,
    plot_km,
    plot_km_grid,
    plot_nia,
    plot_roc,
    plot_roc_dca,
    save_figure,
    stack_figures,
)
from crlmflow.report.plots.km import km_steps
from crlmflow.report.plots.panels import MIN_PAGE_SCALE, PAGE_HEIGHT_IN
from crlmflow.report.plots.style import DOUBLE_COLUMN_IN


def _km_frames():
    rows, risk = [], []
    for g, rate in (("high", 0.05), ("low", 0.015)):
        t = np.arange(1, 61, 3.0)
        s = np.exp(-rate * t)
        rows.append(
            pd.DataFrame(
                {
                    "group": g,
                    "time": t,
                    "n_risk": 50,
                    "n_event": 1,
                    "n_censor": (np.arange(t.size) % 4 == 0).astype(int),
                    "surv": s,
                    "std_err": 0.05,
                    "lower": s * 0.85,
                    "upper": np.minimum(s * 1.1, 1),
                }
            )
        )
        risk.append(
            pd.DataFrame(
                {
                    "group": g,
                    "time": np.arange(0, 61, 12.0),
                    "n_risk": (50 * np.exp(-rate * np.arange(0, 61, 12.0))).astype(int),
                }
            )
        )
    return pd.concat(rows, ignore_index=True), pd.concat(risk, ignore_index=True)


def _roc():
    out = []
    for s in ("train", "validation"):
        for h in (12, 36, 60):
            fpr = np.linspace(0, 1, 15)
            out.append(pd.DataFrame({"set": s, "horizon": h, "fpr": fpr, "tpr": np.sqrt(fpr)}))
    return pd.concat(out, ignore_index=True)


def _dca():
    out = []
    for s in ("train", "validation"):
        for h, prev in ((12, 0.05), (36, 0.3), (60, 0.45)):
            th = np.arange(0.01, 1.0, 0.01)
            nb_all = prev - (1 - prev) * th / (1 - th)
            out.append(
                pd.DataFrame(
                    {
                        "set": s,
                        "horizon": h,
                        "threshold": th,
                        "net_benefit_model": np.maximum(nb_all, 0) + 0.02 * (1 - th),
                        "net_benefit_all": nb_all,
                        "net_benefit_none": 0.0,
                    }
                )
            )
    return pd.concat(out, ignore_index=True)


def _cal():
    out = []
    for s in ("train", "validation"):
        for h in (12, 36, 60):
            pred = np.array([0.3, 0.5, 0.7, 0.9])
            d = pd.DataFrame(
                {
                    "set": s,
                    "horizon": h,
                    "group": range(1, 5),
                    "n": 20,
                    "events": 5,
                    "mean_predicted": pred,
                    "km": pred + 0.02,
                    "km_lower": pred - 0.1,
                    "km_upper": pred + 0.12,
                }
            )
            if s == "train":
                d["km_corrected"] = pred + 0.01
            out.append(d)
    return pd.concat(out, ignore_index=True)


def _hist():
    """Counts of predictions per bin, per set and horizon, as prediction_histogram.csv."""
    out = []
    for s in ("train", "validation"):
        for h in (12, 36, 60):
            lower = np.arange(0.60, 0.95, 0.005)
            out.append(
                pd.DataFrame(
                    {"bin_lower": lower, "bin_upper": lower + 0.005, "n": 1 + (lower * 100).astype(int) % 7}
                ).assign(set=s, horizon=h)
            )
    return pd.concat(out, ignore_index=True)


def _renders():
    curves, risk = _km_frames()
    panel = {
        "curves": curves,
        "at_risk": risk,
        "p": 0.00063,
        "groups": ["high", "low"],
        "group_labels": {"high": "High risk", "low": "Low risk"},
        "ylabel": "Overall survival",
    }
    return {
        "km": lambda: plot_km(curves, risk, 1e-6, groups=["high", "low"], letter="C"),
        "km_grid": lambda: plot_km_grid([dict(panel, letter="A"), dict(panel, letter="B")]),
        "roc": lambda: plot_roc(_roc().query("set == 'train'"), {12.0: 0.8, 36.0: 0.75, 60.0: 0.77}, letter="C"),
        "dca": lambda: plot_dca(_dca().query("set == 'train'"), letter="E"),
        "roc_dca": lambda: plot_roc_dca(_roc(), _dca(), {"train": {12.0: 0.8}}, ["train", "validation"]),
        "roc_dca_train_only": lambda: plot_roc_dca(_roc(), _dca(), {}, ["train"]),
        "calibration": lambda: plot_calibration(_cal().query("set == 'train' and horizon == 36")),
        "calibration_grid": lambda: plot_calibration_grid(
            _cal(), ["train", "validation"], [12, 36, 60], title="Calibration: OS", histogram=_hist()
        ),
        "flowchart": lambda: plot_flowchart(
            486, {"metachronous liver metastases": 29, "missing data": 12}, 445, {"train": 300, "validation": 145}
        ),
        "flowchart_no_split": lambda: plot_flowchart(100, {"a": 5}, 95, None),
        "flowchart_external": lambda: plot_flowchart(
            486,
            {"metachronous liver metastases": 29, "missing data": 12},
            445,
            {"train": 445, "validation": 280},
            external={"read": 300, "excluded": {"extrahepatic metastases": 20}, "included": 280},
        ),
    }


RENDERS = _renders()


@pytest.mark.parametrize("kind", sorted(RENDERS))
def test_renders_reproducibly(kind, tmp_path):
    a = save_figure(RENDERS[kind](), tmp_path / f"{kind}_a", metadata={"rule": "test"})
    b = save_figure(RENDERS[kind](), tmp_path / f"{kind}_b", metadata={"rule": "test"})
    for fmt in ("png", "pdf"):
        assert a[fmt].stat().st_size > 1000
        assert a[fmt].read_bytes() == b[fmt].read_bytes(), f"{kind}.{fmt} differs between two renders"


@pytest.mark.parametrize(
    "kind", ["km", "km_grid", "roc", "dca", "calibration", "calibration_grid", "flowchart", "flowchart_external"]
)
def test_no_text_overlap(kind):
    assert_no_text_overlap(RENDERS[kind]())


def test_external_flowchart_names_both_cohorts():
    fig = RENDERS["flowchart_external"]()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("External cohort") and "n = 280" in t for t in texts)
    assert any(t.startswith("Development cohort") and "n = 445" in t for t in texts)
    assert not any("Validation set" in t for t in texts)
    assert sum(t.startswith("Excluded") for t in texts) == 2


def test_stack_figures_and_helpers(tmp_path):
    fig = stack_figures([RENDERS["roc"](), RENDERS["dca"]()], ["A", "B"], dpi=100, max_height=None)
    assert len(fig.axes) == 2
    save_figure(fig, tmp_path / "stack")
    curves, _ = _km_frames()
    st = km_steps(curves[curves["group"] == "low"])
    assert st["time"].iloc[0] == 0 and st["surv"].iloc[0] == 1


def test_stacked_page_fits_a_journal_page_or_is_refused():
    """A stack a little taller than 170 x 225 mm is shrunk to fit (text stays >= 6 pt); one
    that would need shrinking below 6/7 is refused, to be split into pages."""
    parts = [RENDERS["roc"](), RENDERS["roc"]()]  # two 85 x 81 mm figures -> 2 x 162 mm at 170 mm
    with pytest.raises(ValueError, match="split it into more pages"):
        stack_figures(parts, dpi=60)
    full = stack_figures(parts, dpi=60, max_height=None).get_size_inches()[1]
    page = stack_figures(parts, dpi=60, max_height=0.9 * full)
    w, h = page.get_size_inches()
    assert abs(h - 0.9 * full) < 1e-9 and abs(w - 0.9 * DOUBLE_COLUMN_IN) < 1e-9 and 0.9 > MIN_PAGE_SCALE
    assert stack_figures(parts[:1], dpi=60).get_size_inches()[1] <= PAGE_HEIGHT_IN


def test_decision_curves_name_the_threshold_and_show_treat_none_on_top():
    fig = plot_roc_dca(_roc(), _dca(), {}, ["train", "validation"], event="death")
    dca_axes = [ax for ax in fig.axes if ax.get_ylabel() == "Net benefit"]
    assert [ax.get_xlabel() for ax in dca_axes] == ["Threshold probability of death by t"] * 2
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert "Decision curves, training set (apparent)" in titles and "Decision curves, validation set" in titles
    for ax in dca_axes:
        none = [ln for ln in ax.get_lines() if list(ln.get_ydata()) == [0, 0]]
        assert none and none[0].get_zorder() > max(ln.get_zorder() for ln in ax.get_lines() if ln not in none)
        lo, hi = ax.get_ylim()
        assert lo < 0 < hi  # treat all is seen falling below treat none
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert {"Model", "Treat all", "Treat none"} <= set(labels)


def test_decision_curve_gaps_are_explained():
    d = _dca()
    d.loc[d["threshold"] > 0.9, "net_benefit_model"] = np.nan
    fig = plot_dca(d[d["set"] == "validation"], event="recurrence")
    assert any("not estimable" in t.get_text() for t in fig.axes[0].texts)


def test_net_interventions_avoided_figure():
    d = _dca()
    d["net_interventions_avoided_per100"] = (
        (d["net_benefit_model"] - d["net_benefit_all"]) * (1 - d["threshold"]) / d["threshold"] * 100
    )
    fig = plot_nia(d, ["train", "validation"], event="death")
    axes = [ax for ax in fig.axes if ax.get_lines()]
    assert len(axes) == 2 and axes[0].get_xlabel() == "Threshold probability of death by t"
    assert "per 100 patients" in axes[0].get_ylabel()
    assert_no_text_overlap(fig)
    # a modest dip below zero is inside the frame, not cut at the lower limit
    d.loc[d["threshold"].between(0.2, 0.3), "net_interventions_avoided_per100"] = -6.0
    for ax in [a for a in plot_nia(d, ["train", "validation"]).axes if a.get_lines()]:
        y = np.concatenate([ln.get_ydata() for ln in ax.get_lines()]).astype(float)
        assert ax.get_ylim()[0] < np.nanmin(y)


def test_roc_legend_gives_events_auc_ci_and_names_coinciding_curves():
    roc = _roc()
    one = roc["horizon"] == 12
    roc.loc[one, "tpr"] = roc.loc[one, "fpr"] ** 0.3  # 3- and 5-year curves stay equal
    fig = plot_roc(
        roc[roc["set"] == "validation"],
        {12.0: 0.71, 36.0: 0.69, 60.0: 0.69},
        events={12.0: 3, 36.0: 40, 60.0: 40},
        auc_ci={12.0: (0.7, 0.5, 0.9), 36.0: (0.68, 0.6, 0.76), 60.0: (0.68, 0.6, 0.76)},
    )
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0].startswith("1-year, 3 events\nAUC 0.710, IPCW 0.700\n(95% CI 0.500\u20130.900)")
    assert "same curve as 3-year" in labels[2]


def test_km_panels_put_p_in_one_place_with_titles_and_pairwise_tests():
    curves, at_risk = _km_frames()
    base = {"curves": curves, "at_risk": at_risk, "groups": ["high", "low"]}
    fig = plot_km_grid(
        [
            dict(base, p=0.01, title="Overall survival, all patients", pairwise=["Pairwise", "high vs low: p = 0.01"]),
            dict(base, p=None, test_text="Descriptive (no valid p)", title="OS, training set", legend_title="Cut-off"),
        ]
    )
    curve_axes = [ax for ax in fig.axes if ax.get_ylabel()]
    places = [
        (t.get_position(), t.get_ha(), t.get_va())
        for ax in curve_axes
        for t in ax.texts
        if t.get_text() in ("p = 0.01", "Descriptive (no valid p)")
    ]
    assert len(places) == 2 and places[0] == places[1]
    assert [ax.get_title(loc="left") for ax in curve_axes] == ["Overall survival, all patients", "OS, training set"]
    notes = [c.get_text() for ax in fig.axes for c in ax.texts if "high vs low" in c.get_text()]
    assert notes == ["Pairwise\nhigh vs low: p = 0.01"]
    assert_no_text_overlap(fig)


def test_ph_figure_one_panel_per_term_with_its_p_and_the_global_p():
    from crlmflow.report.plots import plot_ph

    rows = []
    for col, coef in (("age", 0.01), ("bmi", -0.05)):
        for b in range(1, 5):
            rows.append(
                {"column": col, "coef": coef, "bin": b, "time_from": b, "time_to": b + 1, "time_median": b + 0.5}
                | {"deaths": 10, "mean": coef + 0.01 * b, "lower": coef - 0.05, "upper": coef + 0.08}
            )
    tests = pd.DataFrame(
        {"term": ["age", "bmi", "GLOBAL"], "chisq": [1, 9, 9], "df": [1, 1, 2], "p": [0.5, 0.0015, 0.03]}
    )
    labels = {"bmi": "BMI", "age": "Only neoadjuvant chemotherapy"}
    fig = plot_ph(pd.DataFrame(rows), tests, labels=labels, title="Proportional hazards: RFS")
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["Only neoadjuvant\nchemotherapy\ncox.zph p = 0.500", "BMI\ncox.zph p = 0.002"]
    assert any("global test p = 0.030" in t.get_text() for t in fig.texts)
    assert_no_text_overlap(fig)
    # wide tick labels (-0.04) in the first column do not push its y label out of the figure
    small = pd.DataFrame(rows).assign(mean=0.01, lower=-0.045, upper=0.065)
    fig = plot_ph(small, tests, labels=labels, ncols=1)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert min(ax.get_tightbbox(renderer).x0 for ax in fig.axes) >= 0
    # a factor's dummy columns are told apart by their level
    dummies = pd.DataFrame(rows).replace({"column": {"age": "rxLev", "bmi": "rxLev+5FU"}})
    rx = pd.DataFrame({"term": ["rx", "GLOBAL"], "chisq": [5, 5], "df": [2, 2], "p": [0.05, 0.05]})
    fig = plot_ph(dummies, rx, labels={"rx": "Treatment"})
    assert [ax.get_title(loc="left").split("\n")[0] for ax in fig.axes] == ["Treatment: Lev", "Treatment: Lev+5FU"]
