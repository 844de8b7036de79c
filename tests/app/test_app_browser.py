"""The nomogram calculator end to end in headless Chromium (Debian's ``chromium``, driven by
Playwright): the page, opened from disk, gives the same points, linear predictor, survival
and risk group as ``crlmflow.model.modelfile.score_patients`` for the same patients.

Needs the ``playwright`` Python package and a Chromium binary (``/usr/bin/chromium``, or the
path in ``CRLM_CHROMIUM``); Playwright's own browser download is not used (offline). The test
fails, not skips, when either is missing: CI installs them.

A screenshot is saved to ``test-artifacts/nomogram_app.png``; with
``UPDATE_DOCS_SCREENSHOT=1`` it is also copied to ``docs/nomogram_app.png`` for the README.
"""

from __future__ import annotations

import copy
import math
import os
import re
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
from test_app import fit_fixture_models, with_factor, with_spline  # the shared model builder (tests/app/test_app.py)

from crlmflow.app.calculator import build_app, git_commit
from crlmflow.model.modelfile import InputError, score_patients

CHROMIUM = os.environ.get("CRLM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "install them with `.venv/bin/uv pip install --python .venv/bin/python playwright` and "
    "`apt-get update && apt-get install -y chromium` (Debian's chromium at /usr/bin/chromium, "
    "or set CRLM_CHROMIUM to a Chromium binary); Playwright's own browser download is not used"
)
TOL = 5e-5  # equal to 4 decimals


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            f"the browser test needs the Python package 'playwright', which is missing: {INSTALL_HINT}", pytrace=False
        )
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"the browser test needs Chromium at {CHROMIUM}, which is missing: {INSTALL_HINT}", pytrace=False)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def models_and_rows(repo_root):
    return fit_fixture_models(repo_root)


class Page:
    """The calculator opened from disk, with every network request and JS error recorded."""

    def __init__(self, browser, html: str, path: Path, width: int = 1200):
        path.write_text(html, encoding="utf-8")
        self.url = path.resolve().as_uri()
        self.ctx = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1, offline=True)
        self.ctx.set_default_timeout(5000)
        self.pg = self.ctx.new_page()
        self.requests, self.errors = [], []
        self.pg.on("request", lambda r: self.requests.append(r.url))
        self.pg.on("pageerror", lambda e: self.errors.append(str(e)))
        self.pg.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.pg.goto(self.url)
        assert self.pg.get_attribute("html", "data-ready") == "true", self.errors

    def tab(self, ep):
        self.pg.click(f"#tab-{ep}")
        assert self.pg.is_visible(f"#panel-{ep}")

    def enter(self, ep, model, patient: dict):
        for v in model["variables"]:
            x, vid = patient[v["name"]], f"#{ep}-{v['name']}"
            if v["type"] == "numeric" and v.get("allowed"):  # a score (CRS 0-5): a choice, not typed
                self.pg.select_option(vid, _as_typed(x))
            elif v["type"] == "numeric":
                self.pg.fill(vid, _as_typed(x))
            elif v["type"] == "binary":
                self.pg.check(f"{vid}-{int(x)}")
            else:
                self.pg.select_option(vid, str(x))

    def value(self, selector) -> str:
        return self.pg.get_attribute(selector, "data-value")

    def number(self, selector) -> float:
        return float(self.value(selector))

    def text(self, selector) -> str:
        return self.pg.inner_text(selector).strip()

    def close(self):
        self.ctx.close()


@pytest.fixture
def open_page(browser, tmp_path):
    pages = []

    def _open(html: str, name: str = "nomogram.html", width: int = 1200) -> Page:
        p = Page(browser, html, tmp_path / name, width=width)
        pages.append(p)
        return p

    yield _open
    for p in pages:
        assert p.errors == [], f"JavaScript errors: {p.errors}"
        assert p.requests == [p.url], f"the page made requests besides loading itself: {p.requests}"
        p.close()


def _as_typed(x) -> str:
    """A number as a person would type it (53, 24.7), exactly (shortest round-trip form)."""
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


