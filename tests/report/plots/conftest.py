"""Fixture-data inputs for the figure tests (R reference fixtures, read by tests/rref.py)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rref import CASES, load_case

from crlmflow.model.cutpoint import lausen_schumacher_p, maxstat_cutpoint
from crlmflow.model.nomogram import nomogram_points, survival_axes
from crlmflow.report.formats import horizon_label


def plot_case(ds: str, ep: str) -> dict:
    """What the figures of endpoint ``ep`` of dataset ``ds`` are drawn from."""
    fx, rows = load_case(ds)
    e = fx["endpoints"][ep]
    cf = e["final"]["coefficients"]
    coefs = dict(zip(cf["term"], cf["coef"]))
    levels = fx["data"]["factor_levels"]
    specs = []
    for name in e["rms"]["nomogram"]["predictors"]:
        if name in levels:
            specs.append({"name": name, "type": "factor", "levels": levels[name], "ref": levels[name][0]})
        else:
            binary = set(rows[name].unique()) <= {0, 1}
            specs.append({"name": name, "type": "binary" if binary else "numeric"})
    nomo = nomogram_points(coefs, specs, rows)
    b = e["baseline"]["at_horizons"]
    axes = survival_axes(nomo, dict(zip(b["horizon"], b["surv_at_sample_means"])))
    lp = np.asarray(e["per_row"]["lp"])
    cut = maxstat_cutpoint(lp, rows[e["time"]], rows[e["event"]], minprop=e["cutpoint"]["minprop"])
    forest = pd.DataFrame(cf).rename(columns={"hr_lower95": "hr_lower", "hr_upper95": "hr_upper", "p_wald": "p"})
    return {
        "ds": ds,
        "ep": ep,
        "specs": specs,
        "nomogram": nomo,
        "survival_axes": axes,
        "value_labels": {s["name"]: {0: "No", 1: "Yes"} for s in specs if s["type"] == "binary"},
        "survival_labels": {h: f"{horizon_label(h)} {ep.upper()}" for h in axes},
        "lp": lp,
        "cutpoint": cut,
        "p_lau92": lausen_schumacher_p(cut.statistic, cut.minprop),
        "forest": forest,
    }


@pytest.fixture(scope="session", params=CASES, ids=[f"{d}-{e}" for d, e in CASES])
def case(request) -> dict:
    return plot_case(*request.param)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """Where figures go: tmp_path, or $CRLMFLOW_TEST_FIGURES to keep them for inspection."""
    keep = os.environ.get("CRLMFLOW_TEST_FIGURES")
    if keep:
        p = Path(keep)
        p.mkdir(parents=True, exist_ok=True)
        return p
    return tmp_path


def _drawn_texts(fig):
    """Text artists that are actually drawn: free texts, labels, legends, and tick labels
    of ticks inside the view limits (matplotlib keeps unused tick Text objects around)."""
    out = list(fig.texts)
    for ax in fig.axes:
        out += list(ax.texts) + [ax.title, ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend() is not None:
            out += list(ax.get_legend().get_texts())
        for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = min(lim), max(lim)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if lo <= tick.get_loc() <= hi and tick.get_visible():
                    out += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    return [t for t in out if t.get_visible() and t.get_text().strip()]


def assert_no_text_overlap(fig) -> None:
    """No two drawn text artists of the figure intersect (1 px slack)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = _drawn_texts(fig)
    boxes = [t.get_window_extent(renderer).padded(-1) for t in texts]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (texts[i].get_text(), texts[j].get_text())
