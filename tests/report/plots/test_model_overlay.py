"""Overlay figures of the paper's model and the alternative models (beyond the paper)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import _drawn_texts, assert_no_text_overlap
from matplotlib.colors import to_hex
from rref import load_case

from crlmflow.model.alternatives import fit_full_model
from crlmflow.report.exhibits import beside_paper_model
from crlmflow.report.formats import MODEL_LABELS, MODEL_SHORT_LABELS
from crlmflow.report.plots import save_figure
from crlmflow.report.plots.model_overlay import model_style, plot_models_calibration, plot_models_dca, plot_models_roc
from crlmflow.validation.alternatives import evaluate_models

SETS = ["train", "validation"]


@pytest.fixture(scope="module")
def tables():
    """Two fixed models on a fixture cohort, the first standing in for the paper's: the
    tables the workflow's validate_model and alternative_models rules write."""
    ref, rows = load_case("crlm_a")
    spec, ep = ref["spec"], ref["endpoints"]["os"]
    cands = [c if isinstance(c, dict) else {"name": c, "type": "numeric"} for c in spec["candidates"]]
    data = rows.assign(set=np.where(np.arange(len(rows)) % 3 == 0, "validation", "train"))
    train = data[data["set"] == "train"]
    excl = spec["exclude_from_multivariable"]
    models = {
        "paper": fit_full_model(train, cands[:3], ep["time"], ep["event"], exclude=excl),
        "full": fit_full_model(train, cands, ep["time"], ep["event"], exclude=excl),
        "ridge": fit_full_model(train, cands[:6], ep["time"], ep["event"], exclude=excl),
    }
    out = evaluate_models(data, models, ep["time"], ep["event"], spec["horizons"], SETS)
    split = {}
    for k, v in out.items():
        paper = v[v["model"] == "paper"].drop(columns="model")
        split[k] = beside_paper_model(paper, v[v["model"] != "paper"])
    return split, [float(h) for h in spec["horizons"]]


def _legend_texts(fig):
    return [t.get_text() for lg in fig.legends for t in lg.get_texts()]


