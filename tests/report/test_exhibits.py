"""Table builders and the paper comparison of crlmflow.report.exhibits on small hand-made frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crlmflow.report.exhibits import (
    default_table1_rows,
    flow_summary,
    imputed_note,
    load_nomogram,
    paper_comparison,
    performance_comparison,
    selection_stability,
    table1,
    table1_long,
    table2,
    table3,
    to_markdown,
    write_table,
)
from crlmflow.report.exhibits.comparison import COLUMNS
from crlmflow.report.exhibits.comparison_extra import (
    NOT_MODELLED,
    model_differences,
    readable,
    target_leaves,
    text_rows,
)
from crlmflow.report.exhibits.comparison_ranges import (
    GENERATOR,
    METHOD,
    SAMPLING,
    TENSION,
    attach_expected,
    headline,
    likely_reason,
    range_settings_note,
    reasons_column,
)

CANDS = [
    {"name": "age", "type": "numeric", "label": "Age", "unit": "years"},
    {"name": "rfa", "type": "binary", "label": "RFA"},
    {"name": "crs_score", "type": "numeric", "label": "CRS score"},
    {"name": "cea", "type": "numeric", "label": "CEA"},
]


@pytest.fixture
def cohort():
    rng = np.random.default_rng(1)
    n = 60
    return pd.DataFrame(
        {
            "set": ["train"] * 40 + ["validation"] * 20,
            "male": rng.integers(0, 2, n),
            "age": rng.normal(58, 8, n).round(),
            "rfa": [1] * 4 + [0] * 36 + [1] * 2 + [0] * 18,
            "crs_score": rng.integers(1, 4, n),
            "cea": rng.lognormal(2, 1, n),
            "os_months": rng.uniform(1, 80, n),
            "os_event": rng.integers(0, 2, n),
            "rfs_months": rng.uniform(1, 40, n),
            "rfs_event": rng.integers(0, 2, n),
        }
    )


def test_table1_layout_and_tests(cohort):
    rows = default_table1_rows(CANDS)
    t = table1(cohort, rows, ["train", "validation"])
    assert list(t.columns) == ["Characteristic", "Training set (n = 40)", "Validation set (n = 20)", "P"]
    rfa = t[t["Characteristic"] == "RFA, n (%)"].iloc[0]
    assert rfa["Training set (n = 40)"] == "4 (10.0%)"
    assert rfa["Validation set (n = 20)"] == "2 (10.0%)"
    assert rfa["P"] == "1.000"  # identical proportions: Pearson chi-square p = 1
    age = t[t["Characteristic"].str.startswith("Age, years")].iloc[0]
    q = np.percentile(cohort.loc[cohort["set"] == "train", "age"], [50, 25, 75])
    assert age["Training set (n = 40)"] == f"{q[0]:.2f} ({q[1]:.2f}, {q[2]:.2f})"
    # a levels variable: header row with the p, one row per level without
    i = t.index[t["Characteristic"] == "CRS score, n (%)"][0]
    assert t.loc[i, "P"] != "" and t.loc[i + 1, "P"] == ""
    assert t.loc[i + 1, "Characteristic"].strip() == "1"


def test_table1_pearson_matches_paper_r0():
    """The paper's R0 p (205/273 vs 93/116 -> 0.279) is Pearson's chi-square without correction."""
    df = pd.DataFrame(
        {"set": ["train"] * 273 + ["validation"] * 116, "r0_resection": [1] * 205 + [0] * 68 + [1] * 93 + [0] * 23}
    )
    lg = table1_long(df, [{"var": "r0_resection", "kind": "binary", "label": "R0"}], ["train", "validation"])
    assert round(lg["p"].iloc[0], 3) == 0.279
    assert lg["percent"].round(1).tolist() == [75.1, 80.2]


def test_table1_says_not_recorded_for_a_variable_a_cohort_lacks(cohort):
    """An external file without a candidate (allowed when the model does not use it): the
    cell reads 'not recorded', never '0 (NA%)' or 'NA (NA, NA)', and the row has no P."""
    lacking = cohort.copy()
    lacking.loc[lacking["set"] == "validation", ["rfa", "cea", "crs_score"]] = np.nan
    t = table1(lacking, default_table1_rows(CANDS), ["train", "validation"]).set_index("Characteristic")
    val = "Validation set (n = 20)"
    for row in ("RFA, n (%)", "CRS score, n (%)"):
        assert t.loc[row, val] == "not recorded" and t.loc[row, "P"] == "", row
    cea = [c for c in t.index if c.startswith("CEA")][0]
    assert t.loc[cea, val] == "not recorded" and t.loc[cea, "Training set (n = 40)"] != "not recorded"
    assert t.loc["    1", val] == ""  # no counts under an unrecorded factor
    age = [c for c in t.index if c.startswith("Age")][0]
    assert t.loc[age, "P"] != ""  # recorded in both: tested as before


def test_table1_single_set_has_no_p(cohort):
    t = table1(cohort.assign(set="train"), default_table1_rows(CANDS), ["train"])
    assert "P" not in t.columns and len(t.columns) == 2


def test_table1_labels_print_units_with_symbols():
    cands = [
        {"name": "bmi", "type": "numeric", "label": "BMI", "unit": "kg/m2"},
        {"name": "wbc", "type": "numeric", "label": "WBC", "unit": "10^9/L"},
        {"name": "tbil", "type": "numeric", "label": "TBIL", "unit": "umol/L"},
        {"name": "ca19_9", "type": "numeric", "label": "CA19-9", "unit": "U/ml"},
    ]
    labels = {r["var"]: r["label"] for r in default_table1_rows(cands)}
    assert labels["bmi"] == "BMI, kg/m\u00b2" and labels["wbc"] == "WBC, 10\u2079/L"
    assert labels["tbil"] == "TBIL, \u00b5mol/L" and labels["ca19_9"] == "CA19-9, U/mL"


def _uni():
    return pd.DataFrame(
        {
            "term": ["age", "rfa", "crs_score", "cea"],
            "hr": [1.0012, 3.215, 1.515, 1.0],
            "hr_lower": [0.979, 1.962, 1.209, 1.0],
            "hr_upper": [1.021, 5.269, 1.898, 1.0],
            "p": [0.962, 0.00002, 0.0004, 0.852],
            "p_term": [0.962, 0.00002, 0.0004, 0.852],
        }
    )


def _multi():
    return pd.DataFrame(
        {
            "term": ["age", "rfa", "crs_score", "cea"],
            "screened": [1, 1, 1, 0],
            "in_pool": [1, 1, 1, 0],
            "selected": [0, 1, 1, 0],
            "hr": [np.nan, 2.326, 1.424, np.nan],
            "hr_lower": [np.nan, 1.386, 1.117, np.nan],
            "hr_upper": [np.nan, 3.905, 1.815, np.nan],
            "p": [np.nan, 0.0014, 0.004, np.nan],
            "score_p_not_in_model": [0.0771, np.nan, np.nan, 0.6],
        }
    )


def test_table2_formatting():
    t = table2({"os": _uni()}, {"os": _multi()}, CANDS, endpoint_labels={"os": "OS"})
    t = t.set_index("Variable")
    assert t.loc["RFA", "OS univariable HR (95% CI)"] == "3.215 (1.962, 5.269)"
    assert t.loc["RFA", "OS univariable P"] == "<0.001"
    assert t.loc["Age", "OS univariable P"] == "0.962"
    assert t.loc["RFA", "OS multivariable HR (95% CI)"] == "2.326 (1.386, 3.905)"
    assert t.loc["RFA", "OS multivariable P"] == "0.001"
    # screened, dropped: '-' and the score-test p
    assert t.loc["Age", "OS multivariable HR (95% CI)"] == "-"
    assert t.loc["Age", "OS multivariable P"] == "0.077"
    # never in the pool: '-' '-' even though a score p exists
    assert t.loc["CEA", "OS multivariable HR (95% CI)"] == "-"
    assert t.loc["CEA", "OS multivariable P"] == "-"
    assert t.loc["CEA", "OS univariable HR (95% CI)"] == "1.000 (1.000, 1.000)"


def test_table2_marks_separated_candidates_and_footnotes_them():
    """A candidate not estimable univariably (separation) reads 'not estimable', never a
    number, and a footnote names it with the reason and the count per endpoint."""
    from crlmflow.report.exhibits import separation_notes

    uni = _uni().assign(separated=[False, True, False, False], separation="")
    uni["variable"] = uni["term"]
    reason = "no events with rfa = 1 [rfa=0: n=90, events=40; rfa=1: n=10, events=0]"
    uni.loc[1, ["hr", "hr_lower", "hr_upper", "p", "p_term"]] = np.nan
    uni.loc[1, "separation"] = reason
    multi = _multi().assign(screened=[1, 0, 1, 0], in_pool=[1, 0, 1, 0], selected=[0, 0, 1, 0])
    t = table2({"os": uni}, {"os": multi}, CANDS, endpoint_labels={"os": "OS"}).set_index("Variable")
    assert t.loc["RFA", "OS univariable HR (95% CI)"] == "not estimable *"
    assert t.loc["RFA", "OS univariable P"] == "not estimable"
    assert t.loc["RFA", "OS multivariable HR (95% CI)"] == "-" and t.loc["RFA", "OS multivariable P"] == "-"
    assert t.loc["Age", "OS univariable HR (95% CI)"] == "1.001 (0.979, 1.021)"
    notes = separation_notes({"os": uni}, {"os": "OS"})
    assert len(notes) == 1 and notes[0].startswith("* OS: 1 candidate(s) not estimable")
    assert "rfa (" + reason + ")" in notes[0] and "excluded from screening" in notes[0]
    assert separation_notes({"os": _uni()}) == []  # tables from before the column: no note


def test_table2_shows_bootstrap_inclusion_beside_the_hrs():
    freq = pd.DataFrame(
        {
            "variable": ["age", "rfa", "crs_score", "cea"],
            "eligible": [True, True, True, False],
            "times_selected": [31, 944, 702, pd.NA],
            "proportion": [0.031, 0.944, 0.702, np.nan],
        }
    )
    t = table2({"os": _uni()}, {"os": _multi()}, CANDS, endpoint_labels={"os": "OS"}, inclusion={"os": freq})
    t = t.set_index("Variable")
    cols = list(t.columns)
    assert cols.index("OS bootstrap inclusion (%)") == cols.index("OS multivariable P") + 1
    assert t.loc["RFA", "OS bootstrap inclusion (%)"] == "94.4"
    assert t.loc["Age", "OS bootstrap inclusion (%)"] == "3.1"
    assert t.loc["CEA", "OS bootstrap inclusion (%)"] == "not eligible"
    # without the bootstrap the paper's layout is unchanged
    assert "OS bootstrap inclusion (%)" not in table2({"os": _uni()}, {"os": _multi()}, CANDS).columns


def test_table3_rates_and_medians():
    rows = []
    for s, surv in (
        ("train", [0.9738, 0.7118, 0.5456]),
        ("validation", [0.9752, 0.7293, 0.5156]),
        ("all", [0.97, 0.72, 0.54]),
    ):
        for h, v in zip((12, 36, 60), surv):
            rows.append(
                {
                    "endpoint": "os",
                    "panel": "overall",
                    "set": s,
                    "group": "all",
                    "time": h,
                    "surv": v,
                    "median_km": 70.2,
                    "median_km_lower": 60.1,
                    "median_km_upper": np.nan,
                    "median_spss": 70.2,
                    "median_spss_lower": 57.73,
                    "median_spss_upper": 82.68,
                    "n": 100,
                    "events": 40,
                }
            )
    t = table3(pd.DataFrame(rows), ["os"], ["train", "validation"], [12, 36, 60])
    assert t["Factors"].tolist() == ["OS (Training set), %", "OS (Validation set), %", "OS (All patients), %"]
    assert t.loc[0, "1-year rate"] == "97.38%" and t.loc[1, "5-year rate"] == "51.56%"
    assert t.loc[2, "Median, months (95% CI, SPSS)"] == "70.20 (57.73, 82.68)"
    assert t.loc[2, "Median, months (95% CI, R survfit)"] == "70.20 (60.10, not reached)"


TARGETS = {
    "cohort": {"n_total": 389, "median_os": {"estimate": 70.2, "ci95": [57.73, 82.68]}},
    "table1": {"categorical": {"rfa": {"train": [27, 9.9], "validation": [10, 8.6], "p": 0.696}}},
    "table2": {
        "os": {
            "univariable": {"rfa": {"hr": [3.215, 1.962, 5.269], "p": "<0.001"}},
            "multivariable": {
                "selected": {
                    "rfa": {"hr": [2.326, 1.386, 3.905], "p": 0.001},
                    "age": {"hr": [1.1, 1.0, 1.2], "p": 0.01},
                },
                "dropped_p": {"age": 0.5, "crs_score": 0.3},
            },
        }
    },
    "table3": {"os": {"train": {12: 97.38}}},
    "performance": {
        "os": {
            "c_index": {"train": [0.72, 0.66, 0.77]},
            "td_auc": {"train": {12: 0.795}},
            "risk_cutoff_points": 66,
            "km_high_vs_low_p": {"train": "<0.0001"},
        }
    },
}


TARGETS_FULL = {
    "cohort": {
        "primary_site": {"colon": 223, "rectum": 166},
        "kras_mutant": 221,
        "split_ratio": 0.7,
    }
}


def _results():
    rates = pd.DataFrame(
        [
            {
                "endpoint": "os",
                "panel": "overall",
                "set": "all",
                "time": 12,
                "surv": 0.97,
                "median_spss": 72.0,
                "median_spss_lower": 60.0,
                "median_spss_upper": 84.0,
            },
            {
                "endpoint": "os",
                "panel": "overall",
                "set": "train",
                "time": 12,
                "surv": 0.96,
                "median_spss": 72.0,
                "median_spss_lower": 60.0,
                "median_spss_upper": 84.0,
            },
        ]
    )
    perf = pd.DataFrame(
        [
            {"set": "train", "measure": "c_index", "horizon": np.nan, "estimate": 0.73, "lower": 0.67, "upper": 0.79},
            {"set": "train", "measure": "auc_km", "horizon": 12, "estimate": 0.8, "lower": np.nan, "upper": np.nan},
        ]
    )
    lg = pd.DataFrame(
        [
            {"var": "rfa", "level": 1, "set": s, "n": n, "percent": pc, "p": 0.5}
            for s, n, pc in (("train", 24, 8.8), ("validation", 12, 10.3))
        ]
    )
    return {
        "counts": pd.DataFrame({"quantity": ["n_total"], "value": [389]}),
        "km_rates": rates,
        "table1": lg,
        "univariable_os": _uni(),
        "multivariable_os": _multi(),
        "performance_os": perf,
        "cutpoint_os": pd.DataFrame({"total_points": [65.66]}),
        "km_tests": pd.DataFrame({"endpoint": ["os"], "panel": ["risk_group"], "set": ["train"], "p": [1e-9]}),
    }


def test_paper_comparison_matches_and_notes():
    c = paper_comparison(TARGETS, _results())
    assert list(c.columns) == COLUMNS
    get = lambda key: c[c["key"] == key].iloc[0]  # noqa: E731
    r = get("cohort.n_total")
    assert r["ours"] == 389 and r["difference"] == 0 and r["quantity"] == "Patients analysed"
    r = get("cohort.median_os.estimate")
    assert r["ours"] == 72.0 and r["difference"] == pytest.approx(1.8) and r["paper_text"] == "70.20"
    r = get("table1.categorical.rfa.train.0")
    assert r["ours"] == 24 and r["difference"] == -3
    r = get("table1.categorical.rfa.p")
    assert r["ours"] == 0.5 and pd.isna(r["difference"]) and r["ours_text"] == "0.500"  # no arithmetic on p
    r = get("table2.os.univariable.rfa.p")
    assert r["paper"] == "<0.001" and pd.isna(r["difference"]) and r["ours"] == pytest.approx(0.00002)
    assert r["ours_text"] == "<0.001"
    assert get("table2.os.multivariable.selected.rfa.hr.0")["ours"] == pytest.approx(2.326)
    r = get("table2.os.multivariable.selected.age.hr.0")  # selected in the paper, not here
    assert pd.isna(r["ours"]) and r["note"] == "not selected in this run"
    r = get("table2.os.multivariable.dropped_p.age")  # dropped in both: our score p
    assert r["ours"] == pytest.approx(0.0771) and pd.isna(r["difference"])
    r = get("table2.os.multivariable.dropped_p.crs_score")  # dropped there, selected here
    assert pd.isna(r["ours"]) and r["note"].startswith("selected in this run")
    assert get("table3.os.train.12")["ours"] == pytest.approx(96.0)
    assert get("performance.os.c_index.train.0")["difference"] == pytest.approx(0.01)
    assert get("performance.os.td_auc.train.12")["ours"] == pytest.approx(0.8)
    assert get("performance.os.risk_cutoff_points")["ours"] == pytest.approx(65.66)


def test_paper_comparison_missing_results_say_so():
    c = paper_comparison(TARGETS, {})
    assert c["ours"].isna().all()
    assert (c.loc[c["section"] == "Table 3", "note"] == "not available").all()


def test_every_published_number_has_a_row(repo_root):
    import yaml

    targets = yaml.safe_load((repo_root / "data" / "paper_targets.yaml").read_text(encoding="utf-8"))
    c = paper_comparison(targets, {})
    keys = set(c["key"])
    leaves = target_leaves(targets)
    assert len(leaves) > 500
    missing = [leaf for leaf in leaves if not any(leaf == k or leaf.startswith(k + ".") for k in keys)]
    assert not missing
    assert (c["section"] == "Not compared").sum() == 0  # each is compared explicitly
    for key in (
        "cohort.kras_mutant",
        "cohort.primary_site.colon",
        "cohort.complications.hemorrhage",
        "cohort.laparoscopic_resection.n",
        "text.hospital_days_correlated_factors",
    ):
        assert key in keys, key


def test_text_rows_count_what_the_cohort_has_and_name_what_it_lacks():
    cohort = pd.DataFrame({"kras": ["mutant"] * 3 + ["wild_type"] * 2, "set": ["train"] * 4 + ["validation"]})
    tests = pd.DataFrame({"endpoint": ["os"], "panel": ["kras"], "set": ["all"], "p": [0.01]})
    rows = {r["key"]: r for r in text_rows(TARGETS_FULL["cohort"], cohort, tests)}
    assert rows["cohort.kras_mutant"]["ours"] == 3
    assert rows["text.kras_logrank_p.os"]["ours"] == 0.01
    assert rows["cohort.primary_site.colon"]["ours"] is None
    assert rows["cohort.primary_site.colon"]["note"] == NOT_MODELLED
    assert rows["cohort.split_ratio"]["ours"] == pytest.approx(0.8)


def test_expected_ranges_flag_paper_and_ours_and_headline_counts():
    c = paper_comparison(TARGETS, _results())
    exp = pd.DataFrame(
        {
            "key": ["cohort.n_total", "cohort.median_os.estimate"],
            "lower": [389, 75.0],
            "upper": [389, 90.0],
            "n_replicates": [50, 50],
        }
    )
    out = attach_expected(c, exp)
    r = out.set_index("key")
    assert r.loc["cohort.n_total", "paper_vs_range"] == "inside"
    assert r.loc["cohort.median_os.estimate", "paper_vs_range"] == "outside"  # 70.2 < 75
    assert r.loc["cohort.median_os.estimate", "ours_vs_range"] == "atypical"  # 72 < 75
    assert r.loc["table3.os.train.12", "paper_vs_range"] == "no range"
    lines = headline(out)
    assert "2: 1 inside, 1 outside" in lines[1] and "Median OS (months)" in lines[2]


def test_a_paper_p_printed_as_a_bound_is_inside_when_the_range_reaches_past_it():
    comp = pd.DataFrame(
        {
            "key": ["a", "b", "c"],
            "paper": ["<0.001", "<0.001", 0.5],
            "ours": [0.0004, 0.2, None],
            "section": "S",
            "quantity": ["qa", "qb", "qc"],
            "note": "",
        }
    )
    exp = pd.DataFrame({"key": ["a", "b"], "lower": [1e-6, 0.01], "upper": [0.01, 0.3], "n_replicates": [500, 500]})
    r = attach_expected(comp, exp).set_index("key")
    assert r.loc["a", "paper_vs_range"] == "inside" and r.loc["b", "paper_vs_range"] == "outside"
    assert r.loc["c", "paper_vs_range"] == "no range" and r.loc["c", "ours_vs_range"] == "no range"
    assert r.loc["b", "ours_vs_range"] == "typical"


def test_likely_reasons_use_the_papers_own_numbers_and_the_monte_carlo_error():
    targets = {
        "table2": {
            "os": {
                "multivariable": {
                    "selected": {
                        "rfa": {"hr": [2.0, 1.5, 2.7], "p": 0.30},  # CI far from 1, p large: inconsistent
                        "crs_score": {"hr": [1.5, 1.2, 1.9], "p": 0.001},  # consistent
                    }
                }
            }
        }
    }

    def row(key, paper, lo, hi, **mc):
        return {"key": key, "paper": paper, "expected_lower": lo, "expected_upper": hi, **mc}

    cat, why = likely_reason(row("table2.os.multivariable.selected.rfa.hr.0", 2.0, 2.2, 4.0), targets)
    assert cat == TENSION and "imply different Wald statistics" in why
    cat, why = likely_reason(row("table2.os.multivariable.selected.crs_score.hr.0", 1.5, 1.6, 3.0), targets)
    assert cat == TENSION and "below" in why
    edge = dict(lower_mc_lo=1.45, lower_mc_hi=1.62, upper_mc_lo=2.8, upper_mc_hi=3.1)
    cat, _ = likely_reason(row("table2.os.multivariable.selected.crs_score.hr.0", 1.5, 1.6, 3.0, **edge), targets)
    assert cat == SAMPLING  # within the Monte Carlo interval of the lower bound
    assert likely_reason(row("table1.continuous.age.p", 0.01, 0.03, 0.97))[0] == SAMPLING
    assert likely_reason(row("performance.os.c_index.train.0", 0.72, 0.62, 0.70))[0] == TENSION
    assert likely_reason(row("performance.os.risk_cutoff_points", 66, 80, 140))[0] == METHOD
    assert likely_reason(row("table2.os.univariable.age.p", 0.99, 0.03, 0.96))[0] == SAMPLING  # uniform p
    assert likely_reason(row("table2.os.univariable.hgb.hr.0", 1.011, 0.99, 1.007))[0] == GENERATOR
    lap = {"cohort": {"n_total": 389, "laparoscopic_resection": {"n": 84, "percent": 44.2}}}
    cat, why = likely_reason(row("cohort.laparoscopic_resection.n", 84, 150, 190), lap)
    assert cat == TENSION and "84 is 21.6% of its 389 patients, but it prints 44.2%" in why
    assert likely_reason(row("cohort.median_os.ci95.0", 57.7, 58, 90))[0] == METHOD


def test_headline_states_replicates_chance_count_monte_carlo_error_and_reasons():
    comp = pd.DataFrame(
        {
            "section": "Performance OS",
            "quantity": [f"q{i}" for i in range(40)],
            "key": ["performance.os.c_index.train.0"] + [f"k{i}" for i in range(1, 40)],
            "paper": [0.72] + [1.0] * 39,
            "ours": [0.68] + [1.0] * 39,
            "note": "",
        }
    )
    exp = pd.DataFrame(
        {
            "key": comp["key"],
            "lower": [0.60] + [0.5] * 39,
            "upper": [0.70] + [1.5] * 39,
            "n_replicates": 500,
            "lower_mc_lo": [0.59] + [0.45] * 39,
            "lower_mc_hi": [0.61] + [0.55] * 39,
            "upper_mc_lo": [0.69] + [1.45] * 39,
            "upper_mc_hi": [0.71] + [1.55] * 39,
        }
    )
    out = attach_expected(comp, exp)
    lines = headline(out, {}, {"replicates": 500})
    text = "\n".join(lines)
    assert "from 500 replicate cohorts" in text and "39 inside, 1 outside" in text
    assert "about 2 would be outside by chance alone" in text
    assert "Monte Carlo error" in text and "10% of the range's width" in text
    assert f"Outside, likely {TENSION} (1): Performance OS: q0." in text
    assert "atypical (outside the range) for 0 of the 40" in text
    reasons = reasons_column(out, {})
    assert reasons[0].startswith(f"likely {TENSION}") and reasons[1] == ""


def test_cached_ranges_must_describe_this_runs_procedure():
    proc = {"selection": {"method": "forward_lr"}, "horizons": [12, 36, 60]}
    ok = range_settings_note({"replicates": 500, "seed": 1, "procedure": proc}, proc)
    assert "computed for this run's procedure (500 replicates" in ok[0]
    other = {**proc, "selection": {"method": "stepaic_both"}}
    bad = range_settings_note({"replicates": 500, "seed": 1, "procedure": proc}, other)
    assert bad[0].startswith("WARNING") and "differing in: selection" in bad[0]


def test_the_shared_papers_targets_are_the_compared_copy_and_each_has_a_row_and_a_range(repo_root):
    """Every item of the paper's targets (../shared/paper/targets.yaml beside the checkout,
    when present) is the compared copy data/paper_targets.yaml, has a comparison row and,
    when it is a number the generator models, an expected range in the committed cache."""
    import yaml

    copy = repo_root / "data" / "paper_targets.yaml"
    shared = next((p / "shared" / "paper" / "targets.yaml" for p in repo_root.parents if (p / "shared").is_dir()), None)
    if shared is not None and shared.is_file():
        assert yaml.safe_load(shared.read_text(encoding="utf-8")) == yaml.safe_load(copy.read_text(encoding="utf-8"))
    targets = yaml.safe_load(copy.read_text(encoding="utf-8"))
    comp = paper_comparison(targets, {})
    keys = list(comp["key"])
    for leaf in target_leaves(targets):
        assert any(leaf == k or leaf.startswith(k + ".") for k in keys), leaf
    cache = pd.read_csv(repo_root / "data" / "paper_expected_ranges.csv")
    ranged = set(cache.loc[cache["n_replicates"] > 0, "key"])
    numeric = comp[comp["key"].map(lambda k: not k.startswith(("cohort.accrual", "cohort.split_ratio")))]
    # modelled by the generator: everything but the paper-text quantities it has no column for
    unmodelled = ("cohort.primary_site", "cohort.laparoscopic", "cohort.complications", "text.hospital_days")
    missing = [k for k in numeric["key"] if not k.startswith(unmodelled) and k not in ranged]
    assert not missing, missing
    sel = pd.read_csv(repo_root / "data" / "paper_expected_selection.csv")
    assert {"endpoint", "variable", "selection_freq", "mc_se"} <= set(sel.columns) and len(sel) > 0


def test_model_differences_rows():
    multi = pd.DataFrame(
        {"variable": ["rfa", "age", "crs_score"], "selected": [True, True, False], "hr": [2.0, 1.01, np.nan]}
    )
    truth = {"os": {"hr": {"rfa": 2.3, "age": 1.0, "crs_score": 1.4}}}
    boot = {"os": pd.DataFrame({"variable": ["rfa", "age"], "proportion": [0.9, 0.66]})}
    d = model_differences(
        {"os": ["rfa", "crs_score"]}, {"os": multi}, {"age": "Age"}, truth=truth, bootstrap_frequency=boot
    ).set_index("term")
    assert d.loc["Age", "difference"] == "this run only" and d.loc["Age", "true_hr"] == 1.0
    assert d.loc["crs_score", "difference"] == "paper only" and np.isnan(d.loc["crs_score", "estimated_hr"])
    assert d.loc["rfa", "estimated_hr"] == 2.0 and d.loc["Age", "bootstrap_selection"] == 0.66
    sim = pd.DataFrame({"endpoint": ["os"], "variable": ["age"], "selection_freq": [0.025], "mc_se": [0.011]})
    d2 = model_differences({"os": ["rfa"]}, {"os": multi}, {"age": "Age"}, simulation_frequency=sim)
    note = readable(pd.DataFrame(columns=COLUMNS), d2).set_index("quantity").loc["OS: Age", "note"]
    assert "simulation study: 2.5% (Monte Carlo SE 1.1)" in note


def test_performance_comparison_with_and_without_optimism():
    perf = pd.DataFrame(
        [
            {"set": s, "measure": m, "horizon": h, "estimate": e, "lower": e - 0.05, "upper": e + 0.05}
            for s, m, h, e in (
                ("train", "c_index", np.nan, 0.73),
                ("validation", "c_index", np.nan, 0.70),
                ("train", "brier", 36, 0.15),
                ("validation", "brier", 36, 0.16),
            )
        ]
    )
    t = performance_comparison(perf)
    assert t["Optimism-corrected"].eq("not available").all()
    # measure names as bootstrap.py writes them ('c_index', 'slope', 'brier_<h>')
    opt = pd.DataFrame(
        {
            "measure": ["c_index", "brier_36"],
            "apparent": [0.73, 0.15],
            "optimism": [0.02, -0.01],
            "corrected": [0.71, 0.16],
        }
    )
    t = performance_comparison(perf, opt).set_index("Measure")
    assert t.loc["Harrell's C-index", "Optimism-corrected"] == "0.710"
    assert t.loc["Brier score at 3-year", "Optimism"] == "-0.010"
    assert t.loc["Harrell's C-index", "Validation set (95% CI)"] == "0.700 (0.650, 0.750)"


def test_selection_stability_sorted():
    freq = pd.DataFrame({"variable": ["age", "rfa"], "times_selected": [120, 950], "proportion": [0.12, 0.95]})
    t = selection_stability(freq, CANDS, selected=["rfa"])
    assert t["Variable"].tolist() == ["RFA", "Age"]
    assert t["In final model"].tolist() == ["yes", "no"]
    assert t["Inclusion frequency (%)"].tolist() == ["95.0", "12.0"]


def test_flow_summary_checks_sums():
    s = flow_summary(
        {"read": 10, "excluded": {"a": 2, "b": 1}, "included": 7},
        {"method": "random", "n": {"train": 5, "validation": 2}},
    )
    assert s["n_excluded"] == 3 and s["sets"] == {"train": 5, "validation": 2}
    with pytest.raises(ValueError):
        flow_summary({"read": 10, "excluded": {"a": 2}, "included": 7}, None)


def test_flow_summary_says_how_many_included_patients_have_imputed_values():
    flow = {"read": 10, "excluded": {"a": 2}, "included": 8}
    assert "included_label" not in flow_summary(flow, None)
    s = flow_summary(dict(flow, imputed={"cea": 2, "alb": 1}, incomplete_kept=3), None)
    assert s["included_label"] == "Patients included\n(3 with missing values imputed)"


def test_table1_footnote_counts_imputed_values():
    cohort = pd.DataFrame(
        {"cea": [1.0, np.nan, 3.0, np.nan], "alb": [40.0, 41.0, np.nan, 39.0], "age": [60, 61, 62, 63]}
    )
    cands = [{"name": "age"}, {"name": "cea", "label": "CEA"}, {"name": "alb"}]
    note = imputed_note(cohort, cands)
    assert note.startswith("Multiple imputation: 3 of 4 patients have a missing candidate value")
    assert note.endswith("Values imputed: CEA 2, alb 1.")
    assert imputed_note(cohort[["age"]], cands) == "Multiple imputation: no candidate value is missing."


def test_flow_summary_external_checks_each_cohort_against_its_set():
    dev = {"read": 10, "excluded": {"a": 2}, "included": 8}
    ext = {"read": 7, "excluded": {"b": 1, "c": 1}, "included": 5}
    split = {"method": "external", "n": {"train": 8, "validation": 5}}
    s = flow_summary(dev, split, ext)
    assert s["included"] == 8 and s["sets"] == {"train": 8, "validation": 5}
    assert s["external"] == {"read": 7, "excluded": {"b": 1, "c": 1}, "n_excluded": 2, "included": 5}
    with pytest.raises(ValueError, match="external cohort's 4 included"):
        flow_summary(dev, split, dict(ext, read=6, included=4))
    with pytest.raises(ValueError, match="no flow of the external cohort"):
        flow_summary(dev, split, None)


def test_load_nomogram_roundtrip():
    from crlmflow.model.modelfile import nomogram_json
    from crlmflow.model.nomogram import nomogram_points, survival_axes

    df = pd.DataFrame({"age": np.linspace(40, 80, 30), "rfa": [0, 1] * 15})
    nomo = nomogram_points(
        {"age": 0.03, "rfa": 0.8}, [{"name": "age", "type": "numeric"}, {"name": "rfa", "type": "binary"}], df
    )
    axes = survival_axes(nomo, {12.0: 0.95, 36.0: 0.8})
    back, back_axes = load_nomogram(nomogram_json(nomo, axes))
    assert back.points_per_unit_lp == pytest.approx(nomo.points_per_unit_lp)
    np.testing.assert_allclose(back.predictors["age"].points, nomo.predictors["age"].points)
    assert sorted(back_axes) == [12.0, 36.0]
    np.testing.assert_allclose(back_axes[36.0].total_points, axes[36.0].total_points)


def test_write_table_formats(tmp_path):
    df = pd.DataFrame({"A": ["x", "    indented|pipe"], "B": [1.5, np.nan]})
    paths = write_table(df, tmp_path / "t", title="T", footnotes=["note"])
    assert set(paths) == {"csv", "html", "md", "docx"}
    md = paths["md"].read_text()
    assert "**T**" in md and "\\|pipe" in md and "| NA |" in md and md.rstrip().endswith("note")
    assert "<caption>T</caption>" in paths["html"].read_text()
    assert pd.read_csv(paths["csv"]).shape == (2, 2)
    assert to_markdown(df).count("\n") == 4


def test_performance_comparison_bootstrap_measure_names():
    perf = pd.DataFrame(
        [
            {
                "set": "train",
                "measure": "calibration_slope",
                "horizon": np.nan,
                "estimate": 1.0,
                "lower": np.nan,
                "upper": np.nan,
            }
        ]
    )
    opt = pd.DataFrame({"measure": ["slope"], "apparent": [1.0], "optimism": [0.12], "corrected": [0.88]})
    t = performance_comparison(perf, opt)
    assert t.loc[0, "Optimism-corrected"] == "0.880"
    assert "Validation set (95% CI)" not in t.columns  # train rows only: no empty column


def test_performance_comparison_reports_no_correction_where_the_horizon_is_not_estimable():
    perf = pd.DataFrame(
        {
            "set": ["train", "train"],
            "measure": ["brier", "brier"],
            "horizon": [12.0, 36.0],
            "estimate": [np.nan, 0.18],
            "estimable": [False, True],
        }
    )
    opt = pd.DataFrame(
        {
            "measure": ["brier_12", "brier_36"],
            "apparent": [0.05, 0.18],
            "optimism": [-0.01, -0.02],
            "corrected": [0.06, 0.2],
        }
    )
    t = performance_comparison(perf, opt, measures=("brier",)).set_index("Measure")
    first, second = t.iloc[0], t.iloc[1]
    assert set(first[["Apparent (training)", "Optimism", "Optimism-corrected"]]) == {"not estimable"}
    assert second["Optimism-corrected"] == "0.200"


def test_performance_comparison_without_validation_set_has_no_validation_column():
    """split.method: none: everyone trains, so there is no column to leave empty."""
    perf = pd.DataFrame(
        [
            {"set": "train", "measure": "c_index", "horizon": np.nan, "estimate": 0.73, "lower": 0.7, "upper": 0.76},
            {"set": "train", "measure": "brier", "horizon": 36, "estimate": 0.15, "lower": 0.1, "upper": 0.2},
        ]
    )
    t = performance_comparison(perf)
    assert list(t.columns) == ["Measure", "Apparent (training)", "Optimism", "Optimism-corrected"]
    assert t["Apparent (training)"].tolist() == ["0.730", "0.150"]


def test_table1_rows_follow_the_configured_endpoints():
    """Any number of endpoints, any column names; the paper's own keep its labels."""
    eps = {
        "dfs": {"time": "months_to_relapse", "event": "relapsed", "label": "Disease-free survival"},
        "os": {"time": "os_months", "event": "os_event", "label": "Overall survival"},
    }
    rows = default_table1_rows(CANDS, eps)
    tail = [(r["var"], r["kind"], r["label"]) for r in rows[-4:]]
    assert tail == [
        ("os_months", "continuous", "OS, months"),
        ("os_event", "binary", "Death"),
        ("months_to_relapse", "continuous", "DFS, months"),
        ("relapsed", "binary", "DFS event"),
    ]
    assert not {"rfs_months", "rfs_event"} & {r.get("var") for r in rows}
    cohort = pd.DataFrame({"set": ["train"] * 4, "months_to_relapse": [1.0, 2.0, 3.0, 4.0], "relapsed": [1, 0, 1, 1]})
    one = {"dfs": eps["dfs"]}
    lg = table1_long(cohort, default_table1_rows([], one), ["train"])
    assert lg["var"].tolist() == ["months_to_relapse", "relapsed"]
    assert lg["median"].iloc[0] == 2.5 and lg["n"].iloc[1] == 3


