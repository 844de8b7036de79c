"""A self-contained nomogram calculator page built from the portable model files.

``build_app(models, commit=..., data_sha256=...)`` returns one HTML page (inline CSS and
vanilla JavaScript, system fonts, no external resource of any kind, a Content-Security-
Policy that forbids network access) that works opened from disk, offline. For each model
(tab per endpoint) the reader enters a patient's predictors and sees, as they type, each
predictor's points, the total points, the centred linear predictor, survival at the
model's horizons, the high/low risk group and the patient's survival curve.

The page computes exactly what :func:`crlmflow.model.modelfile.score_patients` computes:
points_p = sc·(xβ_p − min xβ_p) (a spline's xβ_p = Σ_j β_j C_j(x) on its stored knots, as
``crlmflow.survival.splines.rcs_basis``), total = Σ_p points_p, lp = Σ_p xβ_p − center_lp,
S(h) = S0(h)^exp(lp) with S0 the baseline survival at the training means, high risk when
total > cut-off. The curve is S(t) = exp(−H0(t)·exp(Σ xβ)), H0 the step baseline
cumulative hazard at covariates 0 (it equals S0(h)^exp(lp) at the horizons).

Only the parts of ``model.json`` the calculator needs are embedded (coefficients,
centring, baseline, points tables, variable definitions, cut-off, hashes): never
patient-level data.
"""

from __future__ import annotations

import html
import json
import math
import re
from importlib import resources
from pathlib import Path

from scipy.stats import norm

from crlmflow.data.io import to_plain
from crlmflow.model.modelfile import MODEL_FORMAT
from crlmflow.pipeline.provenance import git_state
from crlmflow.report.formats import format_unit, horizon_key, horizon_label

TEMPLATE = "template.html"
TITLE = "CRLM prognostic nomogram calculator"


def git_commit(cwd: str | Path | None = None) -> str | None:
    """``git rev-parse HEAD`` of the working directory, or None outside a git checkout."""
    return git_state(cwd or ".")["commit"]


def _num(x) -> str:
    """Short human form of a number (7.0 -> '7', 0.25 -> '0.25')."""
    return f"{float(x):g}"


def _dom_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(name))


def _check_model(ep: str, m: dict) -> None:
    if m.get("format") != MODEL_FORMAT:
        raise ValueError(f"model '{ep}': not a {MODEL_FORMAT} model file")
    nomo = m.get("nomogram") or {}
    names = [v["name"] for v in m.get("variables", [])]
    if not names or [p["name"] for p in nomo.get("predictors", [])] != names:
        raise ValueError(f"model '{ep}': the nomogram's predictors must match the model's variables")
    for h in m["horizons"]:
        if horizon_key(h) not in m["baseline_survival_at_means"]:
            raise ValueError(f"model '{ep}': no baseline survival at horizon {h}")


def _embedded(m: dict) -> dict:
    """The subset of a model file the page needs (no patient-level data)."""
    nomo = m["nomogram"]
    variables = []
    for v in m["variables"]:
        w = {
            k: v[k]
            for k in ("name", "label", "unit", "type", "range", "axis", "allowed", "levels", "ref", "knots")
            if k in v
        }
        w["id"] = _dom_id(v["name"])
        if "range" in v:
            w["rangeText"] = _range_text(v)
        variables.append(w)
    cut = m.get("risk_cutoff") or {}
    return {
        "format": m["format"],
        "endpoint": m["endpoint"],
        "endpoint_label": m.get("endpoint_label", m["endpoint"]),
        "synthetic_data": bool(m.get("synthetic_data")),
        "coefficients": m["coefficients"],
        "center_lp": m["center_lp"],
        "variables": variables,
        "horizons": list(m["horizons"]),
        "baseline_survival_at_means": {
            horizon_key(h): m["baseline_survival_at_means"][horizon_key(h)] for h in m["horizons"]
        },
        "baseline_cumhaz": {"time": list(m["baseline_cumhaz"]["time"]), "cumhaz": list(m["baseline_cumhaz"]["cumhaz"])},
        "nomogram": {
            "points_per_unit_lp": nomo["points_per_unit_lp"],
            "predictors": [{"name": p["name"], "min_xbeta": p["min_xbeta"]} for p in nomo["predictors"]],
        },
        **_ci_terms(m),
        "risk_cutoff": {
            "total_points": cut.get("total_points"),
            "threshold": cut.get("threshold", cut.get("total_points")),
        },
    }


