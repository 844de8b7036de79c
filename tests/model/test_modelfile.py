"""model.json round trip: scoring with the file alone equals the pipeline's predictions."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from rref import rows as fixture_rows
from rref import spec as fixture_spec

from crlmflow.data.errors import InputError
from crlmflow.model.modelfile import (
    build_model_file,
    build_nomogram,
    load_model,
    nomogram_json,
    score_patients,
    selected_predictors,
)
from crlmflow.model.modelling import develop_model, fit_summary, predict
from crlmflow.model.nomogram import total_points
from crlmflow.model.riskgroups import risk_groups

HORIZONS = [12, 36, 60]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    rows = fixture_rows("crlm_a")
    rows["patient_id"] = rows["patient_id"].astype(str)
    spec = fixture_spec("crlm_a")
    cands = [
        {"name": c, "type": "binary" if rows[c].isin([0, 1]).all() else "numeric", "label": c}
        for c in spec["candidates"]
    ]
    train, valid = rows[rows["split"] == "train"], rows[rows["split"] == "validation"]
    model = develop_model(
        train, cands, "os", "os_months", "os_event", screen_p=0.10, exclude=spec["exclude_from_multivariable"]
    )
    fit = json.loads(json.dumps(fit_summary(model, HORIZONS)))
    nomo, axes = build_nomogram(fit, cands, train, HORIZONS)
    data = rows.rename(columns={"split": "set"})
    data["total_points"] = total_points(
        dict(zip(fit["terms"], fit["coef"])), selected_predictors(fit, cands), data, nomogram=nomo
    )
    cut, groups, _ = risk_groups(data, "os_months", "os_event", n_perm=0)
    mf = build_model_file(
        endpoint="os",
        endpoint_label="Overall survival",
        fit=fit,
        nomogram=nomogram_json(nomo, axes),
        cutpoint={k: v for k, v in cut.items() if k != "curve"},
        candidates=cands,
        train=train,
        horizons=HORIZONS,
        data_sha256="x",
        config_sha256="y",
        synthetic=True,
    )
    path = tmp_path_factory.mktemp("model") / "model.json"
    path.write_text(json.dumps(mf))
    return {"rows": rows, "valid": valid, "model": model, "path": path, "data": data, "groups": groups}


def test_scores_equal_pipeline_predictions(pipeline):
    model = load_model(pipeline["path"])
    rows = pipeline["rows"]
    scored = score_patients(model, rows)
    pred = predict(pipeline["model"], rows, HORIZONS)
    np.testing.assert_allclose(scored["lp"], pred["lp"], atol=1e-10)
    for h in HORIZONS:
        np.testing.assert_allclose(scored[f"surv_{h}"], pred[f"surv_{h}"], atol=1e-10)
    np.testing.assert_allclose(scored["total_points"], pipeline["data"]["total_points"], atol=1e-9)
    assert (scored["risk_group"].to_numpy() == pipeline["groups"]["risk_group"].to_numpy()).all()


def test_model_file_holds_no_patient_rows(pipeline):
    text = pipeline["path"].read_text()
    model = json.loads(text)
    assert "patient_id" not in text
    assert {
        "coefficients",
        "means",
        "baseline_survival_at_means",
        "baseline_cumhaz",
        "nomogram",
        "variables",
        "horizons",
        "training_data_sha256",
        "config_sha256",
        "risk_cutoff",
    } <= set(model)


def test_invalid_and_missing_values_name_row_and_column(pipeline):
    model = load_model(pipeline["path"])
    bad = pipeline["valid"].head(3).copy()
    var = model["variables"][0]["name"]
    bad[var] = bad[var].astype(object)
    bad.iloc[1, bad.columns.get_loc(var)] = "abc"
    bad.iloc[2, bad.columns.get_loc(var)] = np.nan
    with pytest.raises(InputError) as err:
        score_patients(model, bad, source="new.csv")
    msg = str(err.value)
    assert "new.csv, line 3" in msg and f"column '{var}'" in msg and "'abc'" in msg
    assert "line 4" in msg and "missing" in msg


def test_out_of_range_warns(pipeline):
    model = load_model(pipeline["path"])
    num = [v for v in model["variables"] if v["type"] == "numeric"][0]
    df = pipeline["valid"].head(1).copy()
    df[num["name"]] = num["range"][1] * 10 + 1
    with pytest.warns(UserWarning, match="outside the training range"):
        score_patients(model, df)


def test_command_line_scoring(pipeline, tmp_path):
    inp = tmp_path / "new.csv"
    pipeline["valid"].head(5).to_csv(inp, index=False)
    out = tmp_path / "scored.csv"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "crlmflow",
            "score",
            "--model",
            str(pipeline["path"]),
            "--input",
            str(inp),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    scored = pd.read_csv(out)
    assert len(scored) == 5 and {"total_points", "lp", "surv_12", "surv_36", "surv_60", "risk_group"} <= set(scored)


def test_model_file_records_the_drawn_axis_and_flags_values_beyond_it(pipeline):
    model = load_model(pipeline["path"])
    by_name = {p["name"]: p for p in model["nomogram"]["predictors"]}
    num = [v for v in model["variables"] if v["type"] == "numeric"][0]
    assert num["axis"] == [min(by_name[num["name"]]["values"]), max(by_name[num["name"]]["values"])]
    # a trimmed axis (nomogram_axis: display): inside the training range, beyond the axis
    lo, hi = num["range"]
    num["axis"] = [lo + (hi - lo) / 4, hi - (hi - lo) / 4]
    df = pipeline["valid"].head(1).copy()
    df[num["name"]] = hi
    with pytest.warns(UserWarning, match=r"beyond the nomogram axis"):
        scored = score_patients(model, df)
    # the score itself is the model's: points extend the axis linearly
    pred = predict(pipeline["model"], df, HORIZONS)
    np.testing.assert_allclose(scored["lp"], pred["lp"], atol=1e-10)


def test_impossible_score_values_are_errors_possible_ones_extrapolate(pipeline):
    model = load_model(pipeline["path"])
    num = [v for v in model["variables"] if v["type"] == "numeric"][0]
    lo, hi = num["range"]
    num["allowed"] = sorted({float(lo), float(hi), float(hi) + 1.0})
    num.pop("axis", None)
    df = pipeline["valid"].head(3).copy()
    df[num["name"]] = [hi + 7, lo + 0.5, hi + 1.0]
    with pytest.raises(InputError) as err:
        score_patients(model, df, source="new.csv")
    msg = str(err.value)
    assert "line 2" in msg and "line 3" in msg and "line 4" not in msg and "one of" in msg
    with pytest.warns(UserWarning, match="outside the training range"):
        score_patients(model, df.tail(1))


def test_input_template_scores_and_output_is_rounded(pipeline, tmp_path):
    from crlmflow.model.modelfile import input_template, round_scores

    model = load_model(pipeline["path"])
    tmpl = input_template(model)
    assert list(tmpl.columns) == ["patient_id"] + [v["name"] for v in model["variables"]]
    scored = score_patients(model, tmpl)  # the example row is valid input
    rounded = round_scores(scored)
    assert rounded["total_points"].iloc[0] == round(scored["total_points"].iloc[0], 1)
    assert rounded["surv_12"].iloc[0] == round(scored["surv_12"].iloc[0], 4)
    out = tmp_path / "tmpl.csv"
    res = subprocess.run(
        [sys.executable, "-m", "crlmflow", "template", "--model", str(pipeline["path"]), "--output", str(out)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert pd.read_csv(out).columns.tolist() == tmpl.columns.tolist()
    helptext = subprocess.run([sys.executable, "-m", "crlmflow", "--help"], capture_output=True, text=True).stdout
    assert "as they land" not in helptext and "template" in helptext


def test_survival_axis_before_first_event_is_omitted_with_a_note():
    """No training event before a horizon: S(h) = 1 for everyone, so that horizon's survival
    axis is reported as not drawable (warning, note in nomogram.json and the figure), while
    the other horizons keep their axes."""
    from crlmflow.report.exhibits.nomogram import load_nomogram
    from crlmflow.report.plots import plot_nomogram

    rows = fixture_rows("crlm_a")
    cands = [{"name": c, "type": "numeric", "label": c} for c in ("cea", "nlr", "crs_score", "r0_resection")]
    train = rows[rows["split"] == "train"]
    early = float(train.loc[train["os_event"] == 1, "os_months"].min()) / 2
    horizons = [early, 36]
    model = develop_model(train, cands, "os", "os_months", "os_event", screen_p=1.0)
    fit = json.loads(json.dumps(fit_summary(model, horizons)))
    with pytest.warns(UserWarning, match="survival axis not drawn: no event"):
        nomo, axes = build_nomogram(fit, cands, train, horizons)
    assert axes[early].surv.size == 0 and axes[early].baseline_surv == 1.0
    assert axes[36.0].surv.size > 0 and not axes[36.0].note
    js = json.loads(json.dumps(nomogram_json(nomo, axes)))
    notes = {k: a.get("note", "") for k, a in js["survival_axes"].items()}
    assert sum("no event in the training data" in n for n in notes.values()) == 1
    _, loaded = load_nomogram(js)
    assert loaded[early].note == axes[early].note
    fig = plot_nomogram(nomo, axes)
    texts = [t.get_text() for t in fig.texts]
    assert any(axes[early].note in t for t in texts)


def test_scores_carry_survfit_confidence_limits(pipeline):
    """``score``'s limits = survival_confint on the full training terms (R-equal, see
    tests/survival/test_prediction_ci.py); the file keeps only aggregates at the horizons."""
    from crlmflow.survival.cox import CoxData
    from crlmflow.survival.prediction_ci import hazard_variance_terms, survival_confint

    model = load_model(pipeline["path"])
    assert model["survival_conf"] == {"type": "log", "level": 0.95}
    pv = model["prediction_variance"]
    assert pv["time"] == [float(h) for h in HORIZONS]
    # its H0 at the means is the baseline's (crlmflow.survival.cox.baseline_hazard), the same model
    s0 = [model["baseline_survival_at_means"][str(h)] for h in HORIZONS]
    np.testing.assert_allclose(pv["cumhaz"], -np.log(s0), rtol=1e-12)
    fit = pipeline["model"].fit
    train = pipeline["rows"][pipeline["rows"]["split"] == "train"]
    terms = list(fit.names)
    data = CoxData(train["os_months"], train["os_event"], train[terms].to_numpy(float), names=terms)
    full = hazard_variance_terms(data, data.fit())
    new = pipeline["valid"].head(20)
    want = survival_confint(new[terms].to_numpy(float) - full.center, fit.coef, fit.var, full, HORIZONS)
    scored = score_patients(model, new)
    for j, h in enumerate(HORIZONS):
        np.testing.assert_allclose(scored[f"surv_lower_{h}"], want["lower"][:, j], rtol=0, atol=1e-9)
        np.testing.assert_allclose(scored[f"surv_upper_{h}"], want["upper"][:, j], rtol=0, atol=1e-9)
        assert (scored[f"surv_lower_{h}"] < scored[f"surv_{h}"]).all()
        assert (scored[f"surv_{h}"] < scored[f"surv_upper_{h}"]).all()


def test_log_log_limits_follow_the_model_files_conf_type(pipeline):
    """``prediction.conf_type: log-log`` reaches model.json and score gives R survfit's
    log-log limits (survival_confint, pinned to R in tests/survival/test_prediction_ci.py)."""
    from crlmflow.survival.cox import CoxData
    from crlmflow.survival.prediction_ci import hazard_variance_terms, survival_confint

    model = load_model(pipeline["path"])
    model["survival_conf"] = {"type": "log-log", "level": 0.95}
    fit = pipeline["model"].fit
    train = pipeline["rows"][pipeline["rows"]["split"] == "train"]
    terms = list(fit.names)
    data = CoxData(train["os_months"], train["os_event"], train[terms].to_numpy(float), names=terms)
    full = hazard_variance_terms(data, data.fit())
    new = pipeline["valid"].head(20)
    x = new[terms].to_numpy(float) - full.center
    want = survival_confint(x, fit.coef, fit.var, full, HORIZONS, "log-log")
    log = survival_confint(x, fit.coef, fit.var, full, HORIZONS, "log")
    scored = score_patients(model, new)
    for j, h in enumerate(HORIZONS):
        np.testing.assert_allclose(scored[f"surv_lower_{h}"], want["lower"][:, j], rtol=0, atol=1e-9)
        np.testing.assert_allclose(scored[f"surv_upper_{h}"], want["upper"][:, j], rtol=0, atol=1e-9)
        assert not np.allclose(want["lower"][:, j], log["lower"][:, j])  # a different interval
    with pytest.raises(ValueError, match="conf_type"):
        build_model_file(
            endpoint="os",
            endpoint_label="Overall survival",
            fit={},
            nomogram={},
            cutpoint=None,
            candidates=[],
            train=pipeline["rows"],
            horizons=HORIZONS,
            data_sha256="x",
            config_sha256="y",
            synthetic=True,
            conf_type="plain",
        )
