"""Beyond the paper, under ``data.missing_predictors: multiple_imputation``: the pooled
model table, and the note that marks every single-model exhibit as complete-case.

Reshapes the ``multiple_imputation`` rule's outputs (``models/{ep}/mi/pooled.csv``,
``selection.csv``, ``performance.csv``); nothing is fitted or pooled here. The methods the
footnotes name: chained equations with the outcome in the imputation model (White &
Royston, Stat Med 2009;28:1982–1998), selection in each imputed dataset with the majority
rule (Wood, White & Royston, Stat Med 2008;27:3227–3246), Rubin's rules (Rubin 1987) with
Barnard–Rubin degrees of freedom (Biometrika 1999;86:948–955), performance averaged over
the imputations (Marshall et al., BMC Med Res Methodol 2009;9:57).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from crlmflow.report.formats import HR_DIGITS, format_hr, format_number, format_p, set_label
from crlmflow.report.tables import hr_scales, scale_hr, term_labels

__all__ = ["MI_TABLE", "complete_case_note", "mi_pooled_footnotes", "mi_pooled_table"]

#: where the pooled model is shown (the table every complete-case exhibit points to)
MI_TABLE = "Supplementary Table 'Pooled multiple-imputation model' (tables/mi_pooled_model)"

#: a cell of a candidate selected in some imputations but outside the pooled model
NOT_IN_MODEL = "-"

_MEASURES = {"c_index": "Harrell's C-index", "slope": "Calibration slope"}
_COLUMNS = ["Endpoint", "Variable", "Selected in imputations", "HR (95% CI)", "P", "df", "FMI"]
_PERF_COLUMNS = ["Apparent", "Optimism", "Corrected"]


def _candidate_terms(c: Mapping[str, Any]) -> list[str]:
    """Design-column names of a candidate (factor: one dummy per non-reference level)."""
    if c.get("type") == "factor":
        return [f"{c['name']}{lv}" for lv in c["levels"] if lv != c["ref"]]
    return [c["name"]]


def _term_rows(label: str, pooled: pd.DataFrame, selection: pd.DataFrame, candidates, labels) -> list[dict]:
    pooled = scale_hr(pooled, candidates).set_index("term")
    sel = selection.set_index("variable")
    rows = []
    for c in candidates:
        if c["name"] not in sel.index or int(sel.loc[c["name"], "times_selected"]) == 0:
            continue
        s = sel.loc[c["name"]]
        share = f"{int(s['times_selected'])}/{int(s['imputations'])} ({format_number(100 * s['proportion'], 0)}%)"
        for t in _candidate_terms(c):
            hit = t in pooled.index
            r = pooled.loc[t] if hit else None
            rows.append(
                {
                    "Endpoint": label,
                    "Variable": labels.get(t, t),
                    "Selected in imputations": share,
                    "HR (95% CI)": format_hr(r["hr"], r["hr_lower"], r["hr_upper"], HR_DIGITS) if hit else NOT_IN_MODEL,
                    "P": format_p(r["p"]) if hit else NOT_IN_MODEL,
                    "df": format_number(r["df"], 1) if hit else "",
                    "FMI": format_number(r["fmi"], 2) if hit else "",
                }
            )
    return rows


def mi_pooled_table(
    pooled: Mapping[str, pd.DataFrame],
    selection: Mapping[str, pd.DataFrame],
    performance: Mapping[str, pd.DataFrame],
    candidates: Sequence[Mapping[str, Any]],
    *,
    endpoint_labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The pooled multiple-imputation model of every endpoint, one display frame.

    Per endpoint, one row per term of every candidate selected in at least one imputed
    dataset (candidate order): the share of the m imputations in which the paper's
    procedure selected it (``k/m (%)``), and for the terms of the pooled model (majority
    rule) the Rubin-pooled HR (95% CI on t with Barnard–Rubin df), P, df and the fraction
    of missing information (FMI); a candidate outside the pooled model shows ``-``. Then
    one row per performance measure (Harrell's C, calibration slope) of the pooled model:
    apparent (mean over the imputed training sets), optimism and corrected values. HRs of
    numeric terms are per ``hr_per`` units where the candidate sets it.

    Parameters
    ----------
    pooled, selection, performance : mapping endpoint -> DataFrame
        The rule's ``pooled.csv``, ``selection.csv`` and ``performance.csv``.
    candidates : sequence of dict
        The config's candidates (labels, units, factor levels).
    endpoint_labels : mapping, optional
        Short label per endpoint (default: the upper-cased key).
    """
    candidates = list(candidates)
    labels = term_labels(candidates)
    per = term_labels(candidates, contrast=True)
    labels |= {t: per[t] for t, k in hr_scales(candidates).items() if k != 1}
    elab = {ep: ep.upper() for ep in pooled} | dict(endpoint_labels or {})
    rows: list[dict] = []
    for ep in pooled:
        rows += _term_rows(elab[ep], pooled[ep], selection[ep], candidates, labels)
        for _, r in performance[ep].iterrows():
            rows.append(
                {
                    "Endpoint": elab[ep],
                    "Variable": _MEASURES.get(r["measure"], r["measure"]),
                    "Apparent": format_number(r["apparent"], 3),
                    "Optimism": format_number(r["optimism"], 3),
                    "Corrected": format_number(r["corrected"], 3),
                }
            )
    return pd.DataFrame(rows, columns=[*_COLUMNS, *_PERF_COLUMNS]).fillna("")


