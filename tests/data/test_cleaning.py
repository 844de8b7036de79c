"""Schema validation, eligibility, derived times and the missing-value policy (crlmflow.data.cleaning)."""

from __future__ import annotations

import pandas as pd
import pytest

from crlmflow.data.cleaning import CLEAN_COLUMNS, clean, clean_times, validate_raw
from crlmflow.data.columns import DAYS_PER_MONTH, EXCLUSION_REASONS, RAW_COLUMNS
from crlmflow.data.errors import InputError
from crlmflow.data.reading import read_table

BASE = dict(
    patient_id="P001",
    sex="F",
    age="61",
    bmi="23.5",
    admission_date="2019-03-01",
    surgery_date="2019-03-05",
    discharge_date="2019-03-15",
    recurrence_date=None,
    death_date=None,
    last_followup_date="2021-03-05",
    ca19_9="10.2",
    cea="5.1",
    wbc="6.2",
    neut="3.6",
    lymph="1.8",
    hgb="131",
    plt="216",
    alt="20",
    ast="22",
    tbil="9.3",
    dbil="3.5",
    alb="42.2",
    d_dimer="0.39",
    r0_resection="1",
    rfa="0",
    chemotherapy="full_course",
    asa="2",
    primary_node_positive="1",
    metastasis_timing="synchronous",
    disease_free_interval_months="0",
    n_liver_metastases="2",
    largest_metastasis_cm="3.2",
    extrahepatic_metastases="0",
    ned_achieved="1",
    kras="mutant",
    primary_site="colon",
    laparoscopic="0",
)
TIME_COLS = ["os_months", "os_event", "rfs_months", "rfs_event", "hospital_days"]


def raw(*rows: dict) -> pd.DataFrame:
    """A text frame as read_table gives it: one row per dict, overriding BASE."""
    recs = []
    for i, r in enumerate(rows):
        rec = dict(BASE, patient_id=f"P{i + 1:03d}")
        rec.update(r)
        recs.append(rec)
    df = pd.DataFrame(recs, columns=list(BASE)).astype(object)
    return df.where(df.notna(), pd.NA)


def raw_times(*rows: dict) -> pd.DataFrame:
    base = {c: v for c, v in BASE.items() if RAW_COLUMNS[c]["dtype"] != "date"}
    base.update(os_months="24.5", os_event="0", rfs_months="12.25", rfs_event="1", hospital_days="10")
    recs = []
    for i, r in enumerate(rows):
        rec = dict(base, patient_id=f"P{i + 1:03d}")
        rec.update(r)
        recs.append(rec)
    return pd.DataFrame(recs, columns=list(base)).astype(object)


def errors_of(df, fn=validate_raw, **kw) -> list[str]:
    with pytest.raises(InputError) as ei:
        if fn is validate_raw:
            validate_raw(df, "cohort.csv", **kw)
        else:
            fn(df, source="cohort.csv", **kw)
    return str(ei.value).splitlines()


# ------------------------------------------------------------------ schema errors


def test_valid_frame_passes():
    validate_raw(raw({}, {}), "cohort.csv")


def test_missing_required_columns_one_problem():
    df = raw({}).drop(columns=["age", "cea"])
    lines = errors_of(df)
    assert lines == [
        "cohort.csv: missing required columns 'age', 'cea' (expected the columns of the 'dates' "
        "data dictionary; map local names with the column mapping)"
    ]


def test_missing_optional_column_and_extra_columns_are_fine():
    df = raw({}).drop(columns=["kras"])
    df["hospital_ward"] = "B"
    res = clean(df)
    assert res.cohort["kras"].isna().all() and "hospital_ward" not in res.cohort


def test_non_numeric_lab_value():
    lines = errors_of(raw({}, {"wbc": "abc"}))
    assert lines[1] == "cohort.csv, line 3 (patient P002), column 'wbc': found 'abc', expected a number"