def _ci_terms(m: dict) -> dict:
    """What the page needs for the confidence limits of survival (nothing for older model files)."""
    pv = m.get("prediction_variance")
    V = m.get("coefficient_covariance")
    if not pv or V is None:
        return {}
    p = len(m["terms"])
    if len(V) != p or len(pv["center"]) != p or any(len(x) != p for x in pv["xbar"]):
        raise ValueError(f"model '{m['endpoint']}': the covariance and variance terms must match its {p} terms")
    conf = m.get("survival_conf") or {"type": "log", "level": 0.95}
    return {
        "terms": list(m["terms"]),
        "coefficient_covariance": m["coefficient_covariance"],
        "prediction_variance": {k: pv[k] for k in ("time", "cumhaz", "varhaz", "xbar", "center")},
        "survival_conf": {"type": conf["type"], "level": conf["level"], "z": float(norm.ppf(0.5 + conf["level"] / 2))},
    }


def _conf_type(m: dict) -> str:
    """The scale of a model's survival confidence limits ("log" for files that do not say)."""
    return (m.get("survival_conf") or {}).get("type", "log")


def _conf_scale(m: dict) -> str:
    return "log-log scale" if _conf_type(m) == "log-log" else "log scale"


# how the page computes each scale's limits (R survfit's conf.type), for the methods note
_CI_FORMULA = {
    "log": 'on the log scale, exp(log S &plusmn; z&middot;se(H)) (R\'s default <code>conf.type = "log"</code>)',
    "log-log": "on the log-log scale, exp(&minus;exp(log H &plusmn; z&middot;se(H)/H)) "
    '(<code>conf.type = "log-log"</code>)',
}


def _short_hash(h) -> str:
    if not h:
        return "not recorded"
    return f'<span class="mono" title="{html.escape(str(h))}">{html.escape(str(h)[:12])}\u2026</span>'


def _range_text(v: dict) -> str:
    lo, hi = v["range"]
    unit = f" {format_unit(v['unit'])}" if v.get("unit") else ""
    return f"{_num(lo)}\u2013{_num(hi)}{unit}"


