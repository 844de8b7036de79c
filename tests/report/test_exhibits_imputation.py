"""The pooled multiple-imputation table and the complete-case note (report.exhibits.imputation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crlmflow.model.pooling import rubin_pool, selection_table
from crlmflow.report.exhibits import complete_case_note, mi_pooled_footnotes, mi_pooled_table, to_markdown

CANDIDATES = [
    {"name": "age", "type": "numeric", "label": "Age", "unit": "years"},
    {"name": "ca19_9", "type": "numeric", "label": "CA19-9", "unit": "U/mL", "hr_per": 100},
    {"name": "stage", "type": "factor", "label": "Stage", "levels": ["I", "II", "III"], "ref": "I"},
    {"name": "male", "type": "binary", "label": "Sex (male)"},
]


def _pooled(terms, m=4, seed=1):
    rng = np.random.default_rng(seed)
    est = rng.normal(0.3, 0.05, size=(m, len(terms)))
    var = np.full((m, len(terms)), 0.01)
    p = rubin_pool(est, var, df_complete=80.0, names=terms)
    for col, src in (("hr", "estimate"), ("hr_lower", "lower"), ("hr_upper", "upper")):
        p[col] = np.exp(p[src])
    return p.rename_axis("term").reset_index()


def _performance(B=5):
    return pd.DataFrame(
        {
            "measure": ["c_index", "slope"],
            "apparent": [0.7123, 1.0],
            "optimism": [0.0312, 0.1234],
            "corrected": [0.6811, 0.8766],
            "imputations": [4, 4],
            "bootstrap_B": [B, B],
            "bootstrap_order": ["impute then bootstrap: within each imputed dataset"] * 2,
        }
    )


@pytest.fixture
def parts():
    chosen = [["age", "stage"], ["age", "stage", "male"], ["age"], ["age", "stage"]]
    sel = selection_table(chosen, [c["name"] for c in CANDIDATES])
    pooled = _pooled(["age", "stageII", "stageIII"])
    return {"os": pooled}, {"os": sel}, {"os": _performance()}


def test_table_shows_each_pooled_term_with_its_share_hr_df_and_fmi(parts):
    pooled, sel, perf = parts
    tab = mi_pooled_table(pooled, sel, perf, CANDIDATES, endpoint_labels={"os": "OS"})
    rows = tab.set_index("Variable")
    # age selected in all 4 imputations; stage in 3 (both dummies); male in 1 (not pooled); CA19-9 never (absent)
    assert rows.loc["Age", "Selected in imputations"] == "4/4 (100%)"
    assert rows.loc["Stage: II vs I", "Selected in imputations"] == "3/4 (75%)"
    assert rows.loc["Sex (male)", "Selected in imputations"] == "1/4 (25%)"
    assert rows.loc["Sex (male)", "HR (95% CI)"] == "-" and rows.loc["Sex (male)", "FMI"] == ""
    assert "CA19-9 (per 100 U/mL)" not in rows.index
    age = pooled["os"].set_index("term").loc["age"]
    assert rows.loc["Age", "HR (95% CI)"] == f"{age['hr']:.3f} ({age['hr_lower']:.3f}, {age['hr_upper']:.3f})"
    assert rows.loc["Age", "df"] == f"{age['df']:.1f}" and rows.loc["Age", "FMI"] == f"{age['fmi']:.2f}"
    # the pooled performance below the terms: apparent, optimism, corrected
    c = rows.loc["Harrell's C-index"]
    assert (c["Apparent"], c["Optimism"], c["Corrected"]) == ("0.712", "0.031", "0.681")
    assert c["HR (95% CI)"] == "" and (tab["Endpoint"] == "OS").all()
    assert list(tab["Variable"]).index("Calibration slope") == len(tab) - 1


def test_hr_per_scales_the_pooled_hr_of_a_wide_range_marker(parts):
    _, _, perf = parts
    sel = selection_table([["ca19_9"], ["ca19_9"]], ["ca19_9"])
    pooled = _pooled(["ca19_9"], m=2)
    pooled[["hr", "hr_lower", "hr_upper"]] = np.exp([[0.004, 0.001, 0.007]])  # per U/mL
    tab = mi_pooled_table({"os": pooled}, {"os": sel}, perf, CANDIDATES)
    hr = float(np.exp(0.4))  # per 100 U/mL
    assert tab.loc[0, "Variable"] == "CA19-9 (per 100 U/mL)"
    assert tab.loc[0, "HR (95% CI)"].startswith(f"{hr:.3f} (")


def test_footnotes_name_m_the_majority_rule_rubin_barnard_rubin_and_the_bootstrap(parts):
    _, sel, perf = parts
    notes = " ".join(mi_pooled_footnotes(perf, sel, majority=0.5, endpoint_labels={"os": "OS"}))
    for text in ("m: OS 4", "at least 50%", "Wood, White & Royston 2008", "Rubin 1987", "Barnard & Rubin 1999"):
        assert text in notes, text
    assert "White & Royston 2009" in notes and "Marshall et al. 2009" in notes
    assert "impute then bootstrap" in notes and "B = 5" in notes
    no_boot = " ".join(mi_pooled_footnotes({"os": _performance(B=0)}, sel, majority=0.6))
    assert "no bootstrap" in no_boot and "at least 60%" in no_boot


def test_complete_case_note_counts_the_patients_and_points_to_the_pooled_table():
    assert complete_case_note({"n": {"train": 272, "validation": 117}}) == ""  # multiple imputation off
    split = {
        "n": {"train": 272, "validation": 117},
        "complete_case": {"n": {"train": 201, "validation": 88}, "incomplete_by_set": {"train": 71, "validation": 29}},
    }
    note = complete_case_note(split)
    assert note.startswith("Complete-case analysis:")
    assert "201 training set patients and 88 validation set patients" in note
    assert "71 training set and 29 validation set patients with a missing value" in note
    assert "tables/mi_pooled_model" in note
    # split "none": no validation set to mention
    alone = {
        "complete_case": {"n": {"train": 250, "validation": 0}, "incomplete_by_set": {"train": 9, "validation": 0}}
    }
    assert "validation" not in complete_case_note(alone) and "250 training set patients" in complete_case_note(alone)


def test_table_renders_as_markdown(parts):
    pooled, sel, perf = parts
    md = to_markdown(mi_pooled_table(pooled, sel, perf, CANDIDATES), footnotes=["a footnote"])
    header = next(line for line in md.splitlines() if line.startswith("|"))
    for col in ("Selected in imputations", "HR (95% CI)", "FMI", "Apparent", "Optimism", "Corrected"):
        assert col in header, col
    assert "a footnote" in md
