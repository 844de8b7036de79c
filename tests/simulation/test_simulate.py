"""Tests of the calibrated synthetic cohort: mechanism, raw-export generator and calibration
(crlmflow.simulation.mechanism / generator / calibration)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from crlmflow.data.cleaning import clean
from crlmflow.data.columns import EXCLUSION_REASONS, RAW_COLUMNS
from crlmflow.pipeline.streams import stream
from crlmflow.simulation.calibration import CALIBRATION_TARGETS, analysis_cohort, calibration_report
from crlmflow.simulation.generator import MISSABLE_COLUMNS, simulate_cohort, write_ground_truth
from crlmflow.simulation.mechanism import TRUE_LOG_HR_OS, TRUE_LOG_HR_RFS

DATE_COLS = [c for c, s in RAW_COLUMNS.items() if s["dtype"] == "date"]
REQUIRED = [c for c, s in RAW_COLUMNS.items() if s["required"]]


@pytest.fixture(scope="module")
def small():
    return simulate_cohort()


@pytest.fixture(scope="module")
def large():
    # 100,000 eligible patients: also checks that a large cohort generates (no timing assert)
    return simulate_cohort(100_000, seed=7)


@pytest.fixture(scope="module")
def report():
    return calibration_report(n_eligible=150_000, seed=2024)


def _criteria(raw: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per exclusion reason (True = fails it)."""
    missing = (raw[REQUIRED].isna() | raw[REQUIRED].eq("")).any(axis=1)
    return pd.DataFrame(
        {
            EXCLUSION_REASONS[0]: raw["metastasis_timing"] == "metachronous",
            EXCLUSION_REASONS[1]: raw["extrahepatic_metastases"] == 1,
            EXCLUSION_REASONS[2]: raw["ned_achieved"] == 0,
            EXCLUSION_REASONS[3]: raw["chemotherapy"] == "none",
            EXCLUSION_REASONS[4]: missing,
        }
    )


def _dates(raw):
    return {c: pd.to_datetime(raw[c], format="%Y-%m-%d") for c in DATE_COLS}


# ---------------------------------------------------------------------- shape and types
def test_columns_exactly_raw_columns_in_order(small):
    raw, _ = small
    assert list(raw.columns) == list(RAW_COLUMNS)


def test_values_parse_and_respect_the_contract(large):
    raw, _ = large
    assert raw["patient_id"].is_unique
    assert raw["patient_id"].str.fullmatch(r"P\d{6}").all()
    for col, spec in RAW_COLUMNS.items():
        s = raw[col]
        if spec["dtype"] == "date":
            parsed = pd.to_datetime(s, format="%Y-%m-%d")  # raises on a malformed date
            assert (parsed.notna() == s.notna()).all()
        elif spec["dtype"] in ("float", "int"):
            v = pd.to_numeric(s).dropna()
            if "range" in spec:
                lo, hi = spec["range"]
                assert v.between(lo, hi).all(), col
            if "levels" in spec:
                assert set(v.unique()) <= set(spec["levels"]), col
            if spec["dtype"] == "int":
                assert (v == np.round(v)).all(), col
        elif spec["dtype"] == "binary":
            assert set(s.unique()) <= {0, 1}, col
        elif spec["dtype"] == "category":
            assert set(s.dropna().unique()) <= set(spec["levels"]), col
    # optional columns are complete; only "missing required data" rows have gaps
    assert raw[[c for c, s in RAW_COLUMNS.items() if not s["required"] and s["dtype"] != "date"]].notna().all().all()


def test_lab_rounding_and_internal_constraints(large):
    raw, _ = large
    ok = raw.dropna(subset=["wbc", "neut", "tbil", "dbil"])
    assert (ok["neut"] < ok["wbc"]).all()
    assert (ok["dbil"] < ok["tbil"]).all()
    for col, dec in {
        "wbc": 2,
        "neut": 2,
        "lymph": 2,
        "cea": 2,
        "ca19_9": 2,
        "d_dimer": 2,
        "tbil": 1,
        "dbil": 1,
        "alb": 1,
        "hgb": 0,
        "plt": 0,
        "alt": 0,
        "ast": 0,
        "age": 0,
    }.items():
        v = raw[col].dropna().to_numpy()
        assert np.allclose(v, np.round(v, dec)), col
    # labs are correlated as intended
    lab = raw[["alt", "ast", "neut", "wbc", "plt"]].dropna()
    rho = np.log(lab).corr()
    assert rho.loc["alt", "ast"] > 0.5
    assert rho.loc["neut", "wbc"] > 0.7
    assert rho.loc["plt", "neut"] > 0.2