def _patients(models, rows) -> pd.DataFrame:
    """Five validation rows; one older and one thinner than anyone in training (extrapolation)."""
    pts = rows[rows["split"] == "validation"].head(5).copy().reset_index(drop=True)
    rng = {v["name"]: v["range"] for m in models.values() for v in m["variables"] if v["type"] == "numeric"}
    pts["bmi"] = pts["bmi"].astype(float)
    pts.loc[1, "bmi"] = 22.37
    if "age" in rng:
        pts.loc[2, "age"] = rng["age"][1] + 9  # above the training range
    if "bmi" in rng:
        pts.loc[3, "bmi"] = rng["bmi"][0] - 2.15  # below the training range
    return pts


def _pct(s: float) -> str:
    """The page's percentage: never "0.0%" or "100.0%" for a probability strictly between 0 and 1."""
    return "< 0.1%" if s < 0.001 else "> 99.9%" if s > 0.999 else f"{100 * s:.1f}%"


def _check_against_reference(page: Page, ep: str, model: dict, patient: pd.Series, ref: pd.Series):
    for v in model["variables"]:
        assert page.number(f"#{ep}-pts-{v['name']}") == pytest.approx(ref[f"points_{v['name']}"], abs=TOL)
    total = page.number(f"#{ep}-total")
    assert total == pytest.approx(ref["total_points"], abs=TOL)
    assert page.number(f"#{ep}-lp") == pytest.approx(ref["lp"], abs=TOL)
    assert page.text(f"#{ep}-total") == f"{ref['total_points']:.1f}"
    for h in model["horizons"]:
        s = page.number(f"#{ep}-surv-{h}")
        assert s == pytest.approx(ref[f"surv_{h}"], abs=TOL), (ep, h)
        assert page.text(f"#{ep}-surv-{h}") == _pct(ref[f"surv_{h}"])
        # R survfit's confidence limits (score's, pinned to R in tests/survival/test_prediction_ci.py)
        for side in ("lower", "upper"):
            got = float(page.pg.get_attribute(f"#{ep}-ci-{h}", f"data-{side}"))
            assert got == pytest.approx(ref[f"surv_{side}_{h}"], abs=TOL), (ep, h, side)
        want = f"{_pct(ref[f'surv_lower_{h}'])} \u2013 {_pct(ref[f'surv_upper_{h}'])}"
        assert page.text(f"#{ep}-ci-{h}") == want
        # the curve drawn from the baseline cumulative hazard passes through the same point
        dot = float(page.pg.get_attribute(f"#{ep}-curve circle[data-horizon='{h}']", "data-curve-value"))
        assert dot == pytest.approx(ref[f"surv_{h}"], abs=TOL)
    assert page.value(f"#{ep}-risk") == ref["risk_group"]
    assert page.text(f"#{ep}-risk") == ("High risk" if ref["risk_group"] == "high" else "Low risk")
    assert page.pg.locator(f"#{ep}-curve path.patient-curve").count() == 1
    # extrapolation flagged next to the input (still computed)
    outside = [
        v["name"]
        for v in model["variables"]
        if v["type"] == "numeric" and not v["range"][0] <= patient[v["name"]] <= v["range"][1]
    ]
    for v in model["variables"]:
        state = page.pg.get_attribute(f"#{ep}-field-{v['name']}", "data-state")
        assert state == ("extrapolation" if v["name"] in outside else "ok"), (v["name"], state)
        if v["name"] in outside:
            assert "extrapolation" in page.text(f"#{ep}-{v['name']}-msg")
    assert page.pg.get_attribute(f"#{ep}-results", "data-state") == ("extrapolation" if outside else "ok")
    return bool(outside)


