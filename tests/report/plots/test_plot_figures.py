"""Render the publication figures from fixture data: files exist, bytes are reproducible,
lineage metadata is embedded, and no text overlaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import assert_no_text_overlap, plot_case
from PIL import Image

from crlmflow.report.formats import format_hr, format_p
from crlmflow.report.plots import plot_cutpoint, plot_forest, plot_nomogram, save_figure
from crlmflow.report.plots.style import PNG_DPI, publication_style

LINEAGE = {"fixture_sha256": "0" * 64, "rule": "figures", "config": "config/test.yaml"}


def _render(kind: str, case: dict):
    if kind == "nomogram":
        return plot_nomogram(
            case["nomogram"],
            case["survival_axes"],
            value_labels=case["value_labels"],
            survival_labels=case["survival_labels"],
        )
    if kind == "forest":
        return plot_forest(case["forest"], title=f"Multivariable Cox model ({case['ep'].upper()})")
    if kind == "cutpoint":
        return plot_cutpoint(
            case["cutpoint"],
            case["lp"],
            xlabel="Nomogram linear predictor",
            p_value=case["p_lau92"],
            p_label="P (Lausen\u2013Schumacher)",
        )
    if kind == "cutpoint_curve_only":
        return plot_cutpoint(case["cutpoint"])
    raise ValueError(kind)


KINDS = ["nomogram", "forest", "cutpoint", "cutpoint_curve_only"]


@pytest.mark.parametrize("kind", KINDS)
def test_render_png_every_fixture(kind, case, out_dir):
    """Every figure renders from every fixture endpoint to a 300-dpi PNG."""
    path = out_dir / f"{kind}_{case['ds']}_{case['ep']}.png"
    with publication_style():
        _render(kind, case).savefig(path, dpi=PNG_DPI, metadata={"Software": None})
    assert path.exists() and path.stat().st_size > 1000


# the full PDF + PNG determinism check on two endpoints (one per dataset): PDF font
# subsetting makes each save take seconds, and the code paths do not depend on the data
@pytest.mark.parametrize("ds_ep", [("crlm_a", "os"), ("colon", "rfs")], ids=lambda x: "-".join(x))
@pytest.mark.parametrize("kind", KINDS)
def test_save_figure_files_exist_and_are_deterministic(kind, ds_ep, out_dir, tmp_path):
    case = plot_case(*ds_ep)
    name = f"{kind}_{case['ds']}_{case['ep']}"
    first = save_figure(_render(kind, case), out_dir / name, LINEAGE)
    second = save_figure(_render(kind, case), tmp_path / "again" / name, LINEAGE)
    for fmt in ("png", "pdf"):
        assert first[fmt].exists() and first[fmt].stat().st_size > 1000
        assert first[fmt].read_bytes() == second[fmt].read_bytes(), f"{fmt} not reproducible"
    with Image.open(first["png"]) as im:
        assert im.format == "PNG"
        assert im.info.get("dpi") and round(im.info["dpi"][0]) == PNG_DPI
        for k, v in LINEAGE.items():
            assert im.info.get(k) == v
        assert "Software" not in im.info
    pdf = first["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"/CreationDate" not in pdf
    assert b"/rule (figures)" in pdf and b"/config (config/test.yaml)" in pdf


@pytest.mark.parametrize("kind", KINDS)
def test_no_overlapping_text(kind, case):
    assert_no_text_overlap(_render(kind, case))


def test_nomogram_axes_content(case):
    fig = plot_nomogram(case["nomogram"], case["survival_axes"], survival_labels=case["survival_labels"])
    texts = {t.get_text() for t in fig.findobj(lambda a: a.__class__.__name__ == "Text")}
    for row in ["Points", "Total Points", "Linear Predictor", *case["survival_labels"].values()]:
        assert row in texts
    for name in case["nomogram"].predictors:
        assert name in texts
    # every factor level is labelled (one tick per level)
    for s in case["specs"]:
        if s["type"] == "factor":
            assert set(s["levels"]) <= texts


def test_forest_text_columns(case):
    fig = plot_forest(case["forest"])
    texts = [t.get_text() for t in fig.findobj(lambda a: a.__class__.__name__ == "Text")]
    for p in case["forest"]["p"]:
        assert format_p(p) in texts
    # the forest plot prints hazard ratios exactly as Table 2 does
    for r in case["forest"].itertuples():
        assert format_hr(r.hr, r.hr_lower, r.hr_upper) in texts
    assert "HR (95% CI)" in texts
    ax = [a for a in fig.axes if a.get_xscale() == "log"]
    assert len(ax) == 1
    lo, hi = ax[0].get_xlim()
    assert lo < 1 < hi


def test_forest_reference_row():
    import pandas as pd

    tab = pd.DataFrame(
        {
            "label": ["Obs (ref)", "Lev"],
            "hr": [np.nan, 0.9],
            "hr_lower": [np.nan, 0.7],
            "hr_upper": [np.nan, 1.2],
            "p": [np.nan, 0.4],
        }
    )
    fig = plot_forest(tab)
    texts = [t.get_text() for t in fig.findobj(lambda a: a.__class__.__name__ == "Text")]
    assert "Reference" in texts


@pytest.mark.parametrize(
    "label",
    [
        "Tumour differentiation: moderately differentiated vs well differentiated",
        "Number of positive lymph nodes examined at surgery, per additional node (grouped: 4 to 9 vs 0 to 3 nodes)",
    ],
)
def test_forest_long_label_is_not_clipped(label):
    import pandas as pd

    table = pd.DataFrame(
        {
            "label": ["Age", label],
            "hr": [1.02, 1.8],
            "hr_lower": [1.0, 1.2],
            "hr_upper": [1.04, 2.7],
            "p": [0.04, 0.001],
        }
    )
    fig = plot_forest(table)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    plot_ax = next(a for a in fig.axes if a.get_xscale() == "log")
    plot_left = plot_ax.get_window_extent(renderer).x0
    labels = [t for t in fig.axes[0].texts if t.get_text().replace("\n", " ") == label]
    assert len(labels) == 1, "the label is printed whole (possibly wrapped), never cut"
    bb = labels[0].get_window_extent(renderer)
    assert bb.x0 >= 0 and bb.x1 <= plot_left, "the label ends before the plot column starts"
    assert_no_text_overlap(fig)


def test_simulated_data_are_tagged_on_the_figure_and_in_table_footnotes(tmp_path):
    from crlmflow.pipeline.provenance import data_source
    from crlmflow.report.exhibits import write_table
    from crlmflow.report.formats import SIMULATED_NOTE, SIMULATED_TAG
    from crlmflow.report.plots.style import DATA_SOURCE_KEY, new_figure

    assert data_source({"data": {"source": "synthetic"}}) == "synthetic"
    assert data_source({"data": {"source": "file"}, "split": {"method": "random"}}) == "file"
    assert data_source({"data": {"source": "file"}, "split": {"method": "external"}}) == "synthetic"

    def texts(source):
        with publication_style():
            fig = new_figure(2, 2)
            fig.add_subplot().plot([0, 1], [0, 1])
        save_figure(fig, tmp_path / source, metadata={DATA_SOURCE_KEY: source})
        save_figure(fig, tmp_path / source, metadata={DATA_SOURCE_KEY: source})  # saving twice: one tag
        return [t.get_text() for t in fig.texts]

    assert texts("synthetic") == [SIMULATED_TAG]
    assert texts("file") == []
    df = pd.DataFrame({"a": [1]})
    md = write_table(df, tmp_path / "t", footnotes=["n"], simulated=True)["md"].read_text()
    assert SIMULATED_NOTE in md
    assert SIMULATED_NOTE not in write_table(df, tmp_path / "u", footnotes=["n"])["md"].read_text()


def test_figure_image_gives_notebooks_a_png_output():
    from crlmflow.report.plots import figure_image
    from crlmflow.report.plots.style import new_figure

    with publication_style():
        fig = new_figure(2, 1)
        fig.add_subplot().plot([0, 1], [0, 1])
    img = figure_image(fig)
    png = img.data  # raw bytes: Jupyter stores them base64-encoded as an image/png output
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(__import__("io").BytesIO(png)).size == (220, 110)


def test_not_estimable_horizons_are_named_not_drawn():
    """A horizon flagged ``estimable = False`` is named "not estimable" in the legend (ROC,
    decision curve) or on the panel (calibration) and no curve is drawn for it."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from crlmflow.report.plots.calibration import draw_calibration
    from crlmflow.report.plots.dca import draw_dca
    from crlmflow.report.plots.roc import draw_roc

    roc = pd.DataFrame(
        {
            "horizon": [12] * 3 + [36] * 3,
            "fpr": [0, 0.5, 1] * 2,
            "tpr": [0, 0.7, 1] * 2,
            "estimable": [False] * 3 + [True] * 3,
        }
    )
    fig, ax = plt.subplots()
    draw_roc(ax, roc)
    labels = ax.get_legend_handles_labels()[1]
    assert labels[0] == "1-year: not estimable" and labels[1].startswith("3-year")
    drawn = [ln for ln in ax.lines if len(ln.get_xdata()) > 2]
    assert len(drawn) == 1  # the 3-year curve only (the empty handle and the diagonal aside)
    dca = pd.DataFrame(
        {
            "horizon": [12, 12, 36, 36],
            "threshold": [0.1, 0.2, 0.1, 0.2],
            "net_benefit_model": [0.1, 0.05, 0.2, 0.1],
            "net_benefit_all": [0.05, 0.0, 0.1, 0.0],
            "estimable": [False, False, True, True],
        }
    )
    fig2, ax2 = plt.subplots()
    draw_dca(ax2, dca)
    assert "1-year: not estimable" in [t.get_text() for t in ax2.get_legend().get_texts()]
    cal = pd.DataFrame(
        {
            "mean_predicted": [0.8, 0.9],
            "km": [0.7, 0.95],
            "km_lower": [0.6, 0.9],
            "km_upper": [0.8, 1.0],
            "estimable": False,
        }
    )
    fig3, ax3 = plt.subplots()
    draw_calibration(ax3, cal)
    assert [t.get_text() for t in ax3.texts] == ["Not estimable"]
    assert not ax3.collections  # no error bars
    for f in (fig, fig2, fig3):
        plt.close(f)


