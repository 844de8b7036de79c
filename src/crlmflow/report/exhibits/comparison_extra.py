"""Parts of "paper vs ours" beyond the paper's tables: statements of its text, the
published numbers the generator does not model, the model differences (selected terms,
true vs estimated hazard ratios, selection frequency) and the readable table.

Functions take and return plain data; :func:`crlmflow.report.exhibits.paper_comparison`
adds the rows; the expected ranges and the headline are in
:mod:`crlmflow.report.exhibits.comparison_ranges`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crlmflow.report.formats import NOT_AVAILABLE, format_number, format_p

__all__ = [
    "KINDS",
    "paper_text",
    "NOT_MODELLED",
    "text_rows",
    "target_leaves",
    "uncovered_rows",
    "model_differences",
    "readable",
]

#: the paper's rounding per kind of number (Tables 1-3, Figures 2-4)
KINDS = {
    "count": lambda v: format_number(v, 0),
    "percent": lambda v: format_number(v, 1),
    "median": lambda v: format_number(v, 2),
    "hr": lambda v: format_number(v, 3),
    "p": lambda v: format_p(v),
    "rate": lambda v: format_number(v, 2),
    "c_index": lambda v: format_number(v, 2),
    "auc": lambda v: format_number(v, 3),
    "cutoff": lambda v: format_number(v, 0),
    "ratio": lambda v: format_number(v, 2),
}


def paper_text(v, kind: str) -> str:
    """A number as the paper prints it (text such as '<0.001' kept; 'NA' when missing)."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return NOT_AVAILABLE
    if isinstance(v, str) or kind not in KINDS:
        return str(v)
    return KINDS[kind](v)


NOT_MODELLED = _NOT_MODELLED = "not modelled by the synthetic generator (no such column in the cohort)"

#: paper-text quantities the cohort file may carry, and the column that holds each
_TEXT_COLUMNS = {
    "primary_site": "primary_site",
    "laparoscopic_resection": "laparoscopic",
    "complications.anastomotic_leakage": "anastomotic_leakage",
    "complications.hemorrhage": "hemorrhage",
    "complications.pleural_or_abdominal_fluid": "pleural_or_abdominal_fluid",
}


def _row(section, quantity, paper, ours, note, key, kind) -> dict:
    return dict(section=section, quantity=quantity, paper=paper, ours=ours, note=note, key=key, kind=kind)


def text_rows(coh: Mapping[str, Any], cohort: pd.DataFrame | None, km_tests: pd.DataFrame | None) -> list[dict]:
    """Rows for the cohort statements of the paper's Results text (primary site,
    laparoscopic resection, KRAS, complications, the split ratio, Supplementary Table 3).
    A quantity the cohort has no column for gets 'ours' None and :data:`NOT_MODELLED`."""
    rows = []
    # no cohort given = no result; a cohort without the column = the generator lacks it
    NOT_MODELLED = _NOT_MODELLED if cohort is not None else "not available"  # noqa: N806
    has = (lambda col: cohort is not None and col in cohort.columns) if cohort is not None else (lambda col: False)
    n = len(cohort) if cohort is not None else None
    if "primary_site" in coh:
        for site, v in coh["primary_site"].items():
            ours = int((cohort["primary_site"] == site).sum()) if has("primary_site") else None
            rows.append(
                _row(
                    "Cohort (text)",
                    f"Primary site: {site}, n",
                    v,
                    ours,
                    "" if has("primary_site") else NOT_MODELLED,
                    f"cohort.primary_site.{site}",
                    "count",
                )
            )
    if "laparoscopic_resection" in coh:
        lap = coh["laparoscopic_resection"]
        ok = has("laparoscopic")
        cnt = int(cohort["laparoscopic"].sum()) if ok else None
        note = "" if ok else NOT_MODELLED
        rows.append(
            _row(
                "Cohort (text)",
                "Laparoscopic resection, n",
                lap["n"],
                cnt,
                note,
                "cohort.laparoscopic_resection.n",
                "count",
            )
        )
        rows.append(
            _row(
                "Cohort (text)",
                "Laparoscopic resection, %",
                lap["percent"],
                100.0 * cnt / n if ok and n else None,
                note,
                "cohort.laparoscopic_resection.percent",
                "percent",
            )
        )
    rows += _kras_rows(coh, cohort, km_tests, has, NOT_MODELLED)
    for name, v in (coh.get("complications") or {}).items():
        col = _TEXT_COLUMNS[f"complications.{name}"]
        ok = has(col)
        rows.append(
            _row(
                "Cohort (text)",
                f"Postoperative {name.replace('_', ' ')}, n",
                v,
                int(cohort[col].sum()) if ok else None,
                "" if ok else NOT_MODELLED,
                f"cohort.complications.{name}",
                "count",
            )
        )
    if "split_ratio" in coh:
        train = int((cohort["set"] == "train").sum()) if has("set") else None
        rows.append(
            _row(
                "Cohort",
                "Training share",
                coh["split_ratio"],
                train / n if train is not None and n else None,
                "",
                "cohort.split_ratio",
                "ratio",
            )
        )
    if "accrual" in coh:
        for k, v in coh["accrual"].items():
            rows.append(
                _row(
                    "Cohort",
                    f"Accrual: {k.replace('_', ' ')}",
                    v,
                    None,
                    "a date of the source data, not a result: the synthetic cohort uses the config's dates",
                    f"cohort.accrual.{k}",
                    "",
                )
            )
    rows.append(_hospital_days_row(cohort))
    return rows