def test_dates_are_consistent_for_every_row(large):
    raw, _ = large
    d = _dates(raw)
    adm, surg, dis = d["admission_date"], d["surgery_date"], d["discharge_date"]
    rec, death, last = d["recurrence_date"], d["death_date"], d["last_followup_date"]
    both = adm.notna() & dis.notna()
    assert (adm[adm.notna()] <= surg[adm.notna()]).all()
    assert (surg[dis.notna()] <= dis[dis.notna()]).all()
    assert ((dis - adm)[both].dt.days >= 5).all()
    assert surg.between(pd.Timestamp("2009-12-01"), pd.Timestamp("2020-12-31")).all()
    assert (rec[rec.notna()] > surg[rec.notna()]).all()
    assert (death[death.notna()] > surg[death.notna()]).all()
    has_both = rec.notna() & death.notna()
    assert (rec[has_both] <= death[has_both]).all()
    assert (last >= surg).all() and (last <= pd.Timestamp("2023-04-30")).all()
    assert (last[death.notna()] == death[death.notna()]).all()
    assert (last[rec.notna()] >= rec[rec.notna()]).all()
    assert (last[dis.notna()] >= dis[dis.notna()]).all()
    a = analysis_cohort(raw)
    assert (a["os_months"] > 0).all() and (a["rfs_months"] > 0).all()
    assert (a["rfs_months"] <= a["os_months"]).all()


# ---------------------------------------------------------------------- eligibility
@pytest.mark.parametrize("which", ["small", "large"])
def test_exactly_n_eligible_and_one_reason_per_excluded(which, request):
    raw, truth = request.getfixturevalue(which)
    crit = _criteria(raw)
    n_fail = crit.sum(axis=1)
    assert (n_fail == 0).sum() == truth["n_eligible"]
    assert n_fail.max() == 1  # every excluded patient fails exactly one criterion
    assert (n_fail == 1).sum() == truth["n_excluded"]
    got = {r: int(crit[r].sum()) for r in EXCLUSION_REASONS}
    assert got == truth["excluded_by_reason"]
    assert all(v > 0 for v in got.values())
    assert len(analysis_cohort(raw)) == truth["n_eligible"]


def test_the_workflow_cleaner_excludes_exactly_the_designed_patients(small):
    raw, truth = small
    result = clean(raw, source="synthetic")
    assert result.flow["excluded"] == truth["excluded_by_reason"]
    assert result.flow["included"] == truth["n_eligible"]


def test_default_cohort_counts(small):
    raw, truth = small
    assert truth["n_eligible"] == 389
    assert 60 <= truth["n_excluded"] <= 120
    assert len(raw) == 389 + truth["n_excluded"]


def test_missing_data_rows_have_exactly_one_gap_in_a_missable_column(small):
    raw, _ = small
    crit = _criteria(raw)
    rows = raw[crit["missing required data"]]
    gaps = rows[REQUIRED].isna()
    assert (gaps.sum(axis=1) == 1).all()
    assert set(gaps.columns[gaps.any()]) <= set(MISSABLE_COLUMNS)


def test_rows_are_shuffled(small):
    raw, _ = small
    excluded = _criteria(raw).any(axis=1).to_numpy()
    idx = np.flatnonzero(excluded)
    assert idx.min() < len(raw) // 2 < idx.max()  # excluded rows spread through the file


def test_eligible_patients_are_synchronous_with_crs_1_to_5(large):
    a = analysis_cohort(large[0])
    assert (a["metastasis_timing"] == "synchronous").all()
    assert (a["disease_free_interval_months"] == 0).all()
    assert a["crs_score"].between(1, 5).all()
    assert set(a["chemo_group"].unique()) == {"full_course", "neoadjuvant_only", "adjuvant_only"}


