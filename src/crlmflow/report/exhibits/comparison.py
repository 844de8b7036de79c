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

from crlmflow.report.exhibits.comparison_extra import KINDS, paper_text, text_rows, uncovered_rows
from crlmflow.report.formats import NOT_AVAILABLE, format_p, horizon_label

__all__ = ["paper_comparison", "COLUMNS", "KINDS", "paper_text"]

COLUMNS = ["section", "quantity", "paper", "ours", "difference", "note", "key", "kind", "paper_text", "ours_text"]

#: paper_targets.yaml variable names that differ from the cohort's
_PAPER_VAR = {"sex": "male"}

#: the note of a quantity this run has no result for
MISSING_NOTE = "not available"
_HR_FIELDS = (("hr", "HR"), ("hr_lower", "HR lower"), ("hr_upper", "HR upper"))


#: labels of paper quantities that are not model candidates
_COHORT_LABELS = {
    "n_total": "Patients analysed",
    "n_train": "Training set size",
    "n_validation": "Validation set size",
    "deaths": "Deaths",
    "recurrences": "Recurrences",
    "recurrence": "Recurrence",
    "death": "Death",
    "rfs_months": "RFS (months)",
    "os_months": "OS (months)",
    "sex": "Sex (male)",
}


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
        self.keys: set[str] = set()
        self.labels: dict[str, str] = dict(results.get("labels") or {})

    def frame(self, key: str) -> pd.DataFrame | None:
        v = self.results.get(key)
        return v if isinstance(v, pd.DataFrame) else None

    def label(self, var: str) -> str:
        """Clinical label of a paper variable (the config's candidate label)."""
        name = _PAPER_VAR.get(var, var)
        return self.labels.get(name) or _COHORT_LABELS.get(var) or var

    def add(self, section: str, quantity: str, paper, ours, note: str = "", *, key: str = "", kind: str = "") -> None:
        """One published number. ``key``: its dotted path in paper_targets.yaml; ``kind``
        (:data:`KINDS`) picks the paper's rounding; p-values get no arithmetic difference."""
        p_num = _num(paper)
        o = None if ours is None or (isinstance(ours, float) and not np.isfinite(ours)) else float(ours)
        diff = o - p_num if (o is not None and p_num is not None and kind != "p") else None
        self.keys.add(key)
        self.rows.append(
            {
                "section": section,
                "quantity": quantity,
                "paper": paper,
                "ours": o,
                "difference": diff,
                "note": note,
                "key": key,
                "kind": kind,
                "paper_text": paper_text(paper, kind),
                "ours_text": paper_text(o, kind) if o is not None else NOT_AVAILABLE,
            }
        )


def _cohort(c: _Comparison, coh: Mapping[str, Any]) -> None:
    counts = c.frame("counts")
    cmap = dict(zip(counts["quantity"], counts["value"])) if counts is not None else {}
    for q in ("n_total", "n_train", "n_validation", "deaths", "recurrences"):
        if q in coh:
            c.add(
                "Cohort",
                c.label(q),
                coh[q],
                cmap.get(q),
                "" if q in cmap else MISSING_NOTE,
                key=f"cohort.{q}",
                kind="count",
            )
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
        for quantity, paper, field, k in (
            (f"Median {E} (months)", coh[key]["estimate"], "median_spss", "estimate"),
            (f"Median {E} 95% CI lower", coh[key]["ci95"][0], "median_spss_lower", "ci95.0"),
            (f"Median {E} 95% CI upper", coh[key]["ci95"][1], "median_spss_upper", "ci95.1"),
        ):
            value = x.get(field) if x is not None else None
            c.add("Cohort", quantity, paper, value, note, key=f"cohort.{key}.{k}", kind="median")


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
                c.add(
                    "Table 1",
                    f"{c.label(var)} {f.upper() if f != 'median' else f} ({s})",
                    spec[s][i],
                    ours(var, s, field=f),
                    note,
                    key=f"table1.continuous.{var}.{s}.{i}",
                    kind="median",
                )
        c.add(
            "Table 1",
            f"{c.label(var)} P",
            spec.get("p"),
            p_of(var),
            note or "Wilcoxon rank-sum",
            key=f"table1.continuous.{var}.p",
            kind="p",
        )
    for var, spec in t1.get("categorical", {}).items():
        if var == "sex_female_male":
            for s in sets:
                k = f"table1.categorical.{var}.{s}"
                c.add(
                    "Table 1", f"Female, n ({s})", spec[s][0], ours("male", s, 0, "n"), note, key=f"{k}.0", kind="count"
                )
                c.add(
                    "Table 1", f"Male, n ({s})", spec[s][1], ours("male", s, 1, "n"), note, key=f"{k}.1", kind="count"
                )
            c.add(
                "Table 1",
                "Sex P",
                spec.get("p"),
                p_of("male"),
                note or "Pearson chi-square",
                key=f"table1.categorical.{var}.p",
                kind="p",
            )
            continue
        cohort_var = {"recurrence": "rfs_event", "death": "os_event"}.get(var, var)
        levels = spec["levels"] if "levels" in spec else {None: spec}
        for lv, ls in levels.items():
            name = c.label(var) if lv is None else f"{c.label(var)} = {lv}"
            base = f"table1.categorical.{var}" + ("" if lv is None else f".levels.{lv}")
            for s in sets:
                level = 1 if lv is None else lv
                n_, pc = ours(cohort_var, s, level, "n"), ours(cohort_var, s, level, "percent")
                c.add("Table 1", f"{name}, n ({s})", ls[s][0], n_, note, key=f"{base}.{s}.0", kind="count")
                c.add("Table 1", f"{name}, % ({s})", ls[s][1], pc, note, key=f"{base}.{s}.1", kind="percent")
        c.add(
            "Table 1",
            f"{c.label(var)} P",
            spec.get("p"),
            p_of(cohort_var),
            note or "Pearson chi-square",
            key=f"table1.categorical.{var}.p",
            kind="p",
        )


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
        k = f"table2.{ep}.univariable.{var}"
        for i, (f, name) in enumerate(_HR_FIELDS):
            value = float(row[f].iloc[0]) if row is not None else None
            c.add(section, f"{c.label(var)} {name}", v["hr"][i], value, note, key=f"{k}.hr.{i}", kind="hr")
        pcol = "p_term" if row is not None and "p_term" in row.columns else "p"
        value = float(row[pcol].iloc[0]) if row is not None else None
        c.add(section, f"{c.label(var)} P", v.get("p"), value, note, key=f"{k}.p", kind="p")