def test_page_equals_score_patients(open_page, models_and_rows, repo_root):
    models, rows = models_and_rows
    page = open_page(build_app(models, commit=git_commit(repo_root), data_sha256=models["os"]["training_data_sha256"]))
    patients = _patients(models, rows)
    n_extrapolated = 0
    for ep, model in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # out-of-range warnings: checked on the page instead
            ref = score_patients(model, patients)
        page.tab(ep)
        for i in range(len(patients)):
            page.enter(ep, model, patients.loc[i])
            n_extrapolated += _check_against_reference(page, ep, model, patients.loc[i], ref.loc[i])
    assert n_extrapolated >= 2
    assert set(score_patients(models["os"], patients.head(1))["risk_group"]) <= {"low", "high"}

    # a tidy in-range patient for the screenshot (test artifact, and the README's image on request)
    page.tab("os")
    page.enter("os", models["os"], patients.loc[0])  # shared predictors follow into the RFS tab
    page.pg.evaluate("document.activeElement.blur()")  # no focus ring in the picture
    out = repo_root / "test-artifacts" / "nomogram_app.png"
    out.parent.mkdir(exist_ok=True)
    page.pg.screenshot(path=str(out), full_page=True)
    assert out.stat().st_size > 10_000
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
        (repo_root / "docs").mkdir(exist_ok=True)
        shutil.copyfile(out, repo_root / "docs" / "nomogram_app.png")


def test_factor_predictor(open_page, models_and_rows):
    models, rows = models_and_rows
    model = with_factor(models["os"])
    page = open_page(build_app({"os": model}, commit=None, data_sha256=None))
    patients = (
        rows[rows["split"] == "validation"].head(3).reset_index(drop=True).assign(site=["colon", "rectum", "both"])
    )
    ref = score_patients(model, patients)
    for i in range(len(patients)):
        page.enter("os", model, patients.loc[i])
        _check_against_reference(page, "os", model, patients.loc[i], ref.loc[i])
    page.pg.select_option("#os-site", "")
    assert page.pg.get_attribute("#os-results", "data-state") == "incomplete"
    assert "choose a level" in page.text("#os-site-msg")


def test_spline_predictor(open_page, models_and_rows):
    """A spline predictor: the page evaluates rms's rcs on the stored knots as score does."""
    models, rows = models_and_rows
    name = next(v["name"] for v in models["os"]["variables"] if v["type"] == "numeric")
    model = with_spline(models["os"], name, tuple(rows[name].quantile([0.05, 0.35, 0.65, 0.95])))
    page = open_page(build_app({"os": model}, commit=None, data_sha256=None))
    patients = rows[rows["split"] == "validation"].head(4).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = score_patients(model, patients)
    for i in range(len(patients)):
        page.enter("os", model, patients.loc[i])
        _check_against_reference(page, "os", model, patients.loc[i], ref.loc[i])


