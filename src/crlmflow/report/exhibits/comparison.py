"""Every published number beside this run's value ("paper vs ours").

Reads the targets of ``data/paper_targets.yaml`` section by section (cohort, Table 1,
Table 2, Table 3, performance, Figure 4) and looks each up in this run's results. A result
that is missing gives 'ours' NA and a note saying so; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crlmflow.report.formats import format_p, horizon_label

__all__ = ["paper_comparison"]

#: paper_targets.yaml variable names that differ from the cohort's
_PAPER_VAR = {"sex": "male"}

#: the note of a quantity this run has no result for
MISSING_NOTE = "not available"
_HR_FIELDS = (("hr", "HR"), ("hr_lower", "HR lower"), ("hr_upper", "HR upper"))


def _num(v) -> float | None:
    """A paper value as a number; text such as '<0.001' is not one."""
    if v is None or isinstance(v, str):
        return None
    return float(v)


class _Comparison:
    """The comparison's rows, in the order they are added, and this run's results."""

    def __init__(self, results: Mapping[str, Any]):
        self.results = results
        self.rows: list[dict] = []

    def frame(self, key: str) -> pd.DataFrame | None:
        v = self.results.get(key)
        return v if isinstance(v, pd.DataFrame) else None

    def add(self, section: str, quantity: str, paper, ours, note: str = "") -> None:
        p_num = _num(paper)
        o = None if ours is None or (isinstance(ours, float) and not np.isfinite(ours)) else float(ours)
        diff = o - p_num if (o is not None and p_num is not None) else None
        self.rows.append(
            {"section": section, "quantity": quantity, "paper": paper, "ours": o, "difference": diff, "note": note}
        )


def _cohort(c: _Comparison, coh: Mapping[str, Any]) -> None:
    counts = c.frame("counts")
    cmap = dict(zip(counts["quantity"], counts["value"])) if counts is not None else {}
    for q in ("n_total", "n_train", "n_validation", "deaths", "recurrences"):
        if q in coh:
            c.add("Cohort", q, coh[q], cmap.get(q), "" if q in cmap else MISSING_NOTE)
    rates = c.frame("km_rates")
    for ep in ("os", "rfs"):
        key = f"median_{ep}"
        if key not in coh:
            continue
        x = None
        if rates is not None:
            sub = rates[(rates["endpoint"] == ep) & (rates["panel"] == "overall") & (rates["set"] == "all")]
            x = sub.iloc[0] if len(sub) else None
        note = "SPSS-style CI: median +/- 1.96 SE" if x is not None else MISSING_NOTE
        E = ep.upper()
        for quantity, paper, field in (
            (f"median {E} (months)", coh[key]["estimate"], "median_spss"),
            (f"median {E} 95% CI lower", coh[key]["ci95"][0], "median_spss_lower"),
            (f"median {E} 95% CI upper", coh[key]["ci95"][1], "median_spss_upper"),
        ):
            c.add("Cohort", quantity, paper, x.get(field) if x is not None else None, note)


def _table1(c: _Comparison, t1: Mapping[str, Any]) -> None:
    lg = c.frame("table1")

    def ours(var, set_, level=None, field="median"):
        if lg is None:
            return None
        sub = lg[(lg["var"] == var) & (lg["set"] == set_)]
        if level is not None:
            sub = sub[sub["level"].astype(float) == float(level)]
        return float(sub[field].iloc[0]) if len(sub) else None

    def p_of(var):
        if lg is None:
            return None
        sub = lg[lg["var"] == var]
        return float(sub["p"].iloc[0]) if len(sub) else None

    note = "" if lg is not None else MISSING_NOTE
    sets = ("train", "validation")
    for var, spec in t1.get("continuous", {}).items():
        for s in sets:
            for i, f in enumerate(("median", "q1", "q3")):
                c.add("Table 1", f"{var} {f} ({s})", spec[s][i], ours(var, s, field=f), note)
        c.add("Table 1", f"{var} p", spec.get("p"), p_of(var), note or "Wilcoxon rank-sum")
    for var, spec in t1.get("categorical", {}).items():
        if var == "sex_female_male":
            for s in sets:
                c.add("Table 1", f"sex female n ({s})", spec[s][0], ours("male", s, 0, "n"), note)
                c.add("Table 1", f"sex male n ({s})", spec[s][1], ours("male", s, 1, "n"), note)
            c.add("Table 1", "sex p", spec.get("p"), p_of("male"), note or "Pearson chi-square")
            continue
        cohort_var = {"recurrence": "rfs_event", "death": "os_event"}.get(var, var)
        levels = spec["levels"] if "levels" in spec else {None: spec}
        for lv, ls in levels.items():
            name = var if lv is None else f"{var}={lv}"
            for s in sets:
                level = 1 if lv is None else lv
                c.add("Table 1", f"{name} n ({s})", ls[s][0], ours(cohort_var, s, level, "n"), note)
                c.add("Table 1", f"{name} % ({s})", ls[s][1], ours(cohort_var, s, level, "percent"), note)
        c.add("Table 1", f"{var} p", spec.get("p"), p_of(cohort_var), note or "Pearson chi-square")


def _term_row(table: pd.DataFrame | None, var: str) -> pd.DataFrame | None:
    """The rows of a Cox table for a paper variable (None when the table is missing or lacks it)."""
    if table is None:
        return None
    row = table[table["term"] == _PAPER_VAR.get(var, var)]
    return row if len(row) else None


def _table2_univariable(c: _Comparison, ep: str, spec: Mapping[str, Any]) -> None:
    uni = c.frame(f"univariable_{ep}")
    section = f"Table 2 {ep.upper()} univariable"
    for var, v in spec.items():
        row = _term_row(uni, var)
        note = "" if row is not None else MISSING_NOTE
        if var == "sex":
            note = (note + "; " if note else "") + "ours is male vs female; the paper's coding is not stated"
        for i, (f, name) in enumerate(_HR_FIELDS):
            c.add(section, f"{var} {name}", v["hr"][i], float(row[f].iloc[0]) if row is not None else None, note)
        pcol = "p_term" if row is not None and "p_term" in row.columns else "p"
        c.add(section, f"{var} p", v.get("p"), float(row[pcol].iloc[0]) if row is not None else None, note)


def _table2_multivariable(c: _Comparison, ep: str, spec: Mapping[str, Any]) -> None:
    multi = c.frame(f"multivariable_{ep}")
    section = f"Table 2 {ep.upper()} multivariable"
    for var, v in spec.get("selected", {}).items():
        row = _term_row(multi, var)
        sel = row is not None and bool(row["selected"].iloc[0])
        note = "" if sel else ("not selected in this run" if row is not None else MISSING_NOTE)
        for i, (f, name) in enumerate(_HR_FIELDS):
            c.add(section, f"{var} {name}", v["hr"][i], float(row[f].iloc[0]) if sel else None, note)
        c.add(section, f"{var} p", v.get("p"), float(row["p"].iloc[0]) if sel else None, note)
    for var, pv in spec.get("dropped_p", {}).items():
        row = _term_row(multi, var)
        quantity = f"{var} p (not in model)"
        if row is None:
            c.add(section, quantity, pv, None, MISSING_NOTE)
            continue
        r = row.iloc[0]
        if bool(r["selected"]):
            c.add(
                section,
                quantity,
                pv,
                None,
                f"selected in this run (HR {r['hr']:.3f}, Wald p {format_p(float(r['p']))})",
            )
            continue
        sp = r.get("score_p_not_in_model")
        c.add(
            section,
            quantity,
            pv,
            float(sp) if pd.notna(sp) else None,
            "score test of adding it to the final model" if pd.notna(sp) else "no score test",
        )


def _table3(c: _Comparison, t3: Mapping[str, Any]) -> None:
    rates = c.frame("km_rates")
    for ep, by_set in t3.items():
        for s, hz in by_set.items():
            for h, val in hz.items():
                ours = None
                if rates is not None:
                    sub = rates[
                        (rates["endpoint"] == ep)
                        & (rates["panel"] == "overall")
                        & (rates["set"] == s)
                        & np.isclose(rates["time"].astype(float), float(h))
                    ]
                    ours = 100 * float(sub["surv"].iloc[0]) if len(sub) else None
                c.add(
                    "Table 3",
                    f"{ep.upper()} {horizon_label(h)} rate % ({s})",
                    val,
                    ours,
                    "" if ours is not None else MISSING_NOTE,
                )


def _logrank_p(tests: pd.DataFrame | None, ep: str, panel: str, set_: str | None = None) -> float | None:
    if tests is None:
        return None
    sub = tests[(tests["endpoint"] == ep) & (tests["panel"] == panel)]
    if set_ is not None:
        sub = sub[sub["set"] == set_]
    return float(sub["p"].iloc[0]) if len(sub) else None


def _performance(c: _Comparison, ep: str, spec: Mapping[str, Any]) -> None:
    perf = c.frame(f"performance_{ep}")
    section = f"Performance {ep.upper()}"

    def ours(s, meas, h=None, field="estimate"):
        if perf is None:
            return None
        sub = perf[(perf["set"] == s) & (perf["measure"] == meas)]
        if h is not None:
            sub = sub[pd.to_numeric(sub["horizon"], errors="coerce") == float(h)]
        return float(sub[field].iloc[0]) if len(sub) else None

    note = "" if perf is not None else MISSING_NOTE
    for s, v in spec.get("c_index", {}).items():
        for i, f in enumerate(("estimate", "lower", "upper")):
            c.add(section, f"C-index {f} ({s})", v[i], ours(s, "c_index", field=f), note)
    for s, hz in spec.get("td_auc", {}).items():
        for h, v in hz.items():
            c.add(
                section,
                f"{horizon_label(h)} AUC ({s})",
                v,
                ours(s, "auc_km", h),
                note or "Heagerty KM time-dependent ROC (survivalROC)",
            )
    if "risk_cutoff_points" in spec:
        cp = c.frame(f"cutpoint_{ep}")
        cut = float(cp["total_points"].iloc[0]) if cp is not None and len(cp) else None
        c.add(
            section,
            "risk cut-off (total points)",
            spec["risk_cutoff_points"],
            cut,
            "" if cut is not None else MISSING_NOTE,
        )
    for s, v in spec.get("km_high_vs_low_p", {}).items():
        p = _logrank_p(c.frame("km_tests"), ep, "risk_group", s)
        c.add(section, f"log-rank p high vs low risk ({s})", v, p, "" if p is not None else MISSING_NOTE)


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
    c = _Comparison(results)
    _cohort(c, targets.get("cohort", {}))
    _table1(c, targets.get("table1", {}))
    for ep, spec in targets.get("table2", {}).items():
        _table2_univariable(c, ep, spec.get("univariable", {}))
        _table2_multivariable(c, ep, spec.get("multivariable", {}))
    _table3(c, targets.get("table3", {}))
    perf_spec = targets.get("performance", {})
    for ep, spec in perf_spec.items():
        if isinstance(spec, Mapping):
            _performance(c, ep, spec)
    if "chemotherapy_km_os_p" in perf_spec:
        p = _logrank_p(c.frame("km_tests"), "os", "chemo_group")
        c.add(
            "Figure 4",
            "log-rank p OS by chemotherapy group",
            perf_spec["chemotherapy_km_os_p"],
            p,
            "" if p is not None else MISSING_NOTE,
        )
    return pd.DataFrame(c.rows, columns=["section", "quantity", "paper", "ours", "difference", "note"])
