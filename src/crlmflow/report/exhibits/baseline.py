"""Table 1: baseline characteristics by set, with two-group tests.

The one exhibit computed from the analysis cohort rather than from a rule's results, as a
baseline table always is: medians and quartiles (R's quantile type 7), counts and
percentages, and, with two sets, Pearson's chi-square (no continuity correction, SPSS's
'Pearson Chi-Square') and the Wilcoxon rank-sum test (normal approximation with
continuity correction, R's ``wilcox.test`` with ties).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crlmflow.report.formats import (
    NOT_RECORDED,
    endpoint_row_labels,
    format_count,
    format_number,
    format_p,
    label_with_unit,
    set_label,
)

__all__ = ["default_table1_rows", "imputed_note", "table1_long", "table1"]


def default_table1_rows(
    candidates: Sequence[Mapping[str, Any]], endpoints: Mapping[str, Mapping[str, str]] | None = None
) -> list[dict]:
    """The paper's Table 1 rows (its order), labelled from the config's candidates, then
    the follow-up time and event of each of the config's ``endpoints`` (name -> ``time``,
    ``event`` columns; the paper lists RFS before OS, so they come in reverse config order),
    whatever their number and column names.

    Kinds: ``continuous`` (median (Q1, Q3), Wilcoxon), ``binary`` (n (%) of 1, chi-square),
    ``levels`` (n (%) per level, one chi-square), ``header`` (a label-only row).
    """
    spec = {c["name"]: c for c in candidates}

    def lab(name: str, fallback: str) -> str:
        c = spec.get(name, {})
        base = c.get("label", fallback)
        return label_with_unit(base, c.get("unit"))

    rows: list[dict] = []
    if "male" in spec:
        rows.append({"var": "male", "kind": "levels", "label": "Sex", "levels": {0: "Female", 1: "Male"}})
    order = [
        "age",
        "bmi",
        "hospital_days",
        "r0_resection",
        "rfa",
        "ca19_9",
        "cea",
        "wbc",
        "neut",
        "lymph",
        "hgb",
        "plt",
        "alt",
        "ast",
        "tbil",
        "dbil",
        "alb",
        "d_dimer",
        "nlr",
        "plr",
        "sii",
    ]
    for name in order:
        c = spec.get(name)
        if c is None:
            continue
        kind = "binary" if c.get("type") == "binary" else "continuous"
        rows.append({"var": name, "kind": kind, "label": lab(name, name)})
    chemo = [n for n in ("chemo_full_course", "chemo_neoadjuvant_only", "chemo_adjuvant_only") if n in spec]
    if chemo:
        rows.append({"kind": "header", "label": "Chemotherapy"})
        short = {
            "chemo_full_course": "Full-course",
            "chemo_neoadjuvant_only": "Only neoadjuvant",
            "chemo_adjuvant_only": "Only adjuvant",
        }
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
            rows.append(
                {
                    "var": c["name"],
                    "kind": "levels",
                    "label": lab(c["name"], c["name"]),
                    "levels": {lv: str(lv) for lv in c["levels"]},
                }
            )
        else:
            kind = "binary" if c.get("type") == "binary" else "continuous"
            rows.append({"var": c["name"], "kind": kind, "label": lab(c["name"], c["name"])})
    for name, ep in reversed(list((endpoints or {}).items())):
        time_label, event_label = endpoint_row_labels(name)
        rows += [
            {"var": ep["time"], "kind": "continuous", "label": time_label},
            {"var": ep["event"], "kind": "binary", "label": event_label},
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
    return float(stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=True).pvalue)


def table1_long(
    cohort: pd.DataFrame, rows: Sequence[Mapping[str, Any]], sets: Sequence[str], set_col: str = "set"
) -> pd.DataFrame:
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
                out.append(
                    {
                        "var": var,
                        "level": None,
                        "set": s,
                        "kind": kind,
                        "n_set": len(parts[s]),
                        "n": int(v.size),
                        "percent": np.nan,
                        "median": q[0],
                        "q1": q[1],
                        "q3": q[2],
                        "p": p,
                        "test": "Wilcoxon rank-sum" if two else "",
                    }
                )
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
                out.append(
                    {
                        "var": var,
                        "level": lv,
                        "set": s,
                        "kind": kind,
                        "n_set": len(parts[s]),
                        "n": n,
                        "percent": 100.0 * n / denom if denom else np.nan,
                        "median": np.nan,
                        "q1": np.nan,
                        "q3": np.nan,
                        "p": p,
                        "test": "Pearson chi-square" if two else "",
                    }
                )
    return pd.DataFrame(out)


def table1(
    cohort: pd.DataFrame,
    rows: Sequence[Mapping[str, Any]],
    sets: Sequence[str],
    *,
    set_labels: Mapping[str, str] | None = None,
    digits: int = 2,
    long: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Table 1 in the paper's layout: Characteristic | <set> (n = N) ... | P.

    Continuous rows 'median (Q1, Q3)', categorical 'n (x.x%)'; one P per variable (on its
    first row). With a single set the P column is omitted. A variable a set has no value
    of at all (an external file without that candidate) reads 'not recorded' there, and
    has no P.
    """
    lg = table1_long(cohort, rows, sets) if long is None else long
    n_set = {s: int((cohort["set"] == s).sum()) for s in sets}
    cols = [f"{set_label(s, set_labels)} (n = {n_set[s]})" for s in sets]
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
        recorded = {s: cohort.loc[cohort["set"] == s, r["var"]].notna().any() for s in sets}
        if not all(recorded.values()):
            p = ""
        if kind == "continuous":
            vals = [_quartiles(sub[sub["set"] == s].iloc[0], digits) if recorded[s] else NOT_RECORDED for s in sets]
            add(f"{pre}{r['label']}, median (Q1, Q3)", vals, p)
        elif kind == "binary":
            vals = [_count(sub[sub["set"] == s].iloc[0]) if recorded[s] else NOT_RECORDED for s in sets]
            add(f"{pre}{r['label']}, n (%)", vals, p)
        else:
            add(f"{pre}{r['label']}, n (%)", ["" if recorded[s] else NOT_RECORDED for s in sets], p)
            names = r.get("levels") or {}
            for lv in sub["level"].drop_duplicates():
                vals = [
                    _count(sub[(sub["set"] == s) & (sub["level"] == lv)].iloc[0]) if recorded[s] else "" for s in sets
                ]
                add(f"    {names.get(lv, _level_name(lv))}", vals)
    return pd.DataFrame(out)