def _kras_rows(coh, cohort, km_tests, has, NOT_MODELLED) -> list[dict]:  # noqa: N803
    """KRAS mutant count and the KRAS log-rank tests (Suppl. Table 4, Suppl. Fig. 5)."""
    rows = []
    if "kras_mutant" in coh:
        ok = has("kras")
        rows.append(
            _row(
                "Cohort (text)",
                "KRAS mutant, n",
                coh["kras_mutant"],
                int((cohort["kras"] == "mutant").sum()) if ok else None,
                "" if ok else NOT_MODELLED,
                "cohort.kras_mutant",
                "count",
            )
        )
        for ep in ("os", "rfs"):
            p = None
            if km_tests is not None:
                sub = km_tests[(km_tests["endpoint"] == ep) & (km_tests["panel"] == "kras")]
                p = float(sub["p"].iloc[0]) if len(sub) else None
            rows.append(
                _row(
                    "Cohort (text)",
                    f"KRAS mutant vs wild type, log-rank P ({ep.upper()})",
                    "<0.05",
                    p,
                    "paper: 'P < 0.05' (Suppl. Fig. 5), endpoint not stated",
                    f"text.kras_logrank_p.{ep}",
                    "p",
                )
            )
    return rows


def _hospital_days_row(cohort: pd.DataFrame | None) -> dict:
    """Supplementary Table 3: factors correlated with hospital days (Pearson, P < 0.05)."""
    paper = "all but liver-metastasis location and transfusion"
    key = "text.hospital_days_correlated_factors"
    if cohort is None or "hospital_days" not in cohort.columns:
        return _row(
            "Cohort (text)",
            "Factors correlated with hospital days (Pearson P < 0.05), n",
            paper,
            None,
            NOT_MODELLED,
            key,
            "count",
        )
    hd = pd.to_numeric(cohort["hospital_days"], errors="coerce")
    found = []
    for col in cohort.columns:
        x = pd.to_numeric(cohort[col], errors="coerce") if cohort[col].dtype != object else None
        if col == "hospital_days" or x is None or x.nunique() < 2 or col.endswith(("_months", "_event", "_id")):
            continue
        ok = x.notna() & hd.notna()
        if ok.sum() > 3 and stats.pearsonr(x[ok], hd[ok]).pvalue < 0.05:
            found.append(col)
    note = (
        "synthetic cohort: hospital days is generated independently of most factors, so few correlate; "
        "correlated here: " + (", ".join(found) if found else "none")
    )
    return _row(
        "Cohort (text)",
        "Factors correlated with hospital days (Pearson P < 0.05), n",
        paper,
        len(found),
        note,
        key,
        "count",
    )