def test_invalid_and_empty_inputs_show_messages(open_page, models_and_rows):
    models, rows = models_and_rows
    page = open_page(build_app(models, commit=None, data_sha256=None))
    model = models["os"]
    num = [v["name"] for v in model["variables"] if v["type"] == "numeric"][0]
    binary = [v["name"] for v in model["variables"] if v["type"] == "binary"][0]
    pg = page.pg

    def incomplete(field_label):
        assert pg.get_attribute("#os-results", "data-state") == "incomplete"
        assert "No prediction yet" in page.text("#os-status") and field_label in page.text("#os-status")
        for el in ("total", "lp", "risk", *(f"surv-{h}" for h in model["horizons"])):
            assert page.value(f"#os-{el}") == "" and page.text(f"#os-{el}") == "\u2013"
        assert pg.locator("#os-curve path.patient-curve").count() == 0

    # on load: nothing entered, no numbers, and no premature error under untouched fields
    label = {v["name"]: v["label"] for v in model["variables"]}
    incomplete(label[num])
    assert page.text(f"#os-{num}-msg") == ""

    patient = rows[rows["split"] == "validation"].iloc[0]
    page.enter("os", model, patient)
    assert pg.get_attribute("#os-results", "data-state") == "ok"
    # empty field
    pg.fill(f"#os-{num}", "")
    assert pg.get_attribute(f"#os-field-{num}", "data-state") == "missing"
    assert page.text(f"#os-{num}-msg") == "Required: enter a value"
    assert page.value(f"#os-pts-{num}") == ""
    incomplete(label[num])
    # letters typed into the number field: Chromium keeps none of them -> still empty
    pg.locator(f"#os-{num}").press_sequentially("abc")
    assert page.text(f"#os-{num}-msg") == "Required: enter a value"
    incomplete(label[num])
    # text the number field keeps but cannot parse ("1e", "-", "e5x"): not a number
    for bad in ("1e", "-", "e5x"):
        pg.fill(f"#os-{num}", "")
        pg.locator(f"#os-{num}").press_sequentially(bad)
        assert pg.get_attribute(f"#os-field-{num}", "data-state") == "invalid", bad
        assert page.text(f"#os-{num}-msg") == "Not a number: enter a numeric value"
        incomplete(label[num])
    # a valid value again restores the prediction
    pg.fill(f"#os-{num}", _as_typed(patient[num]))
    assert pg.get_attribute("#os-results", "data-state") == "ok" and page.text(f"#os-{num}-msg") == ""
    assert not math.isnan(page.number("#os-total"))
    # a binary predictor left unanswered (fresh page: radios cannot be unchecked)
    page2 = open_page(build_app(models, commit=None, data_sha256=None), name="fresh.html")
    for v in model["variables"]:
        if v["name"] != binary:
            page2.enter("os", {"variables": [v]}, patient)
    page2.pg.locator(f"#os-field-{binary} input").first.focus()
    page2.pg.locator(f"#os-{num}").focus()  # leaving the radio group marks it touched
    assert page2.pg.get_attribute("#os-results", "data-state") == "incomplete"
    assert label[binary] in page2.text("#os-status")
    assert page2.text(f"#os-{binary}-msg") == "Required: choose No or Yes"


def test_tabs_and_statements(open_page, models_and_rows):
    models, _ = models_and_rows
    page = open_page(build_app(models, commit="abc" + "0" * 37, data_sha256="d" * 64))
    pg = page.pg
    assert pg.is_visible("#panel-os") and not pg.is_visible("#panel-rfs")
    pg.focus("#tab-os")
    pg.keyboard.press("ArrowRight")
    assert pg.is_visible("#panel-rfs") and not pg.is_visible("#panel-os")
    assert pg.get_attribute("#tab-rfs", "aria-selected") == "true"
    assert "developed on SIMULATED data" in page.text("#synthetic-warning")
    assert page.text("#data-sha256") == "d" * 64 and page.text("#commit") == "abc" + "0" * 37


def test_phone_width_has_no_horizontal_overflow_and_readable_chart_text(open_page, models_and_rows):
    """At 375 CSS px (a phone) nothing overflows sideways (the 64-character data hash wraps)
    and no chart text is smaller than 11 CSS px."""
    models, rows = models_and_rows
    page = open_page(build_app(models, commit="abc" + "0" * 37, data_sha256="d" * 64), width=375)
    page.tab("os")
    page.enter("os", models["os"], _patients(models, rows).loc[0])
    pg = page.pg
    wide = pg.evaluate(
        "Array.from(document.querySelectorAll('body *')).filter(e => e.offsetParent !== null && "
        "e.getBoundingClientRect().right > window.innerWidth + 0.5).map(e => e.tagName + '#' + e.id)"
    )
    assert wide == [], wide
    assert pg.evaluate("document.documentElement.scrollWidth") <= 375
    sizes = pg.evaluate(
        "Array.from(document.querySelectorAll('svg text')).filter(t => t.getBBox().width > 0)"
        ".map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"
    )
    assert sizes and min(sizes) >= 11 - 1e-6, min(sizes)