def test_decimal_comma_hint():
    lines = errors_of(raw({"cea": "4,5"}))
    assert lines[1].endswith("column 'cea': found '4,5', expected a number (use '.' as the decimal point)")


def test_value_out_of_range():
    lines = errors_of(raw({}, {}, {"age": "150"}))
    assert lines[1] == (
        "cohort.csv, line 4 (patient P003), column 'age': found '150', expected a number between 18 and 100 years"
    )


def test_binary_int_and_category_errors():
    lines = errors_of(raw({"rfa": "yes", "asa": "2.5", "sex": "male", "metastasis_timing": "sync"}))
    text = "\n".join(lines)
    assert "column 'rfa': found 'yes', expected 0 or 1" in text
    assert "column 'asa': found '2.5', expected a whole number" in text
    assert "column 'sex': found 'male', expected one of 'F', 'M' (case-insensitive)" in text
    assert "column 'metastasis_timing': found 'sync', expected one of 'synchronous', 'metachronous'" in text
    assert lines[0].startswith("4 input problems in cohort.csv")


def test_binary_coded_2():
    lines = errors_of(raw({"r0_resection": "2"}))
    assert lines[1].endswith("column 'r0_resection': found '2', expected 0 or 1")


def test_unknown_asa_level():
    assert errors_of(raw({"asa": "5"}))[1].endswith("column 'asa': found '5', expected one of 1, 2, 3, 4")


def test_bad_dates():
    lines = errors_of(raw({"surgery_date": "05/03/2019"}, {"discharge_date": "2019-02-30"}))
    assert lines[1] == (
        "cohort.csv, line 2 (patient P001), column 'surgery_date': found '05/03/2019', "
        "expected a date written as YYYY-MM-DD (e.g. 2019-03-27)"
    )
    assert lines[2].endswith(
        "column 'discharge_date': found '2019-02-30', expected a real calendar date written as YYYY-MM-DD"
    )


def test_death_before_surgery():
    lines = errors_of(raw({}, {"death_date": "2019-01-10", "last_followup_date": "2019-01-10"}))
    assert lines[1] == (
        "cohort.csv, line 3 (patient P002), column 'death_date': found '2019-01-10', "
        "expected a date after surgery_date (2019-03-05); times are counted from surgery "
        "and must be positive"
    )


def test_recurrence_after_death():
    lines = errors_of(
        raw({"recurrence_date": "2020-06-01", "death_date": "2020-05-01", "last_followup_date": "2020-06-01"})
    )
    assert lines[1] == (
        "cohort.csv, line 2 (patient P001), column 'recurrence_date': found '2020-06-01', "
        "expected a date on or before death_date (2020-05-01)"
    )


def test_other_date_orders():
    text = "\n".join(
        errors_of(
            raw(
                {"admission_date": "2019-03-06"},
                {"discharge_date": "2019-03-04"},
                {"death_date": "2021-04-01"},  # after last follow-up 2021-03-05
                {"last_followup_date": "2019-03-05"},  # zero follow-up
            )
        )
    )
    assert (
        "line 2 (patient P001), column 'admission_date': found '2019-03-06', expected a date on or before surgery_date (2019-03-05)"
        in text
    )
    assert (
        "line 3 (patient P002), column 'discharge_date': found '2019-03-04', expected a date on or after surgery_date"
        in text
    )
    assert (
        "line 4 (patient P003), column 'death_date': found '2021-04-01', expected a date on or before last_followup_date (2021-03-05)"
        in text
    )
    assert (
        "line 5 (patient P004), column 'last_followup_date': found '2019-03-05', expected a date after surgery_date"
        in text
    )


def test_duplicate_id_reports_both_rows():
    df = raw({}, {}, {})
    df.loc[2, "patient_id"] = "P001"
    lines = errors_of(df)
    assert lines[1] == (
        "cohort.csv, line 2 (patient P001), column 'patient_id': found 'P001', expected a "
        "unique patient_id (the same identifier is on line 4)"
    )
    assert lines[2] == (
        "cohort.csv, line 4 (patient P001), column 'patient_id': found 'P001', expected a "
        "unique patient_id (the same identifier is on line 2)"
    )