def _quartiles(x: pd.Series, digits: int) -> str:
    return f"{format_number(x['median'], digits)} ({format_number(x['q1'], digits)}, {format_number(x['q3'], digits)})"


def _count(x: pd.Series) -> str:
    return format_count(x["n"], x["percent"])


def _level_name(lv) -> str:
    # levels read back from CSV are floats: print ASA 2.0 as '2'
    if isinstance(lv, (float, np.floating)) and float(lv).is_integer():
        return str(int(lv))
    return str(lv)


def imputed_note(cohort: pd.DataFrame, candidates: Sequence[Mapping[str, Any]]) -> str:
    """Footnote of Table 1 under multiple imputation: the rows describe the observed values
    of all included patients; how many values of each candidate are missing (imputed for
    the model, not shown in the table)."""
    names = [c["name"] for c in candidates if c["name"] in cohort]
    miss = cohort[names].isna()
    parts = [
        f"{c['label'] if c.get('label') else c['name']} {int(miss[c['name']].sum())}"
        for c in candidates
        if c["name"] in cohort and miss[c["name"]].any()
    ]
    n_inc = int(miss.any(axis=1).sum())
    if not parts:
        return "Multiple imputation: no candidate value is missing."
    return (
        f"Multiple imputation: {n_inc} of {len(cohort)} patients have a missing candidate value; they are "
        "included, their values imputed for the model (rows show observed values). Values imputed: "
        + ", ".join(parts)
        + "."
    )
