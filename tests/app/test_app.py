"""The nomogram calculator page (crlmflow.app.calculator), without a browser: self-contained, both
endpoints, properly typed inputs, no patient-level data, the synthetic-data statement.

The model files are fitted on the R fixture cohort (tests/fixtures/r_reference/crlm_a_rows.csv)
exactly as tests/model/test_modelfile.py does; ``fixture_models`` is shared with
tests/app/test_app_browser.py.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rref
import yaml

from crlmflow.app.calculator import build_app, git_commit
from crlmflow.model.modelfile import (
    build_model_file,
    build_nomogram,
    nomogram_json,
    score_patients,
    selected_predictors,
    sha256_frame,
)
from crlmflow.model.modelling import develop_model, fit_summary
from crlmflow.model.nomogram import total_points
from crlmflow.model.riskgroups import risk_groups
from crlmflow.pipeline.provenance import sha256_file
from crlmflow.survival.splines import rcs_basis, rcs_names

HORIZONS = [12, 36, 60]
ENDPOINTS = {
    "os": ("Overall survival", "os_months", "os_event"),
    "rfs": ("Recurrence-free survival", "rfs_months", "rfs_event"),
}
ID_PREFIX = "CRLM-FIXTURE-PT-"


def fit_fixture_models(repo_root) -> tuple[dict, pd.DataFrame]:
    """model.json dicts (os, rfs) fitted on the R fixture cohort, and the cohort itself.

    Patient ids are made distinctive (``CRLM-FIXTURE-PT-0001``...) so the privacy test can
    look for them; labels and units come from the default config's candidate list. Fitted
    once per process (both test modules use it); callers get their own copies.
    """
    models, rows = _fit_fixture_models(Path(repo_root))
    return copy.deepcopy(models), rows.copy()


@functools.cache
def _fit_fixture_models(repo_root: Path) -> tuple[dict, pd.DataFrame]:
    rows = rref.rows("crlm_a")
    rows["patient_id"] = [f"{ID_PREFIX}{int(i):04d}" for i in rows["patient_id"]]
    spec_path = rref.FIXTURES / "spec_crlm_a.json"
    spec = rref.spec("crlm_a")
    config = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    meta = {c["name"]: c for c in config["candidates"]}
    cands = [
        {
            "name": c,
            "type": "binary" if rows[c].isin([0, 1]).all() else "numeric",
            "label": meta.get(c, {}).get("label", c),
            "unit": meta.get(c, {}).get("unit", ""),
            # the CRS score's possible values (0-5), as in the config: a choice on the page
            **({"allowed": meta[c]["allowed"]} if meta.get(c, {}).get("allowed") else {}),
        }
        for c in spec["candidates"]
    ]
    train = rows[rows["split"] == "train"]
    models = {}
    for ep, (label, time_col, event_col) in ENDPOINTS.items():
        dev = develop_model(
            train, cands, ep, time_col, event_col, screen_p=0.10, exclude=spec["exclude_from_multivariable"]
        )
        fit = json.loads(json.dumps(fit_summary(dev, HORIZONS)))
        nomo, axes = build_nomogram(fit, cands, train, HORIZONS)
        data = rows.rename(columns={"split": "set"})
        data["total_points"] = total_points(
            dict(zip(fit["terms"], fit["coef"])), selected_predictors(fit, cands), data, nomogram=nomo
        )
        cut, _, _ = risk_groups(data, time_col, event_col, n_perm=0)
        mf = build_model_file(
            endpoint=ep,
            endpoint_label=label,
            fit=fit,
            nomogram=nomogram_json(nomo, axes),
            cutpoint={k: v for k, v in cut.items() if k != "curve"},
            candidates=cands,
            train=train,
            horizons=HORIZONS,
            data_sha256=sha256_frame(train),
            config_sha256=sha256_file(spec_path),
            synthetic=True,
        )
        models[ep] = json.loads(json.dumps(mf))  # exactly what model.json would hold
    return models, rows


def _extend_variance_terms(m: dict, centers) -> None:
    """Covariance and Tsiatis terms for terms appended to ``m`` (made-up but consistent values,
    so the page's and score's confidence limits can be compared on factor and spline rows)."""
    k = len(centers)
    V = np.asarray(m["coefficient_covariance"])
    m["coefficient_covariance"] = np.block(
        [[V, np.zeros((len(V), k))], [np.zeros((k, len(V))), 0.02 * np.eye(k)]]
    ).tolist()
    pv = m["prediction_variance"]
    pv["center"] = list(pv["center"]) + list(centers)
    pv["xbar"] = [list(row) + [c * h for c in centers] for row, h in zip(pv["xbar"], pv["cumhaz"])]


def with_factor(model: dict) -> dict:
    """``model`` plus a three-level factor predictor (the fixture has none), consistently in
    the coefficients, variables and points table, so the factor path can be checked too."""
    m = copy.deepcopy(model)
    levels, ref, coef = ["colon", "rectum", "both"], "colon", {"rectum": 0.35, "both": -0.25}
    m["variables"].append(
        {"name": "site", "label": "Primary site", "unit": "", "type": "factor", "levels": levels, "ref": ref}
    )
    for lv, b in coef.items():
        m["terms"].append(f"site{lv}")
        m["coefficients"][f"site{lv}"] = b
    _extend_variance_terms(m, centers=[0.3, 0.2])
    sc = m["nomogram"]["points_per_unit_lp"]
    xb = [0.0 if lv == ref else coef[lv] for lv in levels]
    m["nomogram"]["predictors"].append(
        {
            "name": "site",
            "label": "Primary site",
            "type": "factor",
            "unit": "",
            "values": levels,
            "xbeta": xb,
            "points": [sc * (x - min(xb)) for x in xb],
            "min_xbeta": min(xb),
        }
    )
    return m


def with_spline(model: dict, name: str = "bmi", knots=(19.0, 22.68, 24.8, 29.2)) -> dict:
    """``model`` with its numeric predictor ``name`` turned into a 4-knot restricted cubic
    spline (coefficients ``name'``, ``name''`` added, points table recomputed on the spline),
    consistently, as ``build_model_file`` writes a spline model."""
    m = copy.deepcopy(model)
    var = next(v for v in m["variables"] if v["name"] == name)
    var["knots"] = list(knots)
    extra = {f"{name}'": 0.9, f"{name}''": -2.4}
    for t, b in extra.items():
        m["terms"].append(t)
        m["coefficients"][t] = b
    _extend_variance_terms(m, centers=[0.5, 0.1])
    beta = np.array([m["coefficients"][t] for t in rcs_names(name, len(knots))])
    ax = next(p for p in m["nomogram"]["predictors"] if p["name"] == name)
    xb = rcs_basis(ax["values"], knots) @ beta
    ax.update(xbeta=xb.tolist(), min_xbeta=float(xb.min()))
    ax["points"] = (m["nomogram"]["points_per_unit_lp"] * (xb - xb.min())).tolist()
    return m


@pytest.fixture(scope="session")
def fixture_models(repo_root):
    return fit_fixture_models(repo_root)


@pytest.fixture(scope="session")
def page(fixture_models):
    models, _ = fixture_models
    return build_app(
        models, commit="0123456789abcdef0123456789abcdef01234567", data_sha256=models["os"]["training_data_sha256"]
    )


def embedded_data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="crlm-models">(.*?)</script>', page, re.S)
    assert m, "the page embeds its model data in <script id=crlm-models>"
    return json.loads(m.group(1))


def test_page_is_self_contained(page):
    low = page.lower()
    assert not re.search(r"""\b(src|href|action|srcset|poster|data)\s*=\s*["']?\s*(https?:)?//""", low)
    assert "<script src" not in low and not re.search(r"<script[^>]*\bsrc\s*=", low)
    assert "<link" not in low and "@import" not in low and "@font-face" not in low
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", low)
    for api in ("fetch(", "xmlhttprequest", "websocket", "eventsource", "sendbeacon", "import(", "<iframe", "<img"):
        assert api not in low, api
    # the only "http" strings are the SVG namespace identifier (in JS, not a load)
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= {"http://www.w3.org/2000/svg"}
    assert "default-src 'none'" in page  # the Content-Security-Policy forbids any network access


def test_both_endpoints_and_labelled_inputs(page, fixture_models):
    models, _ = fixture_models
    for ep, m in models.items():
        assert f'id="tab-{ep}"' in page and f'id="panel-{ep}"' in page
        assert m["endpoint_label"] in page
        for v in m["variables"]:
            vid = f"{ep}-{v['name']}"
            if v["type"] == "numeric" and v.get("allowed"):  # the CRS score: a choice of 0-5
                sel = re.search(rf'<select id="{vid}".*?</select>', page, re.S).group(0)
                assert re.findall(r'<option value="([^"]*)">', sel) == ["", "0", "1", "2", "3", "4", "5"]
                assert f'<input id="{vid}"' not in page
            elif v["type"] == "numeric":
                lo, hi = v["range"]
                tag = re.search(rf'<input id="{vid}"[^>]*>', page).group(0)
                assert 'type="number"' in tag and f'min="{lo:g}"' in tag and f'max="{hi:g}"' in tag
                assert f'<label for="{vid}">{v["label"]}</label>' in page
                assert f"Training range {lo:g}\u2013{hi:g}" in page
            else:
                assert f'id="{vid}-0"' in page and f'id="{vid}-1"' in page
                assert "<span>No</span>" in page and "<span>Yes</span>" in page
            for el in (f"{ep}-pts-{v['name']}", f"{vid}-msg"):
                assert f'id="{el}"' in page
        for el in ("total", "lp", "risk", *(f"surv-{h}" for h in HORIZONS), "curve"):
            assert f'id="{ep}-{el}"' in page
    assert set(embedded_data(page)["models"]) == {"os", "rfs"}


def test_factor_predictor_gets_a_select(fixture_models):
    models, _ = fixture_models
    page = build_app({"os": with_factor(models["os"])}, commit=None, data_sha256=None)
    sel = re.search(r'<select id="os-site".*?</select>', page, re.S).group(0)
    assert '<option value="">Select\u2026</option>' in sel
    assert all(f'<option value="{lv}">' in sel for lv in ("colon", "rectum", "both"))


def test_no_patient_level_data(page, fixture_models):
    models, rows = fixture_models
    assert "patient_id" not in page and ID_PREFIX not in page
    for pid in rows["patient_id"]:
        assert pid not in page
    # no row of the cohort, in the fixture file's own form or as the model's predictor values
    raw_lines = (rref.FIXTURES / "crlm_a_rows.csv").read_text().splitlines()[1:]
    for line in raw_lines:
        assert line.split(",", 1)[1] not in page
    names = sorted({v["name"] for m in models.values() for v in m["variables"]})
    for _, row in rows.iterrows():
        rec = {n: row[n] for n in names}
        for sep in (",", ", ", ";", "\t"):
            assert sep.join(f"{rec[n]:g}" for n in names) not in page
        assert json.dumps(rec) not in page
        assert row.to_csv(header=False, index=False).strip().replace("\n", ",") not in page
    # the embedded data: only model-level fields, and no array as long as the cohort
    data = embedded_data(page)
    n_train = int((rows["split"] == "train").sum())

    def arrays(obj):
        if isinstance(obj, dict):
            for v in obj.values():
                yield from arrays(v)
        elif isinstance(obj, list):
            yield obj
            for v in obj:
                yield from arrays(v)

    for ep, m in data["models"].items():
        assert set(m) <= {
            "format",
            "endpoint",
            "endpoint_label",
            "synthetic_data",
            "coefficients",
            "center_lp",
            "variables",
            "horizons",
            "baseline_survival_at_means",
            "baseline_cumhaz",
            "nomogram",
            "risk_cutoff",
            "terms",
            "coefficient_covariance",
            "prediction_variance",
            "survival_conf",
        }
        assert all(len(a) < n_train for a in arrays(m)), ep
        assert len(m["baseline_cumhaz"]["time"]) <= models[ep]["events_train"]


def test_synthetic_statement_only_for_synthetic_models(fixture_models):
    models, _ = fixture_models
    real = {ep: dict(m, synthetic_data=False) for ep, m in models.items()}
    page_real = build_app(real, commit=None, data_sha256=None)
    page_synth = build_app(models, commit=None, data_sha256=None)
    assert "developed on SIMULATED data" in page_synth and "Not for clinical use" in page_synth
    assert "SIMULATED" not in page_real and "simulated" not in page_real.lower()
    mixed = build_app({"os": models["os"], "rfs": real["rfs"]}, commit=None, data_sha256=None)
    assert "model for Overall survival was developed on SIMULATED data" in mixed


def test_names_data_hash_and_commit(fixture_models):
    models, _ = fixture_models
    page = build_app(models, commit="f" * 40, data_sha256="c" * 64)
    assert f'<span class="mono" id="data-sha256">{"c" * 64}</span>' in page
    assert f'<span class="mono" id="commit">{"f" * 40}</span>' in page
    page = build_app(models, commit=None, data_sha256=None)  # falls back to the model files' hash
    data_hash = models["os"]["training_data_sha256"]
    assert re.fullmatch("[0-9a-f]{64}", data_hash) and data_hash == models["rfs"]["training_data_sha256"]
    assert f'id="data-sha256">{data_hash}<' in page and 'id="commit">not recorded<' in page


def test_script_json_cannot_close_the_script_element(fixture_models):
    models, _ = fixture_models
    m = copy.deepcopy(models["os"])
    m["variables"][0]["label"] = "</script><script>alert(1)</script>&"
    m["endpoint_label"] = "<b>OS</b>"
    page = build_app({"os": m}, commit=None, data_sha256=None)
    assert page.count("</script>") == 2 and "<b>OS</b>" not in page
    assert embedded_data(page)["models"]["os"]["variables"][0]["label"] == m["variables"][0]["label"]


def test_rejects_inconsistent_model(fixture_models):
    models, _ = fixture_models
    bad = copy.deepcopy(models["os"])
    bad["nomogram"]["predictors"] = bad["nomogram"]["predictors"][::-1]
    if len(bad["variables"]) > 1:
        with pytest.raises(ValueError, match="nomogram's predictors must match"):
            build_app({"os": bad}, commit=None, data_sha256=None)
    with pytest.raises(ValueError, match="not a crlmflow-cox-model/1"):
        build_app({"os": dict(models["os"], format="other")}, commit=None, data_sha256=None)


def test_factor_model_scores_with_the_reference(fixture_models):
    """The hand-made factor model used by the browser test is a valid model file."""
    models, rows = fixture_models
    m = with_factor(models["os"])
    df = rows.head(3).assign(site=["colon", "rectum", "both"])
    base = score_patients(models["os"], df)
    scored = score_patients(m, df)
    assert scored["points_site"].tolist() == pytest.approx(
        [m["nomogram"]["points_per_unit_lp"] * (x + 0.25) for x in (0.0, 0.35, -0.25)]
    )
    assert (scored["lp"] - base["lp"]).tolist() == pytest.approx([0.0, 0.35, -0.25])


def test_git_commit(tmp_path, repo_root):
    assert git_commit(tmp_path) is None
    sha = git_commit(repo_root)
    assert sha is None or re.fullmatch(r"[0-9a-f]{40,64}", sha)


def test_external_extrapolation_is_flagged(fixture_models):
    models, _ = fixture_models
    assert 'id="external-extrapolation"' not in build_app(models, commit=None, data_sha256=None)
    rows = [
        {"label": "Hospital days", "in_model": True, "n_external": 150, "n_outside": 4},
        {"label": "CRS score", "in_model": True, "n_external": 150, "n_outside": 0},
        {"label": "ALB", "in_model": False, "n_external": 150, "n_outside": 9},
    ]
    page = build_app(models, commit=None, data_sha256=None, external={"os": rows})
    assert 'id="external-extrapolation"' in page
    assert "external cohort of 150 patients" in page and "Hospital days: 4 of 150" in page
    assert "ALB" not in page.split('id="external-extrapolation"')[1].split("</div>")[0], "model predictors only"


def test_score_with_possible_values_is_a_choice_of_them(fixture_models):
    models, _ = fixture_models
    m = json.loads(json.dumps(models["os"]))
    num = next(v for v in m["variables"] if v["type"] == "numeric")
    num["allowed"] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    page = build_app({"os": m}, commit=None, data_sha256=None)
    sel = re.search(rf'<select id="os-{num["name"]}".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option value="(\d+)">', sel) == ["0", "1", "2", "3", "4", "5"]
    assert f'os-{num["name"]}" name="{num["name"]}" type="number"' not in page


def test_spline_model_scores_on_its_knots_and_the_page_embeds_them(fixture_models):
    models, rows = fixture_models
    base = models["os"]
    name = next(v["name"] for v in base["variables"] if v["type"] == "numeric")
    knots = tuple(float(q) for q in np.quantile(rows[name], [0.05, 0.35, 0.65, 0.95]))
    model = with_spline(base, name, knots)
    patients = rows.head(6).copy()
    lin, spl = score_patients(base, patients), score_patients(model, patients)
    basis = rcs_basis(patients[name], knots)
    extra = basis[:, 1:] @ np.array([model["coefficients"][f"{name}'"], model["coefficients"][f"{name}''"]])
    np.testing.assert_allclose(spl["lp"] - lin["lp"], extra, rtol=1e-12, atol=1e-12)
    data = embedded_data(build_app({"os": model}, commit=None, data_sha256=None))
    var = next(v for v in data["models"]["os"]["variables"] if v["name"] == name)
    assert var["knots"] == list(knots)
