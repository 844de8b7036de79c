"""Selection-aware bias correction of the calibration curves (grouped and smooth)."""

import numpy as np
import pandas as pd
import pytest

from crlmflow.model.modelling import develop_model, model_matrix, predict
from crlmflow.validation.calibration import smooth_calibration, smooth_calibration_curve
from crlmflow.validation.calibration_bootstrap import calibrate_selection_aware
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
    kw = dict(B=25, seed=11, endpoint_index=0, set_index=0, calibration_groups=4)
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
    kw = dict(B=3, seed=11, endpoint_index=0, set_index=0, screen_p=0.3, method="forward_lr")
    score, _ = calibrate_selection_aware(df, cands, "time", "event", S, H, entry_test="score", **kw)
    assert seen == ["score"] * 3
    seen.clear()
    lr, _ = calibrate_selection_aware(df, cands, "time", "event", S, H, entry_test="lr", **kw)
    assert seen == ["lr"] * 3
    assert list(score.columns) == list(lr.columns)
