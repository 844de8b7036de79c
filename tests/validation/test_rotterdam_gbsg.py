"""A real, public, non-CRLM development/validation pair through the workflow's own code:
Rotterdam (development) and GBSG (external validation), Royston & Altman 2013.

config/rotterdam_gbsg.yaml is read as the workflow reads it; both files are cleaned,
mapped and recoded (GBSG's size in mm binned, grade recoded) by the config alone; the model
is selected on Rotterdam and frozen; its external-validation numbers on GBSG are checked
against R (tests/fixtures/r_reference/rotterdam_gbsg/rotterdam_gbsg.R, which recodes the
GBSG file independently) to 1e-6.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from crlmflow.data.cohort import assign_sets, clean_cohort_file
from crlmflow.model.modelling import develop_model, predict
from crlmflow.pipeline.config import validate_config
from crlmflow.pipeline.streams import stream
from crlmflow.validation.performance import evaluate_set

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests" / "fixtures" / "r_reference" / "rotterdam_gbsg" / "rotterdam_gbsg.json").read_text())


@pytest.fixture(scope="module")
def validated():
    cfg = yaml.safe_load((ROOT / "config" / "rotterdam_gbsg.yaml").read_text())
    validate_config(cfg)
    cohorts = {}
    for name, block, key in (("development", cfg["data"], "data.file"), ("external", cfg["external"], "external.file")):
        res = clean_cohort_file(
            ROOT / block["file"]["path"],
            file_options=block["file"],
            source="file",
            data_options=cfg["data"],
            candidates=cfg["candidates"],
            endpoints=cfg["endpoints"],
            config_key=key,
            units_key=f"{key}.units",
        )
        cohorts[name] = res.cohort
    data, summary = assign_sets(cohorts, cfg["split"], seed=cfg["seed"])
    ep = cfg["endpoints"]["rfs"]
    train = data[data["set"] == "train"]
    model = develop_model(
        train, cfg["candidates"], "rfs", ep["time"], ep["event"], screen_p=cfg["selection"]["screen_p"]
    )
    ext = data[data["set"] == "validation"]
    pred = predict(model, ext, cfg["horizons"])
    res = evaluate_set(
        ext[ep["time"]],
        ext[ep["event"]],
        pred["lp"],
        {str(h): pred[f"surv_{h}"] for h in cfg["horizons"]},
        cfg["horizons"],
        B=0,
        rng=stream(cfg["seed"], "c_index_bootstrap", 0, 1),
    )
    return summary, model, pred, res["performance"].set_index(["measure", "horizon"])


def test_cohorts_and_model_as_r(validated):
    summary, model, pred, _ = validated
    assert summary["n"] == {"train": REF["n_development"], "validation": REF["n_external"]}
    assert model.events == REF["events_development"]
    assert model.selection.screened == REF["screened"]
    assert model.selected == REF["selected"]
    coef = dict(zip(model.fit.names, model.fit.coef))
    for term, b in REF["coef"].items():
        assert coef[term] == pytest.approx(b, rel=1e-6), term
    # the linear predictors agree up to the centring constant (R's predict(reference =
    # "sample") centres the factor's dummies differently); every validation number is
    # invariant to it, and the survival predictions are compared through the Brier score
    diff = pred["lp"].to_numpy()[:10] - np.asarray(REF["lp_first10"])
    np.testing.assert_allclose(diff, diff[0], atol=1e-6)


def test_external_validation_numbers_match_r(validated):
    *_, perf = validated
    c = perf.xs("c_index", level=0).iloc[0]
    assert c["estimate"] == pytest.approx(REF["c_index"], abs=1e-6)
    assert c["se"] == pytest.approx(REF["c_index_se"], abs=1e-6)
    slope = perf.xs("calibration_slope", level=0).iloc[0]
    assert slope["estimate"] == pytest.approx(REF["calibration_slope"], abs=1e-6)
    assert slope["se"] == pytest.approx(REF["calibration_slope_se"], abs=1e-6)
    for j, h in enumerate(REF["horizons"]):
        assert perf.loc[("auc_uno", h), "estimate"] == pytest.approx(REF["auc_uno"][j], abs=1e-6)
        assert perf.loc[("auc_uno", h), "se"] == pytest.approx(REF["auc_uno_se"][j], abs=1e-6)
        assert perf.loc[("brier", h), "estimate"] == pytest.approx(REF["brier"][j], abs=1e-6)
        assert perf.loc[("brier", h), "se"] == pytest.approx(REF["brier_se"][j], abs=1e-6)
        assert perf.loc[("ipa", h), "estimate"] == pytest.approx(REF["ipa"][j], abs=1e-6)