def test_external_validation_table_keeps_the_frozen_model_as_headline():
    from crlmflow.report.exhibits import external_validation_table

    perf = pd.DataFrame(
        {
            "set": ["train", "validation", "validation", "validation"],
            "measure": ["c_index", "c_index", "calibration_slope", "brier"],
            "horizon": [np.nan, np.nan, np.nan, 36.0],
            "estimate": [0.8, 0.7, 0.85, 0.2],
            "lower": [0.75, 0.65, 0.7, 0.18],
            "upper": [0.85, 0.75, 1.0, 0.22],
        }
    )
    upd = pd.DataFrame(
        {
            "model": ["slope_recalibrated", "slope_recalibrated"],
            "measure": ["lp_coefficient", "brier"],
            "horizon": [np.nan, 36.0],
            "estimate": [0.85, 0.19],
            "lower": [0.7, 0.17],
            "upper": [1.0, 0.21],
        }
    )
    extrap = pd.DataFrame(
        [
            dict(predictor="nodes", label="Nodes", type="numeric", in_model=True, n_external=10,
                 development_min=0.0, development_max=9.0, n_below=0, n_above=3, unseen_levels="",
                 n_unseen_level=0, n_outside=3, percent_outside=30.0),
            dict(predictor="grade", label="Grade", type="factor", in_model=False, n_external=10,
                 development_min=np.nan, development_max=np.nan, n_below=0, n_above=0, unseen_levels="3",
                 n_unseen_level=2, n_outside=2, percent_outside=20.0),
        ]
    )  # fmt: skip
    t, notes = external_validation_table(extrap, upd, perf)
    assert t["Section"].iloc[0] == "Frozen model: external validation"
    assert t["Value"].iloc[0] == "0.700 (0.650, 0.750)"  # the external C, not the training one
    assert "Updated: slope recalibrated (apparent)" in set(t["Section"])
    out = t[t["Section"].str.startswith("External patients")].set_index("Quantity")["Value"]
    assert out["Nodes (in the model)"] == "3 (30.0%) of 10; 0 below the development minimum, 3 above its maximum"
    assert "levels never seen in development: 3 (2 patients)" in out["Grade"]
    assert any("apparent" in n for n in notes)