def test_empty_patient_id_is_an_error():
    assert "expected a patient identifier" in errors_of(raw({"patient_id": pd.NA}, {}))[1]


def test_typed_input_gives_the_same_cohort():
    text = raw({}, {"recurrence_date": "2019-09-05", "death_date": "2020-03-05", "last_followup_date": "2020-03-05"})
    typed = text.copy()
    for c, s in RAW_COLUMNS.items():
        if s["dtype"] == "date":
            typed[c] = pd.to_datetime(typed[c])
        elif s["dtype"] in ("float", "int", "binary"):
            typed[c] = pd.to_numeric(typed[c])
    pd.testing.assert_frame_equal(clean(typed).cohort, clean(text).cohort)
    typed.loc[0, "age"] = 150.0
    assert errors_of(typed)[1].endswith("column 'age': found '150', expected a number between 18 and 100 years")


def test_row_numbers_follow_the_file(tmp_path):
    df = raw({}, {"hgb": "high"})
    p = tmp_path / "my_export.csv"
    text = df.to_csv(index=False, lineterminator="\n")
    lines = text.splitlines()
    p.write_text("\n".join(lines[:2] + [""] + lines[2:]) + "\n", encoding="utf-8")  # blank line 3
    with pytest.raises(InputError) as ei:
        clean(read_table(p))
    assert "my_export.csv, line 4 (patient P002), column 'hgb': found 'high', expected a number" in str(ei.value)


def test_all_problems_collected_and_capped():
    df = raw(*[{"wbc": "x", "plt": "y"} for _ in range(40)])
    with pytest.raises(InputError) as ei:
        validate_raw(df, "cohort.csv")
    err = ei.value
    assert err.total == 80
    lines = str(err).splitlines()
    assert lines[0].startswith("80 input problems")
    assert lines[-1] == "... and 30 more problems not shown"


def test_followup_cutoff_rejects_surgery_after_cutoff():
    lines = errors_of(raw({"surgery_date": "2019-03-05"}), fn=clean, followup_cutoff="2019-03-01")
    assert (
        "column 'surgery_date': found '2019-03-05', expected a date before the follow-up cutoff (2019-03-01)"
        in lines[1]
    )


# ------------------------------------------------------------------ times format


def test_times_format_event_coded_2():
    lines = errors_of(raw_times({}, {"os_event": "2"}), fn=clean_times)
    assert lines[1] == "cohort.csv, line 3 (patient P002), column 'os_event': found '2', expected 0 or 1"


@pytest.mark.parametrize("value", ["-3", "0"])
def test_times_format_nonpositive_time(value):
    lines = errors_of(raw_times({"os_months": value, "rfs_months": "-5"}), fn=clean_times)
    text = "\n".join(lines)
    assert (
        f"cohort.csv, line 2 (patient P001), column 'os_months': found '{value}', expected a positive "
        "number (> 0 and <= 1200 months); a survival time must be greater than zero"
    ) in text


def test_times_format_rfs_longer_than_os():
    lines = errors_of(raw_times({"os_months": "10", "rfs_months": "12"}), fn=clean_times)
    assert lines[1].endswith(
        "column 'rfs_months': found '12', expected at most os_months (10); "
        "recurrence-free survival cannot exceed overall survival"
    )


def test_times_format_missing_columns_and_mapping():
    df = raw_times({}).rename(columns={"os_months": "OS (months)", "os_event": "dead"})
    lines = errors_of(df, fn=clean_times)
    assert "missing required columns 'os_months', 'os_event'" in lines[0]
    res = clean_times(df, column_mapping={"OS (months)": "os_months", "dead": "os_event"})
    row = res.cohort.iloc[0]
    assert (row.os_months, row.os_event, row.rfs_months, row.rfs_event, row.hospital_days) == (24.5, 0, 12.25, 1, 10.0)
    assert list(res.cohort.columns) == CLEAN_COLUMNS