def test_not_estimable_calibration_panel_says_why_in_counts(tmp_path):
    """A calibration panel that is not estimable gives the events by the horizon and the
    patients at risk there (sums over the groups) against the run's minimums."""
    import matplotlib.pyplot as plt

    from crlmflow.report.plots.calibration import not_estimable_reason, plot_calibration_grid

    def table(set_, h, events, at_risk, estimable):
        return pd.DataFrame(
            {
                "set": set_,
                "horizon": h,
                "n": [40, 40],
                "events_by_horizon": events,
                "at_risk": at_risk,
                "mean_predicted": [0.8, 0.9],
                "km": [0.7, 0.95],
                "km_lower": [0.6, 0.9],
                "km_upper": [0.8, 1.0],
                "estimable": estimable,
            }
        )

    short = table("validation", 12, [1, 2], [30, 35], False)
    assert not_estimable_reason(short, 12, {"events": 5, "at_risk": 10}) == (
        "Not estimable:\n3 events by 12 months\n(minimum 5)"
    )
    thin = table("validation", 60, [20, 15], [4, 3], False)
    assert not_estimable_reason(thin, 60, {"events": 5, "at_risk": 10}) == (
        "Not estimable:\n7 at risk at 60 months\n(minimum 10)"
    )
    assert not_estimable_reason(short, 12) == "Not estimable:\n3 events by 12 months\n65 at risk at 12 months"
    assert "no event by 36 months" in not_estimable_reason(short.iloc[:0], 36)
    cal = pd.concat([short, table("validation", 36, [10, 12], [30, 28], True), thin])
    fig = plot_calibration_grid(cal, ["validation"], [12, 36, 60], minimums={"events": 5, "at_risk": 10})
    texts = [[t.get_text() for t in ax.texts] for ax in fig.axes]
    assert "Not estimable:\n3 events by 12 months\n(minimum 5)" in texts[0]
    assert not any(t.startswith("Not estimable") for t in texts[1])
    assert "Not estimable:\n7 at risk at 60 months\n(minimum 10)" in texts[2]
    # the "Simulated data" tag goes to a free corner: here a note takes the bottom right one
    from crlmflow.report.plots.style import DATA_SOURCE_KEY

    fig.text(0.995, 0.005, "a note in the bottom right corner", ha="right", va="bottom", fontsize=7)
    save_figure(fig, tmp_path / "cal", metadata={DATA_SOURCE_KEY: "synthetic"})
    tag = next(t for t in fig.texts if t.get_gid() == "simulated-tag")
    assert tag.get_position() != (0.998, 0.002)
    assert_no_text_overlap(fig)
    plt.close(fig)


