"""Table 2: univariable and multivariable Cox regression per endpoint.

Reshapes the ``cox_models`` rule's univariable and multivariable tables into the paper's
layout; nothing is fitted here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from crlmflow.report.formats import HR_DIGITS, NOT_ELIGIBLE, NOT_ESTIMABLE, format_hr, format_number, format_p
from crlmflow.report.tables import hr_scales, scale_hr, term_labels

__all__ = ["NOT_SELECTED", "ph_footnote", "separation_notes", "table2"]

#: a cell of a term the multivariable model does not contain (the paper's '-')
NOT_SELECTED = "-"


def table2(
    univariable: Mapping[str, pd.DataFrame],
    multivariable: Mapping[str, pd.DataFrame],
    candidates: Sequence[Mapping[str, Any]],
    *,
    endpoint_labels: Mapping[str, str] | None = None,
    digits: int = HR_DIGITS,
    inclusion: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Table 2 in the paper's layout: one row per candidate term; per endpoint the
    univariable HR (95% CI) and P, and the multivariable HR (95% CI) and P.

    Multivariable cells: a selected term shows its HR and Wald p; a term that entered the
    stepwise pool but was dropped shows '-' and the score-test p of adding it to the final
    model ('variables not in the equation'); a term never in the pool (not screened, or
    excluded as collinear) shows '-' '-'. Univariable P is the term's Wald p. HRs of
    numeric terms are per unit, or per ``hr_per`` units where the candidate sets it.

    ``inclusion`` (per endpoint, ``selection_frequency.csv``) adds the bootstrap inclusion
    frequency of each term's candidate beside its multivariable HR (Heinze et al. 2018):
    the final model's HRs and p-values are conditional on a selection that the bootstrap
    shows to be unstable.
    """
    candidates = list(candidates)
    labels = term_labels(candidates)
    # a term shown on another scale (config hr_per) says so: 'CA19-9 (per 100 U/mL)'
    per = term_labels(candidates, contrast=True)
    labels |= {t: per[t] for t, k in hr_scales(candidates).items() if k != 1}
    univariable = {ep: scale_hr(df, candidates) for ep, df in univariable.items()}
    multivariable = {ep: scale_hr(df, candidates) for ep, df in multivariable.items()}
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
        sep = {t for t in u.index if bool(u.at[t, "separated"])} if "separated" in u.columns else set()
        out[f"{e} univariable HR (95% CI)"] = [
            (
                NOT_ESTIMABLE + " *"
                if t in sep
                else format_hr(u.at[t, "hr"], u.at[t, "hr_lower"], u.at[t, "hr_upper"], digits)
            )
            if t in u.index
            else ""
            for t in terms
        ]
        out[f"{e} univariable P"] = [
            (NOT_ESTIMABLE if t in sep else format_p(float(u.at[t, pcol]))) if t in u.index else "" for t in terms
        ]
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
        if inclusion and ep in inclusion:
            freq = inclusion[ep].set_index("variable")
            var_of = m["variable"].to_dict() if "variable" in m.columns else {}
            cells = []
            for t in terms:
                v = var_of.get(t, t)
                if v not in freq.index:
                    cells.append("")
                elif "eligible" in freq.columns and not bool(freq.at[v, "eligible"]):
                    cells.append(NOT_ELIGIBLE)
                else:
                    cells.append(format_number(100 * float(freq.at[v, "proportion"]), 1))
            out[f"{e} bootstrap inclusion (%)"] = cells
    return out.reset_index(drop=True)


def ph_footnote(
    tests: Mapping[str, pd.DataFrame],
    endpoint_labels: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
    alpha: float = 0.05,
) -> str | None:
    """Table 2's footnote on proportional hazards: every final-model term (and global test)
    whose ``cox.zph`` score test has p < ``alpha``, per endpoint; None when none does.
    ``tests`` maps endpoint -> ``ph_test.csv`` (term, chisq, df, p)."""
    labels = dict(labels or {})
    parts = []
    for ep, t in tests.items():
        bad = t[t["p"].astype(float) < alpha]
        if bad.empty:
            continue
        items = [
            ("global test" if r.term == "GLOBAL" else labels.get(str(r.term), str(r.term))) + f" p = {format_p(r.p)}"
            for r in bad.itertuples()
        ]
        parts.append(f"{endpoint_labels.get(ep, ep)}: " + ", ".join(items))
    if not parts:
        return None
    return (
        f"Proportional hazards questionable (cox.zph score test p < {alpha:g}) in the final model of "
        + "; ".join(parts)
        + ". Its hazard ratio averages an effect that changes over follow-up "
        "(scaled Schoenfeld residuals: supplementary figure)."
    )


def separation_notes(
    univariable: Mapping[str, pd.DataFrame], endpoint_labels: Mapping[str, str] | None = None
) -> list[str]:
    """Footnotes of Table 2 for candidates whose univariable Cox model is not estimable
    (monotone likelihood / separation, e.g. no events in one level: infinite coefficient),
    per endpoint with their count and the reason (event counts per level); they were
    excluded from screening and so never entered the multivariable model."""
    notes = []
    for ep, uni in univariable.items():
        if "separated" not in uni.columns:
            continue
        bad = uni[uni["separated"].astype(bool)].drop_duplicates("variable")
        if bad.empty:
            continue
        what = "; ".join(f"{v} ({r})" for v, r in zip(bad["variable"], bad["separation"]))
        label = (endpoint_labels or {}).get(ep, ep.upper())
        notes.append(
            f"* {label}: {len(bad)} candidate(s) not estimable in the univariable Cox model "
            f"(monotone likelihood / separation: coefficient infinite), excluded from screening "
            f"and from the multivariable model: {what}."
        )
    return notes