def test_docx_table_holds_the_csv_numbers_in_three_line_style(tmp_path):
    import docx

    df = pd.DataFrame(
        {"Variable": ["Age, years", "  ≥65", "CA19-9"], "HR (95% CI)": ["1.02 (1.01, 1.04)", np.nan, "1.001"]}
    )
    paths = write_table(df, tmp_path / "t", title="Table 9. Test", footnotes=["HR, hazard ratio."])
    doc = docx.Document(paths["docx"])
    (table,) = doc.tables
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0] == ["Variable", "HR (95% CI)"]
    csv = pd.read_csv(paths["csv"], keep_default_na=False)
    assert cells[1:] == [[v.strip() if v else "NA" for v in rec] for rec in csv.astype(str).itertuples(index=False)]
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "Table 9. Test" and texts[-1] == "HR, hazard ratio."
    xml = paths["docx"].read_bytes()
    # same table, same bytes (fixed zip dates and core properties)
    again = write_table(df, tmp_path / "u", title="Table 9. Test", footnotes=["HR, hazard ratio."])
    assert again["docx"].read_bytes() == xml
    import zipfile

    body = zipfile.ZipFile(paths["docx"]).read("word/document.xml").decode()
    assert body.count('w:sz="12"') == 2 * 2 and body.count('w:sz="6"') == 2  # heavy top/bottom, light under header