def _table2_multivariable(c: _Comparison, ep: str, spec: Mapping[str, Any]) -> None:
    multi = c.frame(f"multivariable_{ep}")
    section = f"Table 2 {ep.upper()} multivariable"
    for var, v in spec.get("selected", {}).items():
        row = _term_row(multi, var)
        sel = row is not None and bool(row["selected"].iloc[0])
        note = "" if sel else ("not selected in this run" if row is not None else MISSING_NOTE)
        k = f"table2.{ep}.multivariable.selected.{var}"
        for i, (f, name) in enumerate(_HR_FIELDS):
            value = float(row[f].iloc[0]) if sel else None
            c.add(section, f"{c.label(var)} {name}", v["hr"][i], value, note, key=f"{k}.hr.{i}", kind="hr")
        value = float(row["p"].iloc[0]) if sel else None
        c.add(section, f"{c.label(var)} P", v.get("p"), value, note, key=f"{k}.p", kind="p")
    for var, pv in spec.get("dropped_p", {}).items():
        row = _term_row(multi, var)
        quantity = f"{c.label(var)} P (not in model)"
        k = dict(key=f"table2.{ep}.multivariable.dropped_p.{var}", kind="p")
        if row is None:
            c.add(section, quantity, pv, None, MISSING_NOTE, **k)
            continue
        r = row.iloc[0]
        if bool(r["selected"]):
            c.add(
                section,
                quantity,
                pv,
                None,
                f"selected in this run (HR {paper_text(float(r['hr']), 'hr')}, Wald P {format_p(float(r['p']))})",
                **k,
            )
            continue
        sp = r.get("score_p_not_in_model")
        c.add(
            section,
            quantity,
            pv,
            float(sp) if pd.notna(sp) else None,
            "score test of adding it to the final model" if pd.notna(sp) else "no score test",
            **k,
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
                    f"{ep.upper()} {horizon_label(h)} rate, % ({s})",
                    val,
                    ours,
                    "" if ours is not None else MISSING_NOTE,
                    key=f"table3.{ep}.{s}.{h}",
                    kind="rate",
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
            value = ours(s, "c_index", field=f)
            c.add(
                section,
                f"C-index {f} ({s})",
                v[i],
                value,
                note,
                key=f"performance.{ep}.c_index.{s}.{i}",
                kind="c_index",
            )
    for s, hz in spec.get("td_auc", {}).items():
        for h, v in hz.items():
            c.add(
                section,
                f"{horizon_label(h)} AUC ({s})",
                v,
                ours(s, "auc_km", h),
                note or "Heagerty KM time-dependent ROC (survivalROC)",
                key=f"performance.{ep}.td_auc.{s}.{h}",
                kind="auc",
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
            key=f"performance.{ep}.risk_cutoff_points",
            kind="cutoff",
        )
    for s, v in spec.get("km_high_vs_low_p", {}).items():
        p = _logrank_p(c.frame("km_tests"), ep, "risk_group", s)
        c.add(
            section,
            f"Log-rank P high vs low risk ({s})",
            v,
            p,
            "" if p is not None else MISSING_NOTE,
            key=f"performance.{ep}.km_high_vs_low_p.{s}",
            kind="p",
        )


def paper_comparison(targets: Mapping[str, Any], results: Mapping[str, Any]) -> pd.DataFrame:
    """Every number of ``data/paper_targets.yaml`` beside this run's value.

    ``results`` holds this run's results, each optional (a missing one gives 'ours' NA and a
    note): ``table1`` (``table1_long`` frame), ``univariable_<ep>`` / ``multivariable_<ep>``
    (Cox tables), ``km_rates`` and ``km_tests`` (Kaplan-Meier summaries), ``performance_<ep>``
    (validation measures), ``cutpoint_<ep>`` (frame with column ``total_points``), ``counts``
    (frame with columns quantity, value: n_total, n_train, n_validation, deaths, recurrences).

    ``cohort`` (the analysis cohort: counts of the paper's text, e.g. KRAS) and ``labels``
    (candidate name -> clinical label) are optional too.

    Columns: section, quantity (clinical label), paper, ours, difference (ours - paper when
    both numeric; never for p-values), note, key (the number's dotted path in
    paper_targets.yaml: every published number has a row), kind, paper_text and ours_text
    (rounded as the paper rounds). Paper values printed as text (e.g. '<0.001') are kept.
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
            "Log-rank P, OS by chemotherapy group",
            perf_spec["chemotherapy_km_os_p"],
            p,
            "" if p is not None else MISSING_NOTE,
            key="performance.chemotherapy_km_os_p",
            kind="p",
        )
    for row in text_rows(targets.get("cohort", {}), c.frame("cohort"), c.frame("km_tests")):
        c.add(**row)
    for row in uncovered_rows(targets, c.keys):
        c.add(**row)
    return pd.DataFrame(c.rows, columns=COLUMNS)