def target_leaves(targets: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of every published number of paper_targets.yaml (lists indexed, the
    descriptive ``exhibits`` and ``table1.columns`` entries left out)."""
    out = []
    for k, v in targets.items():
        path = f"{prefix}{k}"
        if path in ("exhibits", "table1.columns"):
            continue
        if isinstance(v, Mapping):
            out += target_leaves(v, path + ".")
        elif isinstance(v, list):
            out += [f"{path}.{i}" for i in range(len(v))]
        else:
            out.append(path)
    return out


def uncovered_rows(targets: Mapping[str, Any], keys: Iterable[str]) -> list[dict]:
    """A row for every published number no comparison row covers (so none is absent)."""
    keys = set(keys)
    rows = []
    for leaf in target_leaves(targets):
        if not any(leaf == k or leaf.startswith(k + ".") for k in keys):
            v: Any = targets
            for part in leaf.split("."):
                v = v[int(part)] if isinstance(v, list) else v.get(part, v.get(_int(part)))
            rows.append(_row("Not compared", leaf, v, None, "no result of this run corresponds", leaf, ""))
    return rows


def _int(s: str):
    try:
        return int(s)
    except ValueError:
        return s


def model_differences(
    paper_selected: Mapping[str, Iterable[str]],
    multivariable: Mapping[str, pd.DataFrame],
    labels: Mapping[str, str],
    *,
    truth: Mapping[str, Any] | None = None,
    bootstrap_frequency: Mapping[str, pd.DataFrame] | None = None,
    simulation_frequency: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per endpoint and term (selected by the paper, by this run, or with a true effect):
    selected in paper / here, the difference, true HR (ground truth of a synthetic cohort),
    estimated HR, and selection frequency in the bootstrap and in the simulation study.

    ``bootstrap_frequency[ep]``: variable, proportion; ``simulation_frequency``: endpoint,
    variable, selection_freq and optionally its Monte Carlo SE ``mc_se``.
    """
    rows = []
    for ep, multi in multivariable.items():
        ours = set(multi.loc[multi["selected"].astype(bool), "variable"])
        paper = {("male" if v == "sex" else v) for v in paper_selected.get(ep, ())}
        true_hr = dict((truth or {}).get(ep, {}).get("hr", {}))
        terms = [
            v for v in dict.fromkeys([*sorted(paper), *sorted(ours), *sorted(k for k, h in true_hr.items() if h != 1)])
        ]
        boot = (bootstrap_frequency or {}).get(ep)
        bmap = dict(zip(boot["variable"], boot["proportion"])) if boot is not None else {}
        sim = simulation_frequency
        part = sim[sim["endpoint"] == ep] if sim is not None else None
        smap = dict(zip(part["variable"], part["selection_freq"])) if part is not None else {}
        semap = dict(zip(part["variable"], part["mc_se"])) if part is not None and "mc_se" in part else {}
        for v in terms:
            in_p, in_o = v in paper, v in ours
            est = multi.loc[(multi["variable"] == v) & multi["selected"].astype(bool), "hr"]
            rows.append(
                {
                    "endpoint": ep.upper(),
                    "term": labels.get(v, v),
                    "in_paper": in_p,
                    "in_this_run": in_o,
                    "difference": "both"
                    if in_p and in_o
                    else ("this run only" if in_o else ("paper only" if in_p else "neither (true effect)")),
                    "true_hr": true_hr.get(v, 1.0 if truth else np.nan),
                    "estimated_hr": float(est.iloc[0]) if len(est) else np.nan,
                    "bootstrap_selection": bmap.get(v, np.nan),
                    "simulation_selection": smap.get(v, np.nan),
                    "simulation_selection_mc_se": semap.get(v, np.nan),
                }
            )
    return pd.DataFrame(rows)


def readable(
    comparison: pd.DataFrame, differences: pd.DataFrame | None = None, reasons: list[str] | None = None
) -> pd.DataFrame:
    """The comparison as a reader sees it: clinical labels, paper rounding, the expected
    range and both flags, one row per published number, then one row per model term
    that differs (or has a true effect) with its true and estimated HR and selection
    frequencies. ``differences`` is :func:`model_differences`' frame; ``reasons`` (one per
    row, '' when inside) fills the ``likely_reason`` column."""

    def rng(r):
        if pd.isna(r.get("expected_lower")) or pd.isna(r.get("expected_upper")):
            return ""
        kind = "hr" if r["kind"] == "p" else r["kind"]
        return f"{paper_text(float(r['expected_lower']), kind)} to {paper_text(float(r['expected_upper']), kind)}"

    out = pd.DataFrame(
        {
            "section": comparison["section"],
            "quantity": comparison["quantity"],
            "paper": comparison["paper_text"],
            "ours": comparison["ours_text"],
            "difference": [
                paper_text(d, k) if pd.notna(d) else "" for d, k in zip(comparison["difference"], comparison["kind"])
            ],
            "expected_95_range": [rng(r) for _, r in comparison.iterrows()],
            "paper_vs_range": comparison.get("paper_vs_range", "no range"),
            "ours_vs_range": comparison.get("ours_vs_range", "no range"),
            "likely_reason": reasons if reasons is not None else "",
            "note": comparison["note"],
            "key": comparison["key"],
        }
    )
    if differences is None or differences.empty:
        return out
    rows = []
    for _, d in differences.iterrows():

        def freq(v, where, se=np.nan):
            if pd.isna(v):
                return f"{where}: not computed"
            mc = f" (Monte Carlo SE {paper_text(100 * float(se), 'percent')})" if pd.notna(se) else ""
            return f"{where}: {paper_text(100 * float(v), 'percent')}%{mc}"

        rows.append(
            {
                "section": "Model differences",
                "quantity": f"{d['endpoint']}: {d['term']}",
                "paper": "selected" if d["in_paper"] else "not selected",
                "ours": "selected" if d["in_this_run"] else "not selected",
                "difference": d["difference"],
                "expected_95_range": "",
                "paper_vs_range": "",
                "ours_vs_range": "",
                "likely_reason": "",
                "note": (
                    f"true HR {paper_text(d['true_hr'], 'hr')}, estimated HR {paper_text(d['estimated_hr'], 'hr')}; "
                    f"selection frequency, {freq(d['bootstrap_selection'], 'bootstrap')}, "
                    f"{freq(d['simulation_selection'], 'simulation study', d.get('simulation_selection_mc_se', np.nan))}"
                ),
                "key": f"model.{d['endpoint'].lower()}.{d['term']}",
            }
        )
    return pd.concat([out, pd.DataFrame(rows)], ignore_index=True)
