"""Selection-aware bias correction of the calibration curves (grouped and smooth)."""

import numpy as np
import pandas as pd
import pytest

from crlmflow.data.io import atomic_write_csv
from crlmflow.model.modelling import develop_model, model_matrix, predict
from crlmflow.validation.calibration import smooth_calibration, smooth_calibration_curve
from crlmflow.validation.calibration_bootstrap import (
    REPLICATE_FLOAT_FORMAT,
    calibrate_selection_aware,
    development_calibration,
    read_replicate_tables,
)
from crlmflow.validation.optimism import run_replicates
from crlmflow.validation.performance import calibrate_bias_corrected

H = [12, 36]


@pytest.fixture(scope="module")
def noise():
    """One weak real predictor among 12 noise candidates: selection overfits."""
    rng = np.random.default_rng(7)
    n, p = 200, 12
    X = rng.normal(size=(n, p))
    t = rng.exponential(30 * np.exp(-0.4 * X[:, 0]))
    c = rng.uniform(10, 70, n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["time"], df["event"] = np.minimum(t, c), (t <= c).astype(int)
    cands = [{"name": f"x{j}", "type": "numeric"} for j in range(p)]
    model = develop_model(df, cands, "os", "time", "event", screen_p=0.3)
    pred = predict(model, df, H)
    S = pred[[f"surv_{h}" for h in H]].to_numpy(float)
    return df, cands, model, S


def test_smooth_curve_on_the_data_equals_the_per_row_observed_risk(noise):
    df, _, _, S = noise
    sm = smooth_calibration(df["time"], df["event"], S[:, 1], 36)
    curve, _ = smooth_calibration_curve(df["time"], df["event"], S[:, 1], 36, sm.predicted_risk)
    np.testing.assert_allclose(curve, sm.observed_risk, atol=1e-10)


def test_repeating_selection_finds_more_optimism_than_refitting_the_final_terms(noise):
    df, cands, model, S = noise
    assert len(model.selected) >= 2
    kw = dict(B=25, seed=11, endpoint_index=0, calibration_groups=4)
    aware, smooth = calibrate_selection_aware(df, cands, "time", "event", S, H, screen_p=0.3, **kw)
    rms = calibrate_bias_corrected(df["time"], df["event"], model_matrix(model, df), H, **kw)
    # same groups, same apparent values; the corrected spread of the groups shrinks more
    np.testing.assert_allclose(aware["index_orig"], rms["index_orig"])
    at = aware[aware["horizon"] == 36].sort_values("group")
    rt = rms[rms["horizon"] == 36].sort_values("group")
    assert np.abs(at["optimism"]).mean() > np.abs(rt["optimism"]).mean()
    spread = lambda tab: tab["km_corrected"].max() - tab["km_corrected"].min()  # noqa: E731
    assert spread(at) < spread(rt)
    # deterministic under the seed
    again, _ = calibrate_selection_aware(df, cands, "time", "event", S, H, screen_p=0.3, **kw)
    pd.testing.assert_frame_equal(aware, again)
    # smooth curve: corrected = apparent - optimism, on a grid inside the predicted range
    s36 = smooth[smooth["horizon"] == 36]
    np.testing.assert_allclose(
        s36["observed_corrected"], np.clip(s36["observed_apparent"] - s36["optimism"], 0, 1), atol=1e-12
    )
    assert s36["n_bootstrap"].iloc[0] > 0 and s36["optimism"].notna().all()
    assert (aware["n_nothing_selected"] >= 0).all()


def test_each_resample_repeats_the_configured_forward_lr_entry_test(noise, monkeypatch):
    """The resamples must repeat the procedure that selected the model, Forward-LR's entry
    test included (validate_model once left it at "lr" when the study used "score")."""
    import crlmflow.validation.calibration_bootstrap as cb

    df, cands, _, S = noise
    seen = []

    class Recording(cb.ReplicateEngine):
        def select(self, w):
            seen.append(self.entry_test)
            return super().select(w)

    monkeypatch.setattr(cb, "ReplicateEngine", Recording)
    kw = dict(B=3, seed=11, endpoint_index=0, screen_p=0.3, method="forward_lr")
    score, _ = calibrate_selection_aware(df, cands, "time", "event", S, H, entry_test="score", **kw)
    assert seen == ["score"] * 3
    seen.clear()
    lr, _ = calibrate_selection_aware(df, cands, "time", "event", S, H, entry_test="lr", **kw)
    assert seen == ["lr"] * 3
    assert list(score.columns) == list(lr.columns)


def test_the_bootstrap_jobs_calibration_equals_the_one_call(noise, tmp_path):
    """The workflow's path: the optimism bootstrap's jobs record the calibration optimism of
    their replicates b < calibration_B beside their other measures, written per job at full
    precision, and validate_model summarises them.  It must give the very tables of
    calibrate_selection_aware on the same replicates, whatever the chunking."""
    df, cands, _, S = noise
    B = 7
    sel = dict(screen_p=0.3, method="forward_lr", entry_test="score")
    want_grouped, want_smooth = calibrate_selection_aware(
        df, cands, "time", "event", S, H, B=B, seed=11, endpoint_index=1, calibration_groups=4, **sel
    )
    rows = df.assign(**{f"surv_{h}": S[:, j] for j, h in enumerate(H)})
    paths = []
    for k, (first, last) in enumerate([(0, 3), (3, 9), (9, 12)]):  # replicates 7..11: none recorded
        cal = development_calibration(rows, "time", "event", H, 4)
        reps = run_replicates(
            df, cands, "time", "event", H, range(first, last), seed=11, endpoint_index=1,
            calibration=cal, calibration_B=B, **sel,
        )  # fmt: skip
        assert len(reps) == last - first
        path = tmp_path / f"calibration_{k}.csv"
        atomic_write_csv(cal.table(), path, float_format=REPLICATE_FLOAT_FORMAT)
        paths.append(path)
    recorded = read_replicate_tables(paths[::-1])  # job order does not matter
    assert sorted(recorded["b"].unique()) == list(range(B))
    got_grouped, got_smooth = development_calibration(rows, "time", "event", H, 4).summarise(recorded)
    pd.testing.assert_frame_equal(got_grouped, want_grouped, check_exact=True)
    pd.testing.assert_frame_equal(got_smooth, want_smooth, check_exact=True)
    assert (got_grouped["n_bootstrap"] == B).all()


def test_both_corrections_resample_the_optimism_bootstraps_replicates(noise, monkeypatch):
    """The selection-aware and the rms-equal correction draw replicate b from the optimism
    bootstrap's stream (bootstrap_indices): the same resamples, only the refit differs."""
    import crlmflow.validation.optimism as opt
    import crlmflow.validation.performance as perf

    df, cands, model, S = noise
    drawn = {"aware": [], "rms": []}
    real = opt.bootstrap_indices

    def spy(key):
        def draw(n, seed, endpoint_index, b):
            idx = real(n, seed, endpoint_index, b)
            drawn[key].append(np.sort(idx))
            return idx

        return draw

    monkeypatch.setattr(opt, "bootstrap_indices", spy("aware"))
    calibrate_selection_aware(df, cands, "time", "event", S, H, B=3, seed=5, endpoint_index=0, screen_p=0.3)
    monkeypatch.setattr(perf, "bootstrap_indices", spy("rms"))
    calibrate_bias_corrected(df["time"], df["event"], model_matrix(model, df), H, B=3, seed=5, endpoint_index=0)
    assert len(drawn["aware"]) == len(drawn["rms"]) == 3
    for a, r in zip(drawn["aware"], drawn["rms"]):
        np.testing.assert_array_equal(a, r)