def _script_json(obj) -> str:
    """JSON safe inside a <script> element (no '</script>', no HTML-significant characters)."""
    text = json.dumps(to_plain(obj), ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _field(ep: str, v: dict) -> str:
    e = html.escape
    vid = _dom_id(v["name"])
    base = f"{ep}-{vid}"
    label = e(v.get("label") or v["name"])
    unit = e(format_unit(v.get("unit")))
    pts = f'<output class="pts" id="{ep}-pts-{vid}" for="{base}" data-value="">\u2013</output>'
    msg = f'<div class="msg" id="{base}-msg" aria-live="polite"></div>'
    attrs = f'id="{ep}-field-{vid}" data-var="{e(v["name"])}" data-type="{e(v["type"])}"'
    if v["type"] == "numeric" and v.get("allowed"):  # a score: only its possible values can be chosen
        choices = '<option value="">choose</option>' + "".join(
            f'<option value="{_num(a)}">{_num(a)}</option>' for a in v["allowed"]
        )
        return (
            f'<div class="field" {attrs}>'
            f'<label for="{base}">{label}</label>'
            f'<div class="control"><select id="{base}" name="{e(v["name"])}" aria-describedby="{base}-range {base}-msg">'
            f"{choices}</select></div>"
            f'<div class="hint" id="{base}-range">Training range {e(_range_text(v))}</div>'
            f"{msg}{pts}</div>"
        )
    if v["type"] == "numeric":
        lo, hi = v["range"]
        return (
            f'<div class="field" {attrs}>'
            f'<label for="{base}">{label}</label>'
            f'<div class="control"><input id="{base}" name="{e(v["name"])}" type="number" step="any" '
            f'min="{_num(lo)}" max="{_num(hi)}" inputmode="decimal" autocomplete="off" '
            f'aria-describedby="{base}-range {base}-msg">'
            + (f'<span class="unit">{unit}</span>' if unit else "")
            + "</div>"
            f'<div class="hint" id="{base}-range">Training range {e(_range_text(v))}</div>'
            f"{msg}{pts}</div>"
        )
    if v["type"] == "binary":
        opts = "".join(
            f'<label for="{base}-{val}"><input type="radio" id="{base}-{val}" name="{ep}-{vid}" value="{val}">'
            f"<span>{text}</span></label>"
            for val, text in ((0, "No"), (1, "Yes"))
        )
        return (
            f'<fieldset class="field" {attrs} aria-describedby="{base}-msg">'
            f"<legend>{label}</legend>"
            f'<div class="control"><span class="seg">{opts}</span></div>{msg}{pts}</fieldset>'
        )
    if v["type"] == "factor":
        levels = "".join(
            f'<option value="{e(str(lv))}">{e(str(lv))}{" (reference)" if str(lv) == str(v.get("ref")) else ""}'
            f"</option>"
            for lv in v["levels"]
        )
        return (
            f'<div class="field" {attrs}>'
            f'<label for="{base}">{label}</label>'
            f'<div class="control"><select id="{base}" name="{e(v["name"])}" aria-describedby="{base}-msg">'
            f'<option value="">Select\u2026</option>{levels}</select></div>{msg}{pts}</div>'
        )
    raise ValueError(f"predictor {v['name']!r}: unknown type {v['type']!r}")


def _panel(ep: str, m: dict, selected: bool) -> str:
    e = html.escape
    label = e(m.get("endpoint_label", ep))
    cut = (m.get("risk_cutoff") or {}).get("total_points")
    has_ci = bool(_ci_terms(m))
    ci_empty = "\u2013" if has_ci else "n/a"
    ci_note = (
        "CI: confidence interval of the predicted probability, from the uncertainty of the coefficients and "
        f"of the baseline survival (R survfit, {_conf_scale(m)})"
        if has_ci
        else "No confidence interval: this model file predates them."
    )
    level = (m.get("survival_conf") or {}).get("level", 0.95)
    rows = "".join(
        f'<tr><td>{horizon_label(h)}</td><td><div class="bar"><span id="{ep}-bar-{horizon_key(h)}"></span></div></td>'
        f'<td class="num" id="{ep}-surv-{horizon_key(h)}" data-horizon="{horizon_key(h)}" data-value="">\u2013</td>'
        f'<td class="num ci" id="{ep}-ci-{horizon_key(h)}" data-lower="" data-upper="">{ci_empty}</td></tr>'
        for h in m["horizons"]
    )
    risk_kpi = (
        f'<div class="kpi"><div class="k">Risk group</div>'
        f'<div class="v"><span class="risk" id="{ep}-risk" data-value="">\u2013</span></div>'
        f'<div class="sub" id="{ep}-risk-detail"></div></div>'
        if cut is not None
        else f'<div class="kpi"><div class="k">Risk group</div><div class="v" id="{ep}-risk" data-value="">n/a</div>'
        f'<div class="sub" id="{ep}-risk-detail">no cut-off in the model file</div></div>'
    )
    fields = "".join(_field(ep, v) for v in m["variables"])
    coef_rows = "".join(
        f"<tr><td><code>{e(t)}</code></td><td>{b:.4f}</td><td>{math.exp(b):.3f}</td></tr>"
        for t, b in m["coefficients"].items()
    )
    hidden = "" if selected else " hidden"
    return f"""<section class="panel" id="panel-{ep}" role="tabpanel" aria-labelledby="tab-{ep}"{hidden}>
<div class="grid">
<form class="card inputs" id="{ep}-form" autocomplete="off" onsubmit="return false" novalidate>
<h2>Patient \u2013 {label}</h2>
<div class="colhead" aria-hidden="true"><span>Predictor</span><span>Points</span></div>
{fields}
<p class="meta">Points per predictor are the nomogram's (the widest predictor spans 0\u2013100).</p>
</form>
<div class="card results" id="{ep}-results" data-state="incomplete" aria-live="polite">
<h2>Prediction \u2013 {label}</h2>
<p class="status" id="{ep}-status"></p>
<div class="kpis">
<div class="kpi"><div class="k">Total points</div><div class="v" id="{ep}-total" data-value="">\u2013</div></div>
<div class="kpi"><div class="k">Linear predictor (centred)</div><div class="v" id="{ep}-lp" data-value="">\u2013</div></div>
{risk_kpi}
</div>
<table class="surv"><thead><tr><th>{label} at</th><th></th><th class="num">Probability</th><th class="num">{level:.0%} CI</th></tr></thead>
<tbody>{rows}</tbody></table>
<p class="meta">{ci_note}</p>
<div class="curve"><svg id="{ep}-curve" viewBox="0 0 560 250" role="img" aria-label="Predicted survival curve"></svg>
<div class="legend"><span><i class="sw"></i>this patient</span><span><i class="sw ref"></i>patient at the training means</span>
<span>dotted: beyond the last event time</span></div></div>
<details><summary>Model details</summary>
<p class="meta">{e(m.get("model", "Cox proportional hazards"))}. Trained on {int(m.get("n_train", 0))} patients
({int(m.get("events_train", 0))} events). High risk when total points &gt; the cut-off
{"" if cut is None else f"{cut:.2f}"} (chosen on the training set).</p>
<table class="surv"><thead><tr><th>Term</th><th>\u03b2</th><th>HR</th></tr></thead><tbody>{coef_rows}</tbody></table>
</details>
</div>
</div>
</section>"""


def _external_note(by_id: dict[str, dict], external: dict | None) -> str:
    """How much of the external validation cohort lay outside the development data on each
    model's predictors (``external``: {endpoint: rows of ``extrapolation.csv``}); counts only."""
    if not external:
        return ""
    e = html.escape
    items = []
    for ep, m in by_id.items():
        rows = [r for r in external.get(ep, []) if r.get("in_model")]
        if not rows:
            continue
        n = max(int(r.get("n_external", 0)) for r in rows)
        out = [r for r in rows if int(r.get("n_outside", 0)) > 0]
        detail = (
            "; ".join(f"{e(str(r['label']))}: {int(r['n_outside'])} of {int(r['n_external'])}" for r in out)
            if out
            else "none"
        )
        items.append(
            f"<li>{e(m.get('endpoint_label', ep))}: external cohort of {n} patients; outside the development "
            f"data on a model predictor (below its range, above it, or at a category never seen): {detail}</li>"
        )
    if not items:
        return ""
    return (
        '<div class="extrapolation-note" id="external-extrapolation" role="note"><p><strong>External '
        "validation:</strong> the model was validated unchanged on an external cohort. Where that cohort lay "
        "outside the development data the model extrapolated; predictions for such patients are flagged "
        "below the inputs.</p><ul>" + "".join(items) + "</ul></div>"
    )


def build_app(
    models: dict[str, dict], *, commit: str | None, data_sha256: str | None, external: dict | None = None
) -> str:
    """The calculator page of ``models`` ({endpoint: model.json contents}) as one HTML string.

    ``external`` ({endpoint: list of ``extrapolation.csv`` rows as dicts}) adds, with an
    external validation, how many external patients the model extrapolated for."""
    if not models:
        raise ValueError("build_app needs at least one model")
    for ep, m in models.items():
        _check_model(ep, m)
    e = html.escape
    eps = [_dom_id(ep) for ep in models]
    by_id = dict(zip(eps, models.values()))
    synthetic = [m.get("endpoint_label", ep) for ep, m in by_id.items() if m.get("synthetic_data")]
    banner = ""
    if synthetic:
        banner = (
            '<div class="banner" id="synthetic-warning" role="note"><strong>Not for clinical use.</strong> '
            f"The model{'s' if len(synthetic) > 1 else ''} for {e(' and '.join(synthetic))} "
            f"{'were' if len(synthetic) > 1 else 'was'} developed on SIMULATED data (a synthetic cohort "
            "calibrated to the published tables), not on real patients. The numbers illustrate the "
            "method only.</div>"
        )
    else:
        banner = (
            '<div class="banner" id="research-note" role="note">Research tool reproducing a published '
            "prognostic model; not a medical device and not validated for clinical decisions.</div>"
        )
    tabs = (
        '<div class="tabs" role="tablist" aria-label="Endpoint">'
        + "".join(
            f'<button type="button" class="tab" role="tab" id="tab-{ep}" aria-controls="panel-{ep}" '
            f'aria-selected="{"true" if i == 0 else "false"}" tabindex="{0 if i == 0 else -1}">'
            f"{e(m.get('endpoint_label', ep))} ({e(ep.upper())})</button>"
            for i, (ep, m) in enumerate(by_id.items())
        )
        + "</div>"
    )
    panels = "\n".join(_panel(ep, m, i == 0) for i, (ep, m) in enumerate(by_id.items()))
    hashes = {m.get("training_data_sha256") for m in by_id.values()}
    data_hash = data_sha256 or (hashes.pop() if len(hashes) == 1 else None)
    commit_text = commit or next((m.get("commit") for m in by_id.values() if m.get("commit")), None)
    prov_rows = "".join(
        f"<tr><td>{e(m.get('endpoint_label', ep))}</td><td>{int(m.get('n_train', 0))} / {int(m.get('events_train', 0))}</td>"
        f"<td>{_short_hash(m.get('training_data_sha256'))}</td><td>{_short_hash(m.get('config_sha256'))}</td></tr>"
        for ep, m in by_id.items()
    )
    types = sorted({_conf_type(m) for m in by_id.values()})
    ci_formula = " or ".join(_CI_FORMULA.get(t, html.escape(t)) for t in types)
    if len(types) > 1:  # models of different scales: name each
        ci_formula += (
            " (" + "; ".join(f"{e(m.get('endpoint_label', ep))}: {_conf_type(m)}" for ep, m in by_id.items()) + ")"
        )
    provenance = _external_note(by_id, external) + (
        f'<p>Training data SHA-256: <span class="mono" id="data-sha256">{e(data_hash or "see the table")}</span>'
        f' &middot; commit: <span class="mono" id="commit">{e(commit_text or "not recorded")}</span>'
        f' &middot; model format <span class="mono">{e(MODEL_FORMAT)}</span></p>'
        "<table><thead><tr><th>Model</th><th>Patients / events</th><th>Training data SHA-256</th>"
        f"<th>Config SHA-256</th></tr></thead><tbody>{prov_rows}</tbody></table>"
        "<details><summary>How the numbers are computed</summary><p>"
        "points<sub>p</sub> = sc &middot; (x&beta;<sub>p</sub> &minus; min x&beta;<sub>p</sub>); "
        "total points = &Sigma; points<sub>p</sub>; lp = &Sigma; x&beta;<sub>p</sub> &minus; centre (x&beta; at the "
        "training means); S(h) = S<sub>0</sub>(h)<sup>exp(lp)</sup> with S<sub>0</sub> the Efron-type baseline "
        "survival at the training means; high risk when total points exceed the cut-off. The curve is "
        "exp(&minus;H<sub>0</sub>(t)&middot;exp(&Sigma; x&beta;)). Values outside the training range are computed "
        "but flagged as extrapolation. The confidence interval of S(h) is R's <code>survfit(coxph, newdata)</code> "
        f"interval {ci_formula}, with Tsiatis's variance of "
        "H = H<sub>0</sub>(h)&middot;exp(lp): the baseline's uncertainty plus q&#7488;Vq, V the coefficients' "
        "covariance. Probabilities below 0.1% show as &lt; 0.1%. Everything runs in this page: nothing is sent anywhere. The same numbers "
        "come from <code>python -m crlmflow score --model model.json --input patients.csv --output scores.csv</code>."
        "</p></details>"
    )
    subtitle = (
        "Cox models of the colorectal liver metastasis study (Xue et al., BMC Cancer 2025) reproduced by "
        "crlmflow. Enter a patient's predictors; the prediction updates as you type."
    )
    data = {"models": {ep: _embedded(m) for ep, m in by_id.items()}}
    template = resources.files("crlmflow.app").joinpath(TEMPLATE).read_text(encoding="utf-8")
    values = {
        "TITLE": e(TITLE),
        "SUBTITLE": e(subtitle),
        "BANNER": banner,
        "TABS": tabs,
        "PANELS": panels,
        "PROVENANCE": provenance,
        "DATA": _script_json(data),
    }
    return re.sub(r"__(TITLE|SUBTITLE|BANNER|TABS|PANELS|PROVENANCE|DATA)__", lambda mt: values[mt.group(1)], template)