def test_times_format_hospital_days_optional():
    df = raw_times({}).drop(columns=["hospital_days"])
    assert clean_times(df).cohort["hospital_days"].isna().all()
    lines = errors_of(df, fn=clean_times, candidates=["hospital_days", "age"])
    assert lines[0].startswith("cohort.csv: all 1 patients were excluded (missing predictor: hospital_days: 1)")


# ------------------------------------------------------------------ exclusions and flow


def test_each_exclusion_reason_and_row_accounting():
    df = raw(
        {},  # P001 included
        {"metastasis_timing": "metachronous", "extrahepatic_metastases": "1"},  # P002 first reason wins
        {"extrahepatic_metastases": "1", "ned_achieved": "0"},  # P003
        {"ned_achieved": "0", "chemotherapy": "none"},  # P004
        {"chemotherapy": "none", "cea": pd.NA},  # P005
        {"cea": pd.NA},  # P006 missing required
        {"metastasis_timing": pd.NA},  # P007 missing required
        {"kras": pd.NA, "laparoscopic": pd.NA},  # P008 optional NA: kept
        {"chemotherapy": "neoadjuvant_only"},  # P009 included
    )
    res = clean(df)
    assert res.flow == {
        "read": 9,
        "excluded": {
            "metachronous liver metastases": 1,
            "extrahepatic metastases": 1,
            "NED not achieved": 1,
            "no systemic chemotherapy": 1,
            "missing required data": 2,
        },
        "included": 3,
    }
    assert list(res.flow["excluded"]) == EXCLUSION_REASONS
    assert res.flow["read"] == res.flow["included"] + sum(res.flow["excluded"].values())
    assert res.exclusions.to_dict("records") == [
        {"patient_id": "P002", "reason": "metachronous liver metastases"},
        {"patient_id": "P003", "reason": "extrahepatic metastases"},
        {"patient_id": "P004", "reason": "NED not achieved"},
        {"patient_id": "P005", "reason": "no systemic chemotherapy"},
        {"patient_id": "P006", "reason": "missing required data"},
        {"patient_id": "P007", "reason": "missing required data"},
    ]
    assert res.cohort["patient_id"].tolist() == ["P001", "P008", "P009"]
    p8 = res.cohort.set_index("patient_id").loc["P008"]
    assert pd.isna(p8.kras) and pd.isna(p8.laparoscopic)
    assert list(res.cohort.columns) == CLEAN_COLUMNS


def test_all_patients_excluded():
    df = raw({"metastasis_timing": "metachronous"}, {"chemotherapy": "none"}, {"chemotherapy": "none"})
    lines = errors_of(df, fn=clean)
    assert lines == [
        "cohort.csv: all 3 patients were excluded (metachronous liver metastases: 1, "
        "no systemic chemotherapy: 2); expected at least one eligible patient (check the "
        "eligibility columns and the column mapping)"
    ]


# ------------------------------------------------------------------ derived variables