def mi_pooled_footnotes(
    performance: Mapping[str, pd.DataFrame],
    selection: Mapping[str, pd.DataFrame],
    *,
    majority: float,
    endpoint_labels: Mapping[str, str] | None = None,
) -> list[str]:
    """Footnotes of :func:`mi_pooled_table`: m per endpoint, the imputation model, the
    majority rule, Rubin's rules with Barnard–Rubin df, the pooled performance and how its
    optimism was estimated (read from ``performance.csv``), each with its reference."""
    elab = {ep: ep.upper() for ep in performance} | dict(endpoint_labels or {})
    m = "; ".join(f"{elab[ep]} {int(selection[ep]['imputations'].iloc[0])}" for ep in selection)
    first = next(iter(performance.values())).iloc[0]
    B = int(first["bootstrap_B"])
    return [
        f"Multiple imputation (beyond the paper): m imputations (m: {m}) of the training patients' missing "
        "candidate values by chained equations (scikit-learn IterativeImputer with posterior sampling), "
        "the outcome in the imputation model (event indicator and Nelson–Aalen cumulative hazard; "
        "White & Royston 2009). Patients with a missing value are kept.",
        "Selected in imputations: imputed training sets (of m) in which the paper's procedure (univariable "
        "screening, then stepwise selection) kept the variable; it enters the pooled model when selected "
        f"in at least {format_number(100 * majority, 0)}% of them (majority rule; Wood, White & Royston 2008). "
        f"'{NOT_IN_MODEL}': selected in some imputations but not in the pooled model.",
        "HR (95% CI), P: the final terms fitted in every imputed dataset and pooled by Rubin's rules "
        "(Rubin 1987); interval and P on a t distribution with Barnard–Rubin degrees of freedom "
        "(Barnard & Rubin 1999; complete-data df = training events − parameters). FMI: fraction of "
        "missing information. The HRs are conditional on the selected model (post-selection inference).",
        "C-index (Harrell) and calibration slope of the pooled model: apparent = mean over the imputed "
        "training sets (Marshall et al. 2009); corrected = apparent − optimism, the optimism by "
        + (f"{first['bootstrap_order']} with B = {B}." if B > 0 else "no bootstrap (bootstrap_B = 0).")
        + " P < 0.001 printed as <0.001.",
    ]


def complete_case_note(split_summary: Mapping[str, Any]) -> str:
    """The note of a single-model exhibit under multiple imputation: it is the complete-case
    analysis of n patients (by set, from ``split_summary.json``'s ``complete_case``), and the
    pooled model is elsewhere. Empty when the run has no complete-case subset (multiple
    imputation off), so exhibits are unchanged then."""
    cc = split_summary.get("complete_case")
    if not cc:
        return ""
    n, out = cc["n"], cc["incomplete_by_set"]
    sets = [s for s in ("train", "validation") if n.get(s, 0) + out.get(s, 0) > 0]
    kept = " and ".join(f"{n[s]} {set_label(s).lower()} patients" for s in sets)
    left = " and ".join(f"{out[s]} {set_label(s).lower()}" for s in sets)
    return (
        f"Complete-case analysis: fitted and evaluated on the {kept} with every candidate recorded "
        f"({left} patients with a missing value left out). Multiple imputation is on: the model "
        f"developed on all patients across the imputations is in {MI_TABLE}."
    )
