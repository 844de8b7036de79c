"""Validation of the models beyond the paper (crlmflow.validation.alternatives)."""

import numpy as np
import pandas as pd
import pytest
from rref import load_case

from crlmflow.model.alternatives import fit_full_model
from crlmflow.report.formats import horizon_key
from crlmflow.validation.alternatives import evaluate_models, stepwise_shrinkage
from crlmflow.validation.performance import evaluate_set


def test_shrinkage_from_the_bootstrap_slope_else_the_heuristic():
    opt = pd.DataFrame({"measure": ["c_index", "slope"], "corrected": [0.7, 0.82], "n_replicates": [200, 198]})
    s, source = stepwise_shrinkage(opt, lr_chisq=60.0, parameters=26)
    assert s == 0.82 and "bootstrap" in source and "198" in source
    s, source = stepwise_shrinkage(None, lr_chisq=60.0, parameters=26)
    assert s == pytest.approx((60 - 26) / 60) and "heuristic" in source
    s, source = stepwise_shrinkage(opt.assign(corrected=np.nan), lr_chisq=None, parameters=26)
    assert np.isnan(s) and "not available" in source


def _full_model_case():
    """The crlm_a fixture split 2:1 into training and validation rows, with the full model
    fitted on the training rows: (OS endpoint spec, data, model, horizons)."""
    ref, rows = load_case("crlm_a")
    spec = ref["spec"]
    ep = ref["endpoints"]["os"]
    cands = [c if isinstance(c, dict) else {"name": c, "type": "numeric"} for c in spec["candidates"]]
    data = rows.assign(set=np.where(np.arange(len(rows)) % 3 == 0, "validation", "train"))
    train = data[data["set"] == "train"]
    model = fit_full_model(train, cands, ep["time"], ep["event"], exclude=spec["exclude_from_multivariable"])
    return ep, data, model, spec["horizons"]


def test_evaluate_models_is_evaluate_set_on_each_models_predictions():
    ep, data, model, horizons = _full_model_case()
    tables = evaluate_models(data, {"full": model}, ep["time"], ep["event"], horizons, ["train", "validation"])
    out = tables["performance"]
    assert list(out.columns[:3]) == ["model", "set", "evaluation"]
    assert set(out["set"]) == {"train", "validation"}
    val = data[data["set"] == "validation"]
    pred = model.predict(val, horizons)
    direct = evaluate_set(
        val[ep["time"]],
        val[ep["event"]],
        pred["lp"],
        {horizon_key(h): pred[f"surv_{horizon_key(h)}"] for h in horizons},
        horizons,
        B=0,
        rng=None,
        baseline=(model.baseline.time, model.baseline.cumhaz, model.center),
    )
    for key in ("performance", "roc", "calibration", "dca"):
        # the curves drawn beside the paper model's are evaluate_set's, row for row
        frame = tables[key]
        assert list(frame.columns[:3]) == ["model", "set", "evaluation"], key
        assert (frame["model"] == "full").all()
        assert set(frame["set"]) == {"train", "validation"}, key
        mine = frame[frame["set"] == "validation"].drop(columns=["model", "set", "evaluation"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, direct[key], obj=key)
    # the training rows are apparent: slope 1 by construction for an unpenalised fit
    slope = out[(out["set"] == "train") & (out["measure"] == "calibration_slope")]["estimate"].item()
    assert slope == pytest.approx(1.0, abs=1e-6)
    assert (out.loc[out["set"] == "train", "evaluation"] == "apparent").all()


def test_evaluate_models_curves_cover_each_model_and_horizon():
    ep, data, full, horizons = _full_model_case()
    tables = evaluate_models(data, {"full": full, "again": full}, ep["time"], ep["event"], horizons, ["validation"])
    for key in ("roc", "calibration", "dca"):
        frame = tables[key]
        assert list(dict.fromkeys(frame["model"])) == ["full", "again"], key  # the models' order
        assert (frame["evaluation"] == "validation").all()
        # one model fitted twice gives the same curve twice
        a = frame[frame["model"] == "full"].drop(columns="model").reset_index(drop=True)
        b = frame[frame["model"] == "again"].drop(columns="model").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
    roc = tables["roc"]
    # survivalROC's KM estimator is not bounded by 1 (the figure clips); every curve starts at (1, 1)
    first = roc.groupby(["model", "horizon"]).head(1)
    assert np.allclose(first[["fpr", "tpr"]].to_numpy(float), 1.0)
    assert set(roc["horizon"].astype(float)) <= {float(h) for h in horizons}
    cal = tables["calibration"]
    assert cal["mean_predicted"].between(0, 1).all()
    # no model: empty tables, not an error
    empty = evaluate_models(data, {}, ep["time"], ep["event"], horizons, ["validation"])
    assert all(v.empty for v in empty.values())
