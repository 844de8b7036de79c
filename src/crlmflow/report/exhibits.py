"""Builders of the paper's tables and of the "paper vs ours" comparison (notebooks call these).

Everything here only reshapes and formats results the workflow's rules already computed
(Cox tables, Kaplan-Meier summaries, validation measures); nothing fits a model. The
exception is Table 1, whose descriptive statistics and two-group tests (Pearson chi-square,
Wilcoxon rank-sum) are computed from the analysis cohort, as a baseline table always is.

Tables are returned as display frames of strings (the paper's layout) and written by
``write_table`` as CSV + HTML + Markdown. Numeric long frames (``table1_long``) feed
``paper_comparison``.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crlmflow.model.nomogram import NomogramResult, PredictorAxis, SurvivalAxis
from crlmflow.report.plots.km import survminer_p
from crlmflow.report.plots.style import format_p
from crlmflow.report.tables import format_hr, term_labels

__all__ = [
    "SET_LABELS",
    "default_table1_rows",
    "table1_long",
    "table1",
    "table2",
    "table3",
    "format_rate",
    "format_median",
    "horizon_label",
    "load_nomogram",
    "flow_summary",
    "selection_stability",
    "performance_comparison",
    "paper_comparison",
    "write_table",
    "to_markdown",
    "survminer_p",
]

SET_LABELS = {"train": "Training set", "validation": "Validation set", "all": "All patients"}
NOT_SELECTED = "-"


def horizon_label(h: float) -> str:
    """12 -> '1-year', 18 -> '18-month'."""
    h = float(h)
    return f"{h / 12:g}-year" if h % 12 == 0 else f"{h:g}-month"


# ---------------------------------------------------------------------------------------
# Table 1
# ---------------------------------------------------------------------------------------
def default_table1_rows(candidates: Sequence[Mapping[str, Any]]) -> list[dict]:
    """The paper's Table 1 rows (its order), labelled from the config's candidates.

    Kinds: ``continuous`` (median (Q1, Q3), Wilcoxon), ``binary`` (n (%) of 1, chi-square),
    ``levels`` (n (%) per level, one chi-square), ``header`` (a label-only row).
    """
    spec = {c["name"]: c for c in candidates}

    def lab(name: str, fallback: str) -> str:
        c = spec.get(name, {})
        base = c.get("label", fallback)
        return f"{base}, {c['unit']}" if c.get("unit") else base

    rows: list[dict] = []
    if "male" in spec:
        rows.append({"var": "male", "kind": "levels", "label": "Sex", "levels": {0: "Female", 1: "Male"}})
    order = ["age", "bmi", "hospital_days", "r0_resection", "rfa", "ca19_9", "cea", "wbc", "neut",
             "lymph", "hgb", "plt", "alt", "ast", "tbil", "dbil", "alb", "d_dimer", "nlr", "plr", "sii"]
    for name in order:
        c = spec.get(name)
        if c is None:
            continue
        kind = "binary" if c.get("type") == "binary" else "continuous"
        rows.append({"var": name, "kind": kind, "label": lab(name, name)})
    chemo = [n for n in ("chemo_full_course", "chemo_neoadjuvant_only", "chemo_adjuvant_only") if n in spec]
    if chemo:
        rows.append({"kind": "header", "label": "Chemotherapy"})
        short = {"chemo_full_course": "Full-course", "chemo_neoadjuvant_only": "Only neoadjuvant",
                 "chemo_adjuvant_only": "Only adjuvant"}
        rows += [{"var": n, "kind": "binary", "label": short[n], "indent": True} for n in chemo]
    for name, fallback in (("asa", "ASA score"), ("crs_score", "CRS score")):
        if name in spec:
            rows.append({"var": name, "kind": "levels", "label": spec[name].get("label", fallback)})
    # any other candidate (a generic study's own predictors), in the config's order
    covered = {r.get("var") for r in rows}
    for c in candidates:
        if c["name"] in covered:
            continue
        if c.get("type") == "factor":
            rows.append({"var": c["name"], "kind": "levels", "label": lab(c["name"], c["name"]),
                         "levels": {lv: str(lv) for lv in c["levels"]}})
        else:
            kind = "binary" if c.get("type") == "binary" else "continuous"
            rows.append({"var": c["name"], "kind": kind, "label": lab(c["name"], c["name"])})
    rows += [
        {"var": "rfs_months", "kind": "continuous", "label": "RFS, months"},
        {"var": "rfs_event", "kind": "binary", "label": "Recurrence"},
        {"var": "os_months", "kind": "continuous", "label": "OS, months"},
        {"var": "os_event", "kind": "binary", "label": "Death"},
    ]
    return rows


def _chisq_p(table: np.ndarray) -> float:
    """Pearson chi-square p (no continuity correction, as SPSS's 'Pearson Chi-Square')."""
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return float("nan")
    return float(stats.chi2_contingency(table, correction=False)[1])


def _wilcoxon_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Wilcoxon rank-sum p, normal approximation with continuity correction
    (R's wilcox.test with ties; SPSS's asymptotic Mann-Whitney U without it differs in the 3rd decimal)."""
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    return float(stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic",
                                    use_continuity=True).pvalue)


def table1_long(cohort: pd.DataFrame, rows: Sequence[Mapping[str, Any]], sets: Sequence[str],
                set_col: str = "set") -> pd.DataFrame:
    """Numbers behind Table 1, one row per (variable, level, set).

    Columns: var, level, set, kind, n_set, n, percent, median, q1, q3, p, test. Quartiles
    are R's type 7 (numpy's default linear interpolation). ``p`` compares the sets when
    there are two, else NaN.
    """
    out = []
    parts = {s: cohort[cohort[set_col] == s] for s in sets}
    two = len(sets) == 2
    for r in rows:
        kind = r["kind"]
        if kind == "header":
            continue
        var = r["var"]
        if var not in cohort.columns:
            raise KeyError(f"Table 1 variable {var!r} is not a cohort column")
        if kind == "continuous":
            vals = {s: parts[s][var].dropna().to_numpy(float) for s in sets}
            p = _wilcoxon_p(*vals.values()) if two else float("nan")
            for s in sets:
                v = vals[s]
                q = np.percentile(v, [50, 25, 75]) if v.size else [np.nan] * 3
                out.append({"var": var, "level": None, "set": s, "kind": kind, "n_set": len(parts[s]),
                            "n": int(v.size), "percent": np.nan, "median": q[0], "q1": q[1], "q3": q[2],
                            "p": p, "test": "Wilcoxon rank-sum" if two else ""})
            continue
        if kind == "binary":
            levels = [1]
            all_levels = [0, 1]
        else:
            all_levels = sorted(pd.unique(cohort[var].dropna()))
            if r.get("levels"):
                all_levels = [lv for lv in r["levels"] if lv in set(all_levels)] or list(r["levels"])
            levels = all_levels
        counts = np.array([[int((parts[s][var] == lv).sum()) for lv in all_levels] for s in sets])
        p = _chisq_p(counts) if two else float("nan")
        for s_i, s in enumerate(sets):
            denom = int(parts[s][var].notna().sum())
            for lv in levels:
                n = int(counts[s_i, all_levels.index(lv)])
                out.append({"var": var, "level": lv, "set": s, "kind": kind, "n_set": len(parts[s]),
                            "n": n, "percent": 100.0 * n / denom if denom else np.nan,
                            "median": np.nan, "q1": np.nan, "q3": np.nan, "p": p,
                            "test": "Pearson chi-square" if two else ""})
    return pd.DataFrame(out)


def _fmt_num(v: float, digits: int) -> str:
    return "NA" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def table1(cohort: pd.DataFrame, rows: Sequence[Mapping[str, Any]], sets: Sequence[str], *,
           set_labels: Mapping[str, str] | None = None, digits: int = 2,
           long: pd.DataFrame | None = None) -> pd.DataFrame:
    """Table 1 in the paper's layout: Characteristic | <set> (n = N) ... | P.

    Continuous rows 'median (Q1, Q3)', categorical 'n (x.x%)'; one P per variable (on its
    first row). With a single set the P column is omitted.
    """
    labels = {**SET_LABELS, **(set_labels or {})}
    lg = table1_long(cohort, rows, sets) if long is None else long
    n_set = {s: int((cohort["set"] == s).sum()) for s in sets}
    cols = [f"{labels.get(s, s)} (n = {n_set[s]})" for s in sets]
    two = len(sets) == 2
    out = []

    def add(label, values, p=""):
        rec = {"Characteristic": label, **dict(zip(cols, values))}
        if two:
            rec["P"] = p
        out.append(rec)

    for r in rows:
        kind = r["kind"]
        pre = "    " if r.get("indent") else ""
        if kind == "header":
            add(r["label"], [""] * len(sets))
            continue
        sub = lg[lg["var"] == r["var"]]
        p = format_p(float(sub["p"].iloc[0])) if two and len(sub) else ""
        if kind == "continuous":
            vals = []
            for s in sets:
                x = sub[sub["set"] == s].iloc[0]
                vals.append(f"{_fmt_num(x['median'], digits)} ({_fmt_num(x['q1'], digits)}, "
                            f"{_fmt_num(x['q3'], digits)})")
            add(f"{pre}{r['label']}, median (Q1, Q3)", vals, p)
        elif kind == "binary":
            vals = [_fmt_count(sub[sub["set"] == s].iloc[0]) for s in sets]
            add(f"{pre}{r['label']}, n (%)", vals, p)
        else:
            add(f"{pre}{r['label']}, n (%)", [""] * len(sets), p)
            names = r.get("levels") or {}
            for lv in sub["level"].drop_duplicates():
                vals = [_fmt_count(sub[(sub["set"] == s) & (sub["level"] == lv)].iloc[0]) for s in sets]
                add(f"    {names.get(lv, _fmt_level(lv))}", vals)
    return pd.DataFrame(out)


def _fmt_level(lv) -> str:
    if isinstance(lv, (float, np.floating)) and float(lv).is_integer():
        return str(int(lv))
    return str(lv)


def _fmt_count(x: pd.Series) -> str:
    return f"{int(x['n'])} ({x['percent']:.1f}%)"


# ---------------------------------------------------------------------------------------
# Table 2
# ---------------------------------------------------------------------------------------
def table2(univariable: Mapping[str, pd.DataFrame], multivariable: Mapping[str, pd.DataFrame],
           candidates: Sequence[Mapping[str, Any]], *,
           endpoint_labels: Mapping[str, str] | None = None, digits: int = 3) -> pd.DataFrame:
    """Table 2 in the paper's layout: one row per candidate term; per endpoint the
    univariable HR (95% CI) and P, and the multivariable HR (95% CI) and P.

    Multivariable cells: a selected term shows its HR and Wald p; a term that entered the
    stepwise pool but was dropped shows '-' and the score-test p of adding it to the final
    model ('variables not in the equation'); a term never in the pool (not screened, or
    excluded as collinear) shows '-' '-'. Univariable P is the term's Wald p.
    """
    labels = term_labels(list(candidates))
    elab = {ep: ep.upper() for ep in univariable} | dict(endpoint_labels or {})
    terms: list[str] = []
    for df in univariable.values():
        for t in df["term"]:
            if t not in terms:
                terms.append(t)
    out = pd.DataFrame({"Variable": [labels.get(t, t) for t in terms]})
    out.index = terms
    for ep, uni in univariable.items():
        e = elab[ep]
        u = uni.set_index("term")
        pcol = "p_term" if "p_term" in u.columns else "p"
        out[f"{e} univariable HR (95% CI)"] = [
            format_hr(u.at[t, "hr"], u.at[t, "hr_lower"], u.at[t, "hr_upper"], digits) if t in u.index else ""
            for t in terms]
        out[f"{e} univariable P"] = [format_p(float(u.at[t, pcol])) if t in u.index else "" for t in terms]
        m = multivariable[ep].set_index("term")
        hrs, ps = [], []
        for t in terms:
            if t not in m.index:
                hrs.append(NOT_SELECTED)
                ps.append(NOT_SELECTED)
                continue
            row = m.loc[t]
            if bool(row["selected"]):
                hrs.append(format_hr(row["hr"], row["hr_lower"], row["hr_upper"], digits))
                ps.append(format_p(float(row["p"])))
            elif bool(row.get("in_pool", row.get("screened", 0))) and pd.notna(row.get("score_p_not_in_model")):
                hrs.append(NOT_SELECTED)
                ps.append(format_p(float(row["score_p_not_in_model"])))
            else:
                hrs.append(NOT_SELECTED)
                ps.append(NOT_SELECTED)
        out[f"{e} multivariable HR (95% CI)"] = hrs
        out[f"{e} multivariable P"] = ps
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Table 3
# ---------------------------------------------------------------------------------------
def format_rate(s: float, digits: int = 2) -> str:
    return "NA" if s is None or not np.isfinite(s) else f"{100 * s:.{digits}f}%"


def format_median(est: float, lo: float, hi: float, digits: int = 2) -> str:
    """'70.20 (57.73, 82.68)'; 'Not reached' / 'NA' for missing values (R prints NA)."""
    if est is None or not np.isfinite(est):
        return "Not reached"
    return f"{est:.{digits}f} ({_fmt_num(lo, digits)}, {_fmt_num(hi, digits)})"


def table3(km_rates: pd.DataFrame, endpoints: Sequence[str], sets: Sequence[str], horizons: Sequence[float], *,
           endpoint_short: Mapping[str, str] | None = None, include_all: bool = True) -> pd.DataFrame:
    """Table 3: Kaplan-Meier survival rates (%) at the horizons per endpoint and set, and the
    median survival with two 95% CIs: the SPSS-style symmetric one (median +/- 1.96 SE), which
    the paper prints, and R's survfit one (inverting the pointwise CI; upper 'NA' when the
    CI never crosses 0.5)."""
    short = {ep: ep.upper() for ep in endpoints} | dict(endpoint_short or {})
    ov = km_rates[km_rates["panel"] == "overall"]
    rows = []
    groups = list(sets) + (["all"] if include_all else [])
    for ep in endpoints:
        for s in groups:
            sub = ov[(ov["endpoint"] == ep) & (ov["set"] == s)]
            if sub.empty:
                continue
            rec = {"Factors": f"{short[ep]} ({SET_LABELS.get(s, s)}), %"}
            for h in horizons:
                r = sub[np.isclose(sub["time"].astype(float), float(h))]
                rec[f"{horizon_label(h)} rate"] = format_rate(float(r["surv"].iloc[0])) if len(r) else "NA"
            x = sub.iloc[0]
            rec["Median, months (95% CI, SPSS)"] = format_median(x["median_spss"], x["median_spss_lower"],
                                                                 x["median_spss_upper"])
            rec["Median, months (95% CI, R survfit)"] = format_median(x["median_km"], x["median_km_lower"],
                                                                      x["median_km_upper"])
            rec["Patients / events"] = f"{int(x['n'])} / {int(x['events'])}"
            rows.append(rec)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# Nomogram JSON -> objects, flow chart numbers
# ---------------------------------------------------------------------------------------
def load_nomogram(data: Mapping[str, Any], nint: int = 10) -> tuple[NomogramResult, dict[float, SurvivalAxis]]:
    """Rebuild ``NomogramResult`` and survival axes from ``models/{ep}/nomogram.json``
    (the inverse of ``crlmflow.model.modelfile.nomogram_json``)."""
    preds = {}
    for p in data["predictors"]:
        preds[p["name"]] = PredictorAxis(name=p["name"], label=p.get("label") or p["name"], type=p["type"],
                                         unit=p.get("unit"), values=list(p["values"]),
                                         xbeta=np.asarray(p["xbeta"], float), points=np.asarray(p["points"], float))
    nomo = NomogramResult(
        predictors=preds, points_per_unit_lp=float(data["points_per_unit_lp"]),
        lp_at_zero_points=float(data["lp_at_zero_points"]), center=float(data["center"]),
        maxscale=float(data["maxscale"]), nint=nint,
        total_points_axis=np.asarray(data["total_points_axis"], float),
        lp_axis_lp=np.asarray(data["lp_axis"]["lp"], float),
        lp_axis_points=np.asarray(data["lp_axis"]["points"], float))
    axes = {}
    for key, a in sorted(data.get("survival_axes", {}).items(), key=lambda kv: float(kv[0])):
        axes[float(key)] = SurvivalAxis(horizon=float(key), surv=np.asarray(a["surv"], float),
                                        total_points=np.asarray(a["total_points"], float),
                                        lp=np.asarray(a["lp"], float), baseline_surv=float(a["baseline_surv"]))
    return nomo, axes


def flow_summary(flow: Mapping[str, Any], split: Mapping[str, Any] | None) -> dict[str, Any]:
    """Counts of the patient flow chart; checks that they add up."""
    excluded = {str(k): int(v) for k, v in flow.get("excluded", {}).items()}
    out = {"read": int(flow["read"]), "excluded": excluded, "n_excluded": sum(excluded.values()),
           "included": int(flow["included"]), "sets": {}}
    if out["read"] - out["n_excluded"] != out["included"]:
        raise ValueError(f"flow does not add up: {out['read']} read - {out['n_excluded']} excluded "
                         f"!= {out['included']} included")
    if split and split.get("method", "none") != "none":
        out["sets"] = {str(k): int(v) for k, v in split["n"].items()}
        if sum(out["sets"].values()) != out["included"]:
            raise ValueError("set sizes do not add up to the included patients")
    return out


# ---------------------------------------------------------------------------------------
# Beyond the paper
# ---------------------------------------------------------------------------------------
def selection_stability(freq: pd.DataFrame, candidates: Sequence[Mapping[str, Any]],
                        selected: Sequence[str] = ()) -> pd.DataFrame:
    """Bootstrap inclusion frequency of each candidate (Sauerbrei & Schumacher 1992), sorted by
    frequency, with whether the final model kept it."""
    labels = term_labels(list(candidates))
    df = freq.copy()
    df["label"] = df["variable"].map(labels).fillna(df["variable"])
    df = df.sort_values(["proportion", "label"], ascending=[False, True], kind="stable")
    return pd.DataFrame({
        "Variable": df["label"].to_numpy(),
        "Times selected": df["times_selected"].astype(int).to_numpy(),
        "Inclusion frequency (%)": [f"{100 * p:.1f}" for p in df["proportion"]],
        "In final model": ["yes" if v in set(selected) else "no" for v in df["variable"]],
    })


_MEASURE_LABEL = {"c_index": "Harrell's C-index", "calibration_slope": "Calibration slope",
                  "brier": "Brier score", "auc_km": "Time-dependent AUC (KM)", "auc_uno": "AUC (Uno, IPCW)",
                  "ipa": "IPA"}


_MEASURE_ALIAS = {"slope": "calibration_slope", "c": "c_index", "cindex": "c_index"}


def _split_measure(measure: str) -> tuple[str, float]:
    """'brier_36' -> ('brier', 36.0); 'slope' -> ('calibration_slope', nan)."""
    m = re.fullmatch(r"(.+?)_(\d+(?:\.\d+)?)", measure)
    if m and _MEASURE_ALIAS.get(m.group(1), m.group(1)) in _MEASURE_LABEL:
        return _MEASURE_ALIAS.get(m.group(1), m.group(1)), float(m.group(2))
    return _MEASURE_ALIAS.get(measure, measure), float("nan")


def performance_comparison(performance: pd.DataFrame, optimism: pd.DataFrame | None = None,
                           measures: Sequence[str] = ("c_index", "calibration_slope", "brier"),
                           digits: int = 3) -> pd.DataFrame:
    """Apparent (training) vs optimism-corrected (Harrell bootstrap) vs validation-set
    performance, one row per measure (and horizon for time-dependent ones).

    ``optimism`` (columns measure, apparent, optimism, corrected[, horizon]) may be None: the
    corrected column then says 'not available'. Measures in ``optimism`` may carry the
    horizon as a suffix ('brier_36')."""
    perf = performance.copy()
    perf["h"] = pd.to_numeric(perf["horizon"], errors="coerce")
    opt = None
    if optimism is not None and len(optimism):
        opt = optimism.copy()
        if "horizon" in opt.columns:
            opt["base"] = [_MEASURE_ALIAS.get(m, m) for m in opt["measure"]]
            opt["h"] = pd.to_numeric(opt["horizon"], errors="coerce")
        else:
            parts = [_split_measure(m) for m in opt["measure"]]
            opt["base"] = [p[0] for p in parts]
            opt["h"] = [p[1] for p in parts]
    rows = []
    keys = (perf[perf["measure"].isin(measures)][["measure", "h"]]
            .drop_duplicates().itertuples(index=False, name=None))
    for meas, h in keys:
        def pick(s):
            r = perf[(perf["set"] == s) & (perf["measure"] == meas)
                     & ((perf["h"] == h) | (perf["h"].isna() & (h != h)))]
            return r.iloc[0] if len(r) else None

        app, val = pick("train"), pick("validation")
        label = _MEASURE_LABEL.get(meas, meas) + ("" if h != h else f" at {horizon_label(h)}")
        rec = {"Measure": label, "Apparent (training)": _fmt_num(app["estimate"], digits) if app is not None else "NA"}
        o = None
        if opt is not None:
            sel = opt[(opt["base"] == meas) & ((opt["h"] == h) | (opt["h"].isna() & (h != h)))]
            o = sel.iloc[0] if len(sel) else None
        if o is not None:
            rec["Optimism"] = _fmt_num(float(o["optimism"]), digits)
            rec["Optimism-corrected"] = _fmt_num(float(o["corrected"]), digits)
        else:
            rec["Optimism"] = "not available"
            rec["Optimism-corrected"] = "not available"
        if val is not None:
            ci = ""
            if np.isfinite(val.get("lower", np.nan)) and np.isfinite(val.get("upper", np.nan)):
                ci = f" ({val['lower']:.{digits}f}, {val['upper']:.{digits}f})"
            rec["Validation set (95% CI)"] = _fmt_num(val["estimate"], digits) + ci
        else:
            rec["Validation set (95% CI)"] = "NA"
        rows.append(rec)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# Paper vs ours
# ---------------------------------------------------------------------------------------
# paper_targets.yaml variable names that differ from the cohort's
_PAPER_VAR = {"sex": "male"}


def _num(v) -> float | None:
    if v is None:
        return None
    if isinstance(v, str):
        return None
    return float(v)


def paper_comparison(targets: Mapping[str, Any], results: Mapping[str, Any]) -> pd.DataFrame:
    """Every number of ``data/paper_targets.yaml`` beside this run's value.

    ``results`` holds this run's results, each optional (a missing one gives 'ours' NA and a
    note): ``table1`` (``table1_long`` frame), ``univariable_<ep>`` / ``multivariable_<ep>``
    (Cox tables), ``km_rates`` and ``km_tests`` (Kaplan-Meier summaries), ``performance_<ep>``
    (validation measures), ``cutpoint_<ep>`` (frame with column ``total_points``), ``counts``
    (frame with columns quantity, value: n_total, n_train, n_validation, deaths, recurrences).

    Columns: section, quantity, paper, ours, difference (ours - paper when both numeric),
    note. Paper values printed as text (e.g. '<0.001') are kept as text.
    """
    rows: list[dict] = []

    def add(section, quantity, paper, ours, note=""):
        p_num = _num(paper)
        o = None if ours is None or (isinstance(ours, float) and not np.isfinite(ours)) else float(ours)
        diff = o - p_num if (o is not None and p_num is not None) else None
        rows.append({"section": section, "quantity": quantity, "paper": paper, "ours": o,
                     "difference": diff, "note": note})

    def frame(key):
        v = results.get(key)
        return v if isinstance(v, pd.DataFrame) else None

    # ---- cohort
    coh = targets.get("cohort", {})
    counts = frame("counts")
    cmap = dict(zip(counts["quantity"], counts["value"])) if counts is not None else {}
    for q in ("n_total", "n_train", "n_validation", "deaths", "recurrences"):
        if q in coh:
            add("Cohort", q, coh[q], cmap.get(q), "" if q in cmap else "not available")
    rates = frame("km_rates")
    for ep in ("os", "rfs"):
        key = f"median_{ep}"
        if key not in coh:
            continue
        sub = None
        if rates is not None:
            sub = rates[(rates["endpoint"] == ep) & (rates["panel"] == "overall") & (rates["set"] == "all")]
        ok = sub is not None and len(sub)
        x = sub.iloc[0] if ok else {}
        note = "SPSS-style CI: median +/- 1.96 SE" if ok else "not available"
        add("Cohort", f"median {ep.upper()} (months)", coh[key]["estimate"], x.get("median_spss") if ok else None, note)
        add("Cohort", f"median {ep.upper()} 95% CI lower", coh[key]["ci95"][0],
            x.get("median_spss_lower") if ok else None, note)
        add("Cohort", f"median {ep.upper()} 95% CI upper", coh[key]["ci95"][1],
            x.get("median_spss_upper") if ok else None, note)

    # ---- Table 1
    t1 = targets.get("table1", {})
    lg = frame("table1")

    def t1_get(var, set_, level=None, field="median"):
        if lg is None:
            return None
        sub = lg[(lg["var"] == var) & (lg["set"] == set_)]
        if level is not None:
            sub = sub[sub["level"].astype(float) == float(level)]
        return float(sub[field].iloc[0]) if len(sub) else None

    def t1_p(var):
        if lg is None:
            return None
        sub = lg[lg["var"] == var]
        return float(sub["p"].iloc[0]) if len(sub) else None

    t1_note = "" if lg is not None else "not available"
    for var, spec in t1.get("continuous", {}).items():
        for s in ("train", "validation"):
            for i, f in enumerate(("median", "q1", "q3")):
                add("Table 1", f"{var} {f} ({s})", spec[s][i], t1_get(var, s, field=f), t1_note)
        add("Table 1", f"{var} p", spec.get("p"), t1_p(var), t1_note or "Wilcoxon rank-sum")
    for var, spec in t1.get("categorical", {}).items():
        if var == "sex_female_male":
            for s in ("train", "validation"):
                add("Table 1", f"sex female n ({s})", spec[s][0], t1_get("male", s, 0, "n"), t1_note)
                add("Table 1", f"sex male n ({s})", spec[s][1], t1_get("male", s, 1, "n"), t1_note)
            add("Table 1", "sex p", spec.get("p"), t1_p("male"), t1_note or "Pearson chi-square")
            continue
        cohort_var = {"recurrence": "rfs_event", "death": "os_event"}.get(var, var)
        if "levels" in spec:
            for lv, ls in spec["levels"].items():
                for s in ("train", "validation"):
                    add("Table 1", f"{var}={lv} n ({s})", ls[s][0], t1_get(cohort_var, s, lv, "n"), t1_note)
                    add("Table 1", f"{var}={lv} % ({s})", ls[s][1], t1_get(cohort_var, s, lv, "percent"), t1_note)
        else:
            for s in ("train", "validation"):
                add("Table 1", f"{var} n ({s})", spec[s][0], t1_get(cohort_var, s, 1, "n"), t1_note)
                add("Table 1", f"{var} % ({s})", spec[s][1], t1_get(cohort_var, s, 1, "percent"), t1_note)
        add("Table 1", f"{var} p", spec.get("p"), t1_p(cohort_var), t1_note or "Pearson chi-square")

    # ---- Table 2
    for ep, spec in targets.get("table2", {}).items():
        uni, multi = frame(f"univariable_{ep}"), frame(f"multivariable_{ep}")
        E = ep.upper()
        for var, v in spec.get("univariable", {}).items():
            term = _PAPER_VAR.get(var, var)
            row = uni[uni["term"] == term] if uni is not None else None
            have = row is not None and len(row)
            note = "" if have else "not available"
            if var == "sex":
                note = (note + "; " if note else "") + "ours is male vs female; the paper's coding is not stated"
            for i, f in enumerate(("hr", "hr_lower", "hr_upper")):
                add(f"Table 2 {E} univariable", f"{var} {f.replace('hr_', 'HR ') if f != 'hr' else 'HR'}",
                    v["hr"][i], float(row[f].iloc[0]) if have else None, note)
            pcol = "p_term" if have and "p_term" in row.columns else "p"
            add(f"Table 2 {E} univariable", f"{var} p", v.get("p"), float(row[pcol].iloc[0]) if have else None,
                note)
        mv = spec.get("multivariable", {})
        for var, v in mv.get("selected", {}).items():
            term = _PAPER_VAR.get(var, var)
            row = multi[multi["term"] == term] if multi is not None else None
            have = row is not None and len(row)
            sel = have and bool(row["selected"].iloc[0])
            note = "" if sel else ("not selected in this run" if have else "not available")
            for i, f in enumerate(("hr", "hr_lower", "hr_upper")):
                add(f"Table 2 {E} multivariable", f"{var} {f.replace('hr_', 'HR ') if f != 'hr' else 'HR'}",
                    v["hr"][i], float(row[f].iloc[0]) if sel else None, note)
            add(f"Table 2 {E} multivariable", f"{var} p", v.get("p"), float(row["p"].iloc[0]) if sel else None,
                note)
        for var, pv in mv.get("dropped_p", {}).items():
            term = _PAPER_VAR.get(var, var)
            row = multi[multi["term"] == term] if multi is not None else None
            have = row is not None and len(row)
            if not have:
                add(f"Table 2 {E} multivariable", f"{var} p (not in model)", pv, None, "not available")
                continue
            r = row.iloc[0]
            if bool(r["selected"]):
                add(f"Table 2 {E} multivariable", f"{var} p (not in model)", pv, None,
                    f"selected in this run (HR {r['hr']:.3f}, Wald p {format_p(float(r['p']))})")
            else:
                sp = r.get("score_p_not_in_model")
                add(f"Table 2 {E} multivariable", f"{var} p (not in model)", pv,
                    float(sp) if pd.notna(sp) else None,
                    "score test of adding it to the final model" if pd.notna(sp) else "no score test")

    # ---- Table 3
    for ep, by_set in targets.get("table3", {}).items():
        for s, hz in by_set.items():
            for h, val in hz.items():
                ours = None
                if rates is not None:
                    sub = rates[(rates["endpoint"] == ep) & (rates["panel"] == "overall") & (rates["set"] == s)
                                & np.isclose(rates["time"].astype(float), float(h))]
                    ours = 100 * float(sub["surv"].iloc[0]) if len(sub) else None
                add("Table 3", f"{ep.upper()} {horizon_label(h)} rate % ({s})", val, ours,
                    "" if ours is not None else "not available")

    # ---- Performance
    tests = frame("km_tests")
    for ep, spec in targets.get("performance", {}).items():
        if not isinstance(spec, Mapping):
            continue
        perf = frame(f"performance_{ep}")
        E = ep.upper()

        def pget(s, meas, h=None, field="estimate"):
            if perf is None:
                return None
            sub = perf[(perf["set"] == s) & (perf["measure"] == meas)]
            if h is not None:
                sub = sub[pd.to_numeric(sub["horizon"], errors="coerce") == float(h)]
            return float(sub[field].iloc[0]) if len(sub) else None

        pnote = "" if perf is not None else "not available"
        for s, v in spec.get("c_index", {}).items():
            for i, f in enumerate(("estimate", "lower", "upper")):
                add(f"Performance {E}", f"C-index {f} ({s})", v[i], pget(s, "c_index", field=f), pnote)
        for s, hz in spec.get("td_auc", {}).items():
            for h, v in hz.items():
                add(f"Performance {E}", f"{horizon_label(h)} AUC ({s})", v, pget(s, "auc_km", h),
                    pnote or "Heagerty KM time-dependent ROC (survivalROC)")
        if "risk_cutoff_points" in spec:
            cp = frame(f"cutpoint_{ep}")
            ours = float(cp["total_points"].iloc[0]) if cp is not None and len(cp) else None
            add(f"Performance {E}", "risk cut-off (total points)", spec["risk_cutoff_points"], ours,
                "" if ours is not None else "not available")
        for s, v in spec.get("km_high_vs_low_p", {}).items():
            ours = None
            if tests is not None:
                sub = tests[(tests["endpoint"] == ep) & (tests["panel"] == "risk_group") & (tests["set"] == s)]
                ours = float(sub["p"].iloc[0]) if len(sub) else None
            add(f"Performance {E}", f"log-rank p high vs low risk ({s})", v, ours,
                "" if ours is not None else "not available")
    perf_spec = targets.get("performance", {})
    if "chemotherapy_km_os_p" in perf_spec:
        ours = None
        if tests is not None:
            sub = tests[(tests["endpoint"] == "os") & (tests["panel"] == "chemo_group")]
            ours = float(sub["p"].iloc[0]) if len(sub) else None
        add("Figure 4", "log-rank p OS by chemotherapy group", perf_spec["chemotherapy_km_os_p"], ours,
            "" if ours is not None else "not available")
    return pd.DataFrame(rows, columns=["section", "quantity", "paper", "ours", "difference", "note"])


# ---------------------------------------------------------------------------------------
# Writing tables
# ---------------------------------------------------------------------------------------
def _cell(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "NA"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e-3 and v != 0 else f"{v:.3f}".rstrip("0").rstrip(".")
    return str(v)


def to_markdown(df: pd.DataFrame, title: str | None = None, footnotes: Sequence[str] = ()) -> str:
    """GitHub-flavoured pipe table (no extra dependency); leading spaces kept as NBSP."""
    cols = [str(c) for c in df.columns]
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    lines = []
    if title:
        lines += [f"**{title}**", ""]
    lines.append("| " + " | ".join(esc(c) for c in cols) + " |")
    lines.append("|" + "|".join("---" for _ in cols) + "|")
    for rec in df.itertuples(index=False):
        cells = []
        for v in rec:
            s = _cell(v)
            n = len(s) - len(s.lstrip(" "))
            cells.append(esc("\u00a0" * n + s.lstrip(" ")))
        lines.append("| " + " | ".join(cells) + " |")
    if footnotes:
        lines.append("")
        lines += [f"{f}  " for f in footnotes]
    return "\n".join(lines) + "\n"


def _to_html(df: pd.DataFrame, title: str | None, footnotes: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for rec in df.itertuples(index=False):
        cells = []
        for v in rec:
            s = _cell(v)
            n = len(s) - len(s.lstrip(" "))
            cells.append(f"<td>{'&nbsp;' * n}{html.escape(s.lstrip(' '))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(title)}</caption>" if title else ""
    foot = "".join(f"<p class=\"footnote\">{html.escape(f)}</p>" for f in footnotes)
    style = ("<style>table{border-collapse:collapse;font-family:sans-serif;font-size:13px}"
             "th,td{padding:2px 8px;text-align:left;border-bottom:1px solid #ddd}"
             "caption{font-weight:bold;text-align:left;padding:4px 0}.footnote{font-size:12px}</style>")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title or '')}</title>"
            f"{style}</head><body>\n<table>{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n"
            + "\n".join(body) + f"\n</tbody></table>\n{foot}\n</body></html>\n")


def write_table(df: pd.DataFrame, base: str | Path, *, title: str | None = None,
                footnotes: Sequence[str] = (), formats: Sequence[str] = ("csv", "html", "md")) -> dict[str, Path]:
    """Write ``<base>.csv`` (the frame as is), ``<base>.html`` and ``<base>.md`` (with title and
    footnotes). Returns the paths by format."""
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    out = {}
    for fmt in formats:
        path = base.with_suffix(f".{fmt}")
        if fmt == "csv":
            df.to_csv(path, index=False, lineterminator="\n")
        elif fmt == "html":
            path.write_text(_to_html(df, title, footnotes), encoding="utf-8")
        elif fmt == "md":
            path.write_text(to_markdown(df, title, footnotes), encoding="utf-8")
        else:
            raise ValueError(f"unknown table format {fmt!r}")
        out[fmt] = path
    return out
