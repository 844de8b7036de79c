"""Every published number on one replicate cohort (crlmflow.simulation.paper_replicate):
keyed exactly as the paper comparison, reproducible, and computed by the workflow's own
measures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crlmflow.model.modelling import develop_model, predict
from crlmflow.report.exhibits import paper_comparison
from crlmflow.report.exhibits.comparison_extra import target_leaves
from crlmflow.simulation.paper_replicate import SELECTION_PREFIX, replicate_results, run_paper_replicate
from crlmflow.simulation.study import selection_kwargs
from crlmflow.validation.performance import evaluate_set

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def setup():
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    targets = yaml.safe_load((ROOT / "data" / "paper_targets.yaml").read_text(encoding="utf-8"))
    return cfg, targets


@pytest.fixture(scope="module")
def replicate(setup):
    cfg, targets = setup
    return run_paper_replicate(cfg, targets, 7, cfg["simulation_study"]["seed"])


def test_every_published_number_has_a_value_row_and_every_candidate_a_selection_row(setup, replicate):
    cfg, targets = setup
    keys = list(replicate["key"])
    assert len(keys) == len(set(keys))
    numbers = [k for k in keys if not k.startswith(SELECTION_PREFIX + ".")]
    assert numbers == list(paper_comparison(targets, {})["key"].drop_duplicates())
    for leaf in target_leaves(targets):
        assert any(leaf == k or leaf.startswith(k + ".") for k in numbers), leaf
    sel = replicate[replicate["key"].str.startswith(SELECTION_PREFIX + ".")]
    assert len(sel) == len(cfg["endpoints"]) * len(cfg["candidates"])
    assert set(sel["value"]) <= {0.0, 1.0}
    v = replicate.set_index("key")["value"]
    assert v["cohort.n_total"] == v["cohort.n_train"] + v["cohort.n_validation"]
    assert 0.5 < v["performance.os.c_index.validation.0"] < 1
    assert np.isfinite(v["performance.os.risk_cutoff_points"])
    # a Table 2 HR exists exactly when the replicate selected the term
    assert np.isfinite(v["table2.os.multivariable.selected.rfa.hr.0"]) == (v["selection.os.rfa"] == 1)


def test_a_replicate_depends_only_on_the_seed_and_its_number(setup, replicate):
    cfg, targets = setup
    again = run_paper_replicate(cfg, targets, 7, cfg["simulation_study"]["seed"])
    pd.testing.assert_frame_equal(replicate, again)
    other = run_paper_replicate(cfg, targets, 8, cfg["simulation_study"]["seed"])
    assert not np.allclose(replicate["value"].fillna(-1), other["value"].fillna(-1))


def test_c_index_and_auc_are_the_workflows_own_measures(setup):
    """Pinned to evaluate_set, which the validation rule runs (same C, CI and KM AUC)."""
    from crlmflow.data.cohort import assign_sets
    from crlmflow.simulation.study import simulate_analysis_cohort

    cfg, _ = setup
    cohort, _ = simulate_analysis_cohort(389, 5, cfg)
    cohort, _ = assign_sets({"development": cohort}, {"method": "random", "train_fraction": 0.7}, seed=6)
    cohort = cohort.reset_index(drop=True)
    results, selected = replicate_results(cohort, cfg)
    spec = cfg["endpoints"]["os"]
    model = develop_model(
        cohort[cohort["set"] == "train"], cfg["candidates"], "os", spec["time"], spec["event"], **selection_kwargs(cfg)
    )
    assert selected["os"] == list(model.selected)
    data = pd.concat([cohort, predict(model, cohort, cfg["horizons"])], axis=1)
    part = data[data["set"] == "validation"]
    ref = evaluate_set(
        part[spec["time"]],
        part[spec["event"]],
        part["lp"],
        {str(h): part[f"surv_{h}"] for h in cfg["horizons"]},
        cfg["horizons"],
        B=0,
        rng=np.random.default_rng(0),
    )["performance"]
    ours = results["performance_os"]
    ours = ours[ours["set"] == "validation"]
    for m in ("c_index", "auc_km"):
        a = ref[ref["measure"] == m].reset_index(drop=True)
        b = ours[ours["measure"] == m].reset_index(drop=True)
        np.testing.assert_allclose(b["estimate"], a["estimate"], rtol=1e-12)
        if m == "c_index":
            np.testing.assert_allclose(b[["lower", "upper"]], a[["lower", "upper"]], rtol=1e-12)