def test_calibration_draws_the_smooth_apparent_and_corrected_curves():
    import matplotlib.pyplot as plt
    import pandas as pd

    from crlmflow.report.plots.calibration import draw_calibration

    cal = pd.DataFrame(
        {"mean_predicted": [0.5, 0.8], "km": [0.45, 0.85], "km_lower": [0.3, 0.7], "km_upper": [0.6, 0.95]}
    )
    grid = np.linspace(0.1, 0.6, 20)
    smooth = pd.DataFrame({"predicted_risk": grid, "observed_apparent": grid, "observed_corrected": grid * 0.9})
    fig, ax = plt.subplots()
    draw_calibration(ax, cal, smooth=smooth)
    labels = ax.get_legend_handles_labels()[1]
    assert "Smooth (apparent)" in labels and "Smooth (corrected)" in labels
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "Smooth (corrected)"]
    # drawn on the survival scale: x = 1 - predicted risk, y = 1 - observed risk
    np.testing.assert_allclose(line.get_xdata(), 1 - grid)
    np.testing.assert_allclose(line.get_ydata(), 1 - grid * 0.9)
    plt.close(fig)
    # a validation set or an external cohort: its curve is not 'apparent', nor corrected
    fig, ax = plt.subplots()
    draw_calibration(ax, cal, smooth=smooth, corrected=False)
    labels = ax.get_legend_handles_labels()[1]
    assert "Smooth" in labels and not [lb for lb in labels if "apparent" in lb or "orrected" in lb]
    plt.close(fig)