def test_docx_spanning_header(tmp_path):
    import docx

    from crlmflow.report.exhibits.docx import write_docx

    df = pd.DataFrame([["Age", "1.1", "0.01", "1.2", "0.02"]], columns=["Variable", "HR", "p", "HR ", "p "])
    path = write_docx(df, tmp_path / "t.docx", header_groups=[("", 1), ("OS", 2), ("RFS", 2)])
    table = docx.Document(path).tables[0]
    assert [c.text for c in table.rows[0].cells] == ["", "OS", "OS", "RFS", "RFS"]
    with pytest.raises(ValueError, match="span 4 columns, the table has 5"):
        write_docx(df, tmp_path / "u.docx", header_groups=[("", 1), ("OS", 3)])


def test_hr_display_scale_applies_to_table2_and_forest():
    from crlmflow.report.exhibits import table2
    from crlmflow.report.tables import forest_table

    cands = [
        {"name": "ca19_9", "type": "numeric", "label": "CA19-9", "unit": "U/mL", "hr_per": 100},
        {"name": "age", "type": "numeric", "label": "Age", "unit": "years"},
        {"name": "rfa", "type": "binary", "label": "RFA"},
    ]
    beta = np.array([0.0004, 0.02, 0.5])
    multi = pd.DataFrame(
        {
            "term": ["ca19_9", "age", "rfa"],
            "hr": np.exp(beta),
            "hr_lower": np.exp(beta - 0.0002),
            "hr_upper": np.exp(beta + 0.0002),
            "p": [0.01, 0.02, 0.03],
            "selected": [1, 1, 1],
        }
    )
    f = forest_table(multi, cands)
    assert list(f["label"]) == ["CA19-9 (per 100 U/mL)", "Age (per year)", "RFA (yes vs no)"]
    assert f.loc[0, "hr"] == pytest.approx(np.exp(0.04)) and f.loc[1, "hr"] == pytest.approx(np.exp(0.02))
    uni = multi.drop(columns="selected")
    t2 = table2({"os": uni}, {"os": multi}, cands)
    assert t2.loc[0, "Variable"] == "CA19-9 (per 100 U/mL)" and t2.loc[1, "Variable"] == "Age"
    assert t2.loc[0, "OS univariable HR (95% CI)"].startswith(f"{np.exp(0.04):.3f}")