def _inside(fig):
    """Every drawn text lies inside the canvas: nothing clipped at the figure's edge."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    box = fig.bbox
    for t in _drawn_texts(fig) + [tx for lg in fig.legends for tx in lg.get_texts()]:
        bb = t.get_window_extent(r)
        assert bb.x0 >= box.x0 - 1 and bb.x1 <= box.x1 + 1 and bb.y0 >= box.y0 - 1 and bb.y1 <= box.y1 + 1, t.get_text()
    # the models' legend sits outside every panel (it covers no curve) and under the title
    for lg in fig.legends:
        lb = lg.get_window_extent(r).padded(-1)
        for ax in fig.axes:  # the panel with its title, letter, ticks and labels
            assert not lb.overlaps(ax.get_tightbbox(r)), f"legend over panel {ax.get_title(loc='left')}"
        for tx in fig.texts:
            assert not lb.overlaps(tx.get_window_extent(r)), tx.get_text()


def test_model_style_puts_the_paper_model_in_black_on_top():
    st = model_style(["paper", "full", "lasso"])
    assert st["paper"]["color"] == "#000000"
    assert st["paper"]["lw"] > st["full"]["lw"] and st["paper"]["zorder"] > st["full"]["zorder"]
    assert len({st[m]["color"] for m in st}) == 3 and st["full"]["marker"] != st["lasso"]["marker"]


def test_beside_paper_model_puts_the_headline_first_on_shared_columns():
    paper = pd.DataFrame({"set": ["train"], "horizon": [12], "km": [0.8], "km_corrected": [0.78]})
    alt = pd.DataFrame({"model": ["lasso", "ridge"], "set": ["train"] * 2, "horizon": [12] * 2, "km": [0.7, 0.75]})
    both = beside_paper_model(paper, alt)
    assert list(both["model"]) == ["paper", "lasso", "ridge"]
    assert list(both.columns) == ["model", "set", "horizon", "km"]  # the corrected column is the paper's only
    assert list(beside_paper_model(paper, None)["model"]) == ["paper"]
    with pytest.raises(ValueError, match="horizon"):
        beside_paper_model(paper, alt.drop(columns="horizon"))


def test_calibration_overlay_draws_every_model_in_every_panel(tables):
    t, horizons = tables
    fig = plot_models_calibration(t["calibration"], SETS, horizons, title="Calibration")
    axes = [a for a in fig.axes]
    assert len(axes) == len(SETS) * len(horizons)
    labels = _legend_texts(fig)
    assert labels[:3] == [MODEL_LABELS[m] for m in ("paper", "full", "ridge")]
    assert "headline" in labels[0] and all(lab.startswith("Beyond the paper") for lab in labels[1:3])
    # each panel: the paper model's groups as drawn points, at the table's coordinates
    cal = t["calibration"]
    ax = axes[len(horizons)]  # validation, first horizon
    mine = cal[(cal["model"] == "paper") & (cal["set"] == "validation") & (cal["horizon"] == horizons[0])]
    drawn = [ln for ln in ax.lines if to_hex(ln.get_color()) == "#000000" and len(ln.get_xdata()) == len(mine)]
    assert drawn and np.allclose(np.sort(drawn[0].get_xdata()), np.sort(mine["mean_predicted"].to_numpy()))
    assert "apparent" in axes[0].get_title(loc="left") and "apparent" not in ax.get_title(loc="left")
    assert_no_text_overlap(fig)
    _inside(fig)


def test_roc_overlay_writes_each_models_auc_in_its_colour(tables):
    t, horizons = tables
    perf = t["performance"]
    auc = perf[perf["measure"] == "auc_km"]
    fig = plot_models_roc(t["roc"], SETS, horizons, performance=perf, title="ROC")
    ax = fig.axes[len(horizons)]
    want = auc[(auc["set"] == "validation") & (auc["horizon"] == horizons[0])].set_index("model")["estimate"]
    texts = {tx.get_text(): to_hex(tx.get_color()) for tx in ax.texts}
    style = model_style(["paper", "full", "ridge"])
    for m, v in want.items():
        key = f"{MODEL_SHORT_LABELS[m]} {v:.3f}"
        assert texts.get(key) == to_hex(style[m]["color"]), key
    # one step curve per model (plus the diagonal)
    assert len([ln for ln in ax.lines if ln.get_drawstyle() == "steps-post"]) == 3
    assert_no_text_overlap(fig)
    _inside(fig)


def test_dca_overlay_shares_treat_all_and_marks_a_horizon_not_estimable(tables):
    t, horizons = tables
    dca = t["dca"].copy()
    last = dca["horizon"] == horizons[-1]
    dca.loc[last, "estimable"] = False
    perf = t["performance"].copy()
    perf.loc[perf["horizon"] == horizons[-1], "estimable"] = False
    title = "Decision curves, paper's model and alternatives beyond the paper: Recurrence-free survival after surgery"
    fig = plot_models_dca(dca, SETS, horizons, event="death", title=title, performance=perf, minimums={"events": 10**6})
    ax = fig.axes[0]
    # three models, one treat-all line, treat none
    assert len(ax.lines) == 5
    # the panel not drawn says why, in the counts of the performance rows
    cases = int(perf[(perf["set"] == "train") & (perf["horizon"] == horizons[-1])]["cases"].iloc[0])
    why = [tx.get_text() for tx in fig.axes[len(horizons) - 1].texts]
    assert any(w.startswith("Not estimable") and f"{cases} events by {horizons[-1]:g} months" in w for w in why)
    assert not [ln for ln in fig.axes[len(horizons) - 1].lines if len(ln.get_xdata()) > 2]
    assert any("\n" in tx.get_text() for tx in fig.texts), "the long title wraps"
    assert "Treat all" in _legend_texts(fig) and "Treat none" in _legend_texts(fig)
    assert "Threshold probability of death by t" in [tx.get_text() for tx in fig.texts]
    assert_no_text_overlap(fig)
    _inside(fig)


def test_overlay_figures_are_byte_identical_when_redrawn(tables, tmp_path):
    t, horizons = tables
    paths = []
    for k in range(2):
        fig = plot_models_calibration(t["calibration"], SETS, horizons, title="Calibration")
        paths.append(save_figure(fig, tmp_path / f"cal{k}", metadata={"endpoint": "os"})["png"])
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_roc_overlay_names_a_curve_hidden_under_the_paper_models(tables):
    t, horizons = tables
    roc, perf = t["roc"], t["performance"]
    # a model ranking patients as the paper's does (a uniformly shrunk one) has the same curve
    twin = roc[roc["model"] == "paper"].assign(model="shrunk_stepwise")
    twin_perf = perf[perf["model"] == "paper"].assign(model="shrunk_stepwise")
    both = pd.concat([perf, twin_perf])
    fig = plot_models_roc(pd.concat([roc, twin]), ["validation"], horizons[:1], performance=both)
    texts = [tx.get_text() for tx in fig.axes[0].texts]
    auc = perf[(perf["model"] == "paper") & (perf["set"] == "validation") & (perf["measure"] == "auc_km")]
    value = float(auc[auc["horizon"] == horizons[0]]["estimate"].iloc[0])
    assert f"Shrunk {value:.3f} (same curve)" in texts
    assert f"Paper (headline) {value:.3f}" in texts
    assert [tx for tx in texts if tx.startswith("Full")] and not [tx for tx in texts if "Full" in tx and "same" in tx]
    # the AUCs stay in the lower-right corner, clear of the steep start of the curves
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    ax = fig.axes[0]
    left = ax.transData.transform((0.2, 0))[0]
    aucs = [tx for tx in ax.texts if tx.get_fontsize() == 6]  # not the panel letter
    assert len(aucs) == 5 and all(tx.get_window_extent(r).x0 > left for tx in aucs)
    assert_no_text_overlap(fig)