def test_calibration_draws_the_distribution_of_predictions_as_counts():
    import matplotlib.pyplot as plt
    import pandas as pd

    from crlmflow.report.plots.calibration import draw_calibration

    cal = pd.DataFrame(
        {"mean_predicted": [0.5, 0.8], "km": [0.45, 0.85], "km_lower": [0.3, 0.7], "km_upper": [0.6, 0.95]}
    )
    hist = pd.DataFrame({"bin_lower": [0.45, 0.5, 0.8], "bin_upper": [0.455, 0.505, 0.805], "n": [3, 9, 4]})
    fig, ax = plt.subplots()
    draw_calibration(ax, cal, histogram=hist)
    assert "Predictions (number per bin)" in ax.get_legend_handles_labels()[1]
    (inset,) = ax.child_axes
    bars = inset.patches
    assert [b.get_height() for b in bars] == [3, 9, 4]
    # bins of the fixed grid merged a whole number at a time for about 40 bars on the axis:
    # each written bin lies inside its bar, and the bars are multiples of the grid
    x = np.array([b.get_x() for b in bars])
    w = np.array([b.get_width() for b in bars])
    assert np.all((x <= hist["bin_lower"] + 1e-12) & (hist["bin_upper"] <= x + w + 1e-12))
    k = w[0] / 0.005
    assert np.isclose(k, round(k)) and k >= 1 and np.allclose(w, w[0])
    assert np.allclose(np.round(x / w[0]), x / w[0])
    # on the panel's x scale, and the tallest bar's count written above it
    assert inset.get_xlim() == ax.get_xlim()
    assert [t.get_text() for t in inset.texts] == ["9"]
    plt.close(fig)