def test_tiny_and_near_certain_probabilities_are_not_rounded_to_0_or_100(open_page, models_and_rows):
    """A survival below 0.1% reads "< 0.1%" (never "0.0%"), one above 99.9% reads "> 99.9%"."""
    models, rows = models_and_rows
    model = copy.deepcopy(models["os"])
    model["baseline_survival_at_means"]["12"] = 0.9999999
    model["baseline_survival_at_means"]["60"] = 1e-9
    page = open_page(build_app({"os": model}, commit=None, data_sha256=None))
    patient = rows[rows["split"] == "validation"].head(1).reset_index(drop=True)
    ref = score_patients(model, patient)
    page.enter("os", model, patient.loc[0])
    assert ref.loc[0, "surv_12"] > 0.999 and ref.loc[0, "surv_60"] < 0.001
    assert page.text("#os-surv-12") == "> 99.9%"
    assert page.text("#os-surv-60") == "< 0.1%"
    shown = page.text("#os-results")
    assert not re.search(r"(?<![\d.])(0\.0|100\.0)%", shown), shown


def test_crs_score_is_a_choice_of_its_possible_values(open_page, models_and_rows):
    """The CRS score (``allowed`` 0-5 in the model file) is a choice of exactly those values:
    an impossible value (7, 2.5) cannot be entered on the page and is an error in score; a
    possible value outside the training range (0 here) is computed and flagged."""
    models, rows = models_and_rows
    model = models["os"]
    crs = next(v for v in model["variables"] if v.get("allowed"))
    assert crs["name"] == "crs_score" and crs["range"][0] > 0  # CRS 0: possible, never seen in training
    page = open_page(build_app(models, commit=None, data_sha256=None))
    pg, vid = page.pg, f"#os-{crs['name']}"
    assert pg.evaluate(f"document.querySelector('{vid}').tagName") == "SELECT"
    options = pg.eval_on_selector_all(f"{vid} option", "os => os.map(o => o.value)")
    assert options == ["", "0", "1", "2", "3", "4", "5"]
    patient = rows[rows["split"] == "validation"].head(1).reset_index(drop=True)
    patient.loc[0, crs["name"]] = 0
    page.enter("os", model, patient.loc[0])
    with pytest.warns(UserWarning, match="outside the training range"):
        ref = score_patients(model, patient)
    _check_against_reference(page, "os", model, patient.loc[0], ref.loc[0])
    assert pg.get_attribute(f"#os-field-{crs['name']}", "data-state") == "extrapolation"
    # the page cannot hold an impossible value: the select has no such option
    for bad in ("7", "2.5"):
        held = pg.evaluate(
            f"""() => {{ const s = document.querySelector('{vid}'); s.value = '{bad}';
            s.dispatchEvent(new Event('change', {{bubbles: true}})); return s.value; }}"""
        )
        assert held == ""
        assert pg.get_attribute("#os-results", "data-state") == "incomplete"
        assert page.text(f"#os-{crs['name']}-msg") == "Required: choose a value"
    # ... and score rejects it, naming the line and the possible values
    for bad in (7, 2.5):
        with pytest.raises(InputError, match="one of 0, 1, 2, 3, 4, 5"):
            score_patients(model, patient.assign(**{crs["name"]: bad}))


def test_log_log_limits_equal_score_and_are_stated(open_page, models_and_rows):
    """A model file with ``survival_conf.type`` log-log (config ``prediction.conf_type``): the
    page's limits equal score's (R survfit's log-log) and the page says which scale they are on."""
    models, rows = models_and_rows
    model = copy.deepcopy(models["os"])
    model["survival_conf"]["type"] = "log-log"
    page = open_page(build_app({"os": model}, commit=None, data_sha256=None))
    patients = rows[rows["split"] == "validation"].head(3).reset_index(drop=True)
    ref = score_patients(model, patients)
    log = score_patients(models["os"], patients)
    assert not (ref["surv_lower_60"] == log["surv_lower_60"]).any()
    for i in range(len(patients)):
        page.enter("os", model, patients.loc[i])
        _check_against_reference(page, "os", model, patients.loc[i], ref.loc[i])
    assert "R survfit, log-log scale" in page.text("#panel-os")
    page.pg.click("#provenance details summary")
    assert 'conf.type = "log-log"' in page.text("#provenance")
