"""Batching of the simulation study's replicates (crlmflow.simulation.batches)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from crlmflow.simulation import study as ss
from crlmflow.simulation.batches import replicate_batches, run_batch


def test_replicate_batches_cover_every_replicate_once_in_order():
    assert replicate_batches(10, 4) == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]
    assert replicate_batches(3, 8) == [[0], [1], [2]]  # never an empty batch
    assert replicate_batches(5, 1) == [[0, 1, 2, 3, 4]]
    for r, k in ((200, 4), (7, 3), (1, 1)):
        flat = [rep for b in replicate_batches(r, k) for rep in b]
        assert flat == list(range(r))
        sizes = [len(b) for b in replicate_batches(r, k)]
        assert max(sizes) - min(sizes) <= 1
    with pytest.raises(ValueError, match="batches"):
        replicate_batches(5, 0)


def test_run_batch_stacks_in_order_and_logs_each():
    seen = []

    def one(config, rep, seed, truth):
        return pd.DataFrame({"rep": [rep], "seed": [seed], "n": [len(truth)]})

    out = run_batch({}, [3, 4], 9, pd.DataFrame({"x": [1, 2]}), one, log=seen.append)
    assert out["rep"].tolist() == [3, 4] and (out["seed"] == 9).all() and (out["n"] == 2).all()
    assert [t["rep"].iloc[0] for t in seen] == [3, 4]


def test_two_batchings_give_identical_replicates(repo_root):
    """Replicates run in one process after another, or each alone, give the same rows, for the
    default arms and every arm beyond the paper (penalised cross-validation and bootstrap
    included)."""
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))
    beyond = ["lasso", "ridge", "shrunk_stepwise", "full_splines", "paper_splines"]
    arms = [*cfg["simulation_study"]["arms"], *beyond]
    cfg["simulation_study"].update(n_eligible=200, bootstrap_B=2, penalised_bootstrap_B=2, arms=arms)
    cfg["alternative_models"] = {"cv_folds": 3, "n_alphas": 6, "penalty_rule": "min"}
    truth, _ = ss.simulate_analysis_cohort(400, ss.truth_cohort_seed(3), cfg)
    truth = truth[ss.analysis_columns(cfg)]
    one = run_batch(cfg, [0, 1, 2], 3, truth, ss.run_replicate)
    split = [run_batch(cfg, b, 3, truth, ss.run_replicate) for b in ([2], [0, 1])]
    two = pd.concat(split, ignore_index=True).sort_values("rep", kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(one, two)
    assert set(beyond) <= set(one["arm"]) and one.loc[one["arm"] == "lasso", "c_corrected"].notna().all()