def test_derived_times_hand_computed():
    df = raw(
        # alive, no recurrence: OS = RFS = 2019-03-05 -> 2021-03-05 = 731 days, censored
        {"sex": "M", "chemotherapy": "adjuvant_only"},
        # recurrence 2019-09-05 (184 d) then death 2020-03-05 (366 d)
        {"recurrence_date": "2019-09-05", "death_date": "2020-03-05", "last_followup_date": "2020-03-05"},
        # death without recurrence at 2020-03-05 (366 d), follow-up recorded later
        {"death_date": "2020-03-05", "last_followup_date": "2020-04-01"},
    )
    c = clean(df).cohort.set_index("patient_id")
    assert c.loc["P001", "os_months"] == pytest.approx(731 / DAYS_PER_MONTH)
    assert c.loc["P001", ["os_event", "rfs_event"]].tolist() == [0, 0]
    assert c.loc["P001", "rfs_months"] == pytest.approx(731 / 30.4375)
    assert c.loc["P002", "os_months"] == pytest.approx(366 / 30.4375)
    assert c.loc["P002", "rfs_months"] == pytest.approx(184 / 30.4375)
    assert c.loc["P002", ["os_event", "rfs_event"]].tolist() == [1, 1]
    assert c.loc["P003", "os_months"] == pytest.approx(366 / 30.4375)
    assert c.loc["P003", "rfs_months"] == pytest.approx(366 / 30.4375)  # censored at death
    assert c.loc["P003", ["os_event", "rfs_event"]].tolist() == [1, 0]
    assert c["hospital_days"].tolist() == [14.0, 14.0, 14.0]
    assert c["male"].tolist() == [1, 0, 0]
    assert c.loc["P001", ["chemo_full_course", "chemo_neoadjuvant_only", "chemo_adjuvant_only"]].tolist() == [0, 0, 1]
    assert c.loc["P002", ["chemo_full_course", "chemo_neoadjuvant_only", "chemo_adjuvant_only"]].tolist() == [1, 0, 0]
    assert c["chemo_group"].tolist() == ["adjuvant_only", "full_course", "full_course"]
    assert c["os_event"].dtype == "int64" and c["age"].dtype == "float64"


def test_death_censors_rfs_switch():
    df = raw(
        {"death_date": "2020-03-05", "last_followup_date": "2020-04-01"},
        {"recurrence_date": "2019-09-05", "death_date": "2020-03-05", "last_followup_date": "2020-03-05"},
    )
    on = clean(df, death_censors_rfs=True).cohort
    off = clean(df, death_censors_rfs=False).cohort
    assert on["rfs_event"].tolist() == [0, 1]
    assert off["rfs_event"].tolist() == [1, 1]  # death without recurrence is an RFS event
    assert on["rfs_months"].tolist() == off["rfs_months"].tolist()
    assert off["rfs_months"].iloc[0] == pytest.approx(366 / 30.4375)


def test_followup_cutoff_censors():
    df = raw(
        {"recurrence_date": "2020-06-01", "death_date": "2021-01-01", "last_followup_date": "2021-02-01"},
        {"last_followup_date": "2021-02-01"},
    )
    c = clean(df, followup_cutoff="2020-03-05").cohort
    # everything after the cutoff is ignored: censored at 2020-03-05 (366 days)
    assert c["os_months"].tolist() == pytest.approx([366 / 30.4375] * 2)
    assert c["rfs_months"].tolist() == pytest.approx([366 / 30.4375] * 2)
    assert c[["os_event", "rfs_event"]].to_numpy().sum() == 0
    c2 = clean(df, followup_cutoff="2020-12-31").cohort
    assert c2["rfs_event"].tolist() == [1, 0] and c2["os_event"].tolist() == [0, 0]


# ------------------------------------------------------------------ missing-value policy


def test_missing_predictor_complete_case():
    df = raw({}, {"kras": pd.NA}, {"laparoscopic": pd.NA, "kras": pd.NA}, {"cea": pd.NA, "kras": pd.NA})
    res = clean(df, candidates=[{"name": "age", "type": "numeric"}, "kras", "laparoscopic", "nlr", "crs_score"])
    assert res.flow["excluded"]["missing required data"] == 1  # required first
    assert res.flow["excluded"]["missing predictor: kras"] == 2
    assert "missing predictor: laparoscopic" not in res.flow["excluded"]  # only reasons that occurred
    assert list(res.flow["excluded"])[: len(EXCLUSION_REASONS)] == EXCLUSION_REASONS
    assert res.flow["included"] == 1 and res.flow["read"] == 4
    assert res.exclusions["reason"].tolist() == [
        "missing predictor: kras",
        "missing predictor: kras",
        "missing required data",
    ]
    # without candidates nothing optional excludes anyone
    assert clean(df).flow["included"] == 3