def test_table_headline_precedes_the_table_and_footnotes_follow(tmp_path):
    df = pd.DataFrame({"a": [1]})
    md = to_markdown(df, title="T", footnotes=["foot"], headline=["head 1", "head 2"])
    assert md.index("head 1") < md.index("head 2") < md.index("| a |") < md.index("foot")
    paths = write_table(df, tmp_path / "t", formats=("html", "md"), headline=["top line"], footnotes=["last note"])
    html_text = paths["html"].read_text(encoding="utf-8")
    assert html_text.index("top line") < html_text.index("<table>") < html_text.index("last note")


def test_table2_ph_footnote_names_terms_and_global_test_below_005():
    from crlmflow.report.exhibits import ph_footnote

    tests = {
        "os": pd.DataFrame({"term": ["age", "GLOBAL"], "chisq": [1.0, 1.0], "df": [1, 1], "p": [0.5, 0.4]}),
        "rfs": pd.DataFrame(
            {"term": ["bmi", "rfa", "GLOBAL"], "chisq": [9, 1, 9], "df": [1, 1, 2], "p": [0.0015, 0.3, 0.029]}
        ),
    }
    note = ph_footnote(tests, {"os": "OS", "rfs": "RFS"}, {"bmi": "BMI"})
    assert "RFS: BMI p = 0.002, global test p = 0.029" in note and "OS:" not in note
    assert ph_footnote({"os": tests["os"]}, {"os": "OS"}) is None