# ---------------------------------------------------------------------- determinism, case mix, truth
def test_same_seed_identical_different_seed_different():
    a, ta = simulate_cohort(300, seed=11)
    b, tb = simulate_cohort(300, seed=11)
    c, _ = simulate_cohort(300, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert ta == tb
    assert not a.equals(c)


def test_draws_come_from_the_named_stream():
    """The first draws of a cohort are the copula normals of stream(seed, "simulate_cohort"):
    any other stream (e.g. the split's) gives another cohort."""
    from crlmflow.simulation import mechanism

    p = mechanism.default_params()
    x, _ = mechanism.draw_covariates(300, stream(11, "simulate_cohort"), p, mechanism.parse_case_mix(None))
    raw, _ = simulate_cohort(300, seed=11, excluded_fraction=0.0)
    expected = pd.DataFrame({"age": x["age"], "cea": x["cea"], "sex": x["sex"]})
    got = raw[["age", "cea", "sex"]]

    # the export shuffles rows: compare as multisets of rows
    def key(d):
        return d.astype(str).agg("|".join, axis=1).sort_values().to_list()

    assert key(got) == key(expected)


def test_case_mix_shifts_crs_high_and_r0_in_the_stated_direction():
    base = analysis_cohort(simulate_cohort(40_000, seed=3)[0])
    up = analysis_cohort(simulate_cohort(40_000, seed=3, case_mix={"crs_high_shift": 0.5})[0])
    down = analysis_cohort(simulate_cohort(40_000, seed=3, case_mix={"crs_high_shift": -0.5})[0])
    low_r0 = analysis_cohort(simulate_cohort(40_000, seed=3, case_mix={"r0_rate": 0.60})[0])

    def high(a):
        return (a["crs_score"] >= 3).mean()

    assert high(up) > high(base) + 0.10
    assert high(down) < high(base) - 0.10
    assert abs(low_r0["r0_resection"].mean() - 0.60) < 0.015
    assert abs(base["r0_resection"].mean() - 0.766) < 0.015
    # the shifted centre has fewer R0 resections (R0 depends on the CRS items)
    assert up["r0_resection"].mean() < base["r0_resection"].mean()
    with pytest.raises(ValueError):
        simulate_cohort(50, case_mix={"nonsense": 1})


def test_ground_truth_is_json_serialisable(small, tmp_path):
    _, truth = small
    text = json.dumps(truth)
    back = json.loads(text)
    assert back["os"]["log_hr"]["crs_score"] == pytest.approx(np.log(1.424))
    assert back["rfs"]["log_hr"]["rfa"] == pytest.approx(np.log(2.160))
    assert back["seed"] == 20250417 and back["n_eligible"] == 389
    assert 0.1 < back["rfs"]["cure_fraction_expected_eligible"] < 0.35
    for key in ("description", "case_mix", "accrual", "followup", "dependence"):
        assert key in back
    write_ground_truth(truth, tmp_path / "truth.json")
    assert json.loads((tmp_path / "truth.json").read_text()) == back


def test_followup_cutoff_is_respected():
    raw, truth = simulate_cohort(2000, seed=5, followup_cutoff="2022-06-30")
    last = pd.to_datetime(raw["last_followup_date"], format="%Y-%m-%d")
    assert last.max() <= pd.Timestamp("2022-06-30")
    assert truth["followup"]["cutoff"] == "2022-06-30"


# ---------------------------------------------------------------------- calibration
def test_report_has_the_documented_columns(report):
    for col in ("quantity", "paper", "synthetic", "difference", "tolerance", "within_tolerance"):
        assert col in report.columns
    assert list(report["quantity"]) == [t[0] for t in CALIBRATION_TARGETS]


@pytest.mark.parametrize("quantity", [t[0] for t in CALIBRATION_TARGETS])
def test_calibration_within_tolerance(report, quantity):
    row = report.set_index("quantity").loc[quantity]
    assert row["within_tolerance"], (
        f"{quantity}: paper {row['paper']}, synthetic {row['synthetic']}, "
        f"tolerance {row['tolerance']} ({row['tolerance_kind']}); {row['note']}"
    )


def test_cox_recovers_the_true_hazard_ratios():
    """The paper's multivariable models, refitted on 20,000 synthetic patients (lifelines)."""
    from lifelines import CoxPHFitter

    a = analysis_cohort(simulate_cohort(20_000, seed=31, excluded_fraction=0.0)[0])
    for ep, truth in (("os", TRUE_LOG_HR_OS), ("rfs", TRUE_LOG_HR_RFS)):
        cols = [k for k in truth if k != "kras_mutant"]
        cph = CoxPHFitter().fit(a[cols + [f"{ep}_months", f"{ep}_event"]], f"{ep}_months", f"{ep}_event")
        for k in cols:
            # 4 standard errors plus a small allowance for the non-collapsibility of the
            # omitted KRAS effect and the dependent censoring of RFS by death
            assert abs(cph.params_[k] - truth[k]) < 4 * cph.standard_errors_[k] + 0.03, (ep, k)


def test_deaths_mostly_follow_recurrence(large):
    a = analysis_cohort(large[0])
    dead = a["os_event"] == 1
    frac = a.loc[dead, "rfs_event"].mean()
    assert 0.80 < frac < 0.98