def test_missing_predictor_error_policy():
    df = raw({}, {"kras": pd.NA})
    lines = errors_of(df, fn=clean, candidates=["kras"], missing_predictors="error")
    assert lines[1] == (
        "cohort.csv, line 3 (patient P002), column 'kras': found '', expected a value: 'kras' is "
        "a candidate predictor and missing_predictors is 'error' (use 'complete_case' to "
        "exclude such patients)"
    )


def test_missing_predictor_multiple_imputation_keeps_and_counts():
    df = raw({}, {"kras": pd.NA}, {"cea": pd.NA, "kras": pd.NA}, {"sex": pd.NA}, {"surgery_date": pd.NA})
    cands = [{"name": "male", "type": "binary"}, "kras", "cea", "crs_score", "nlr"]
    res = clean(df, candidates=cands, missing_predictors="multiple_imputation")
    # a blank candidate (cea, kras) or a column that only feeds one (sex -> male) keeps the
    # patient; a blank surgery date (the time origin) still excludes
    assert res.flow["excluded"]["missing required data"] == 1
    assert not any(k.startswith("missing predictor") for k in res.flow["excluded"])
    assert res.flow["included"] == 4 and res.flow["incomplete_kept"] == 3
    assert res.flow["imputed"] == {"male": 1, "kras": 2, "cea": 1}
    q = res.quality.set_index("name")
    assert q.loc["cea", "imputed"] == 1 and q.loc["kras", "imputed"] == 2
    assert res.cohort["cea"].isna().sum() == 1
    # the complete-case report has no imputed column
    assert "imputed" not in clean(df, candidates=cands).quality.columns


def test_unknown_candidate_is_a_config_error():
    with pytest.raises(ValueError, match="unknown candidate predictor"):
        clean(raw({}), candidates=["ecog"])


def test_large_frame_is_fast():
    import time

    df = pd.concat([raw({})] * 20000, ignore_index=True)
    df["patient_id"] = [f"P{i:06d}" for i in range(len(df))]
    t = time.perf_counter()
    res = clean(df)
    assert res.flow["included"] == 20000
    assert time.perf_counter() - t < 15  # ~1 s per 100k rows on a quiet machine; loose under load


def test_times_format_on_an_analysis_ready_table_suggests_generic():
    """A file with derived indices (nlr, crs_score) but not the raw CRLM columns is an
    analysis-ready table: the error points to format: generic, not only to raw columns."""
    df = pd.DataFrame({"patient_id": ["a"], "os_months": [3.0], "os_event": [1], "nlr": [2.1], "crs_score": [2]})
    lines = errors_of(df, fn=clean_times)
    assert "missing required columns" in lines[0]
    assert "already holds derived columns (nlr, crs_score)" in lines[0] and "'format: generic'" in lines[0]
    # a raw file that merely lacks a column gets no such hint
    assert "generic" not in errors_of(raw_times({}).drop(columns=["age"]), fn=clean_times)[0]


def test_rfs_status_codes_recurrence_death_and_censoring():
    df = raw(
        {"death_date": "2020-03-05", "last_followup_date": "2020-04-01"},
        {"recurrence_date": "2019-09-05", "death_date": "2020-03-05", "last_followup_date": "2020-03-05"},
        {"last_followup_date": "2020-04-01"},
    )
    for censors in (True, False):
        c = clean(df, death_censors_rfs=censors, rfs_status=True).cohort
        # 2 = death without recurrence, 1 = recurrence (death after it does not matter), 0 = censored
        assert c["rfs_status"].tolist() == [2, 1, 0]
        assert c["rfs_event"].tolist() == ([0, 1, 0] if censors else [1, 1, 0])
    assert "rfs_status" not in clean(df).cohort.columns  # only when asked for


def test_rfs_status_needs_dates():
    with pytest.raises(ValueError, match="rfs_status needs the 'dates' layout"):
        clean(raw({}), format="times", rfs_status=True)
