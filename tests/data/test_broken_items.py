"""One deliberately broken file per item of the data-stage issue (tests/fixtures/broken/README.md).

Each file goes through the workflow's own entry point (clean_cohort_file, as the clean rule
calls it) and must give a clear message naming the column, or the correct result with
nothing lost or reclassified silently.
"""

import warnings

import pandas as pd
import pytest
import yaml

from crlmflow.data.cohort import clean_cohort_file
from crlmflow.data.errors import InputError
from crlmflow.data.missing import codes_for, is_blank
from crlmflow.data.reading import read_table
from crlmflow.data.size import clean_resources, estimate_rows_columns

ENDPOINTS = {
    "os": {"time": "os_months", "event": "os_event", "label": "OS"},
    "rfs": {"time": "rfs_months", "event": "rfs_event", "label": "RFS"},
}
DATA = {"followup_cutoff": None, "death_censors_rfs": True, "missing_predictors": "complete_case"}


@pytest.fixture
def broken(fixtures_dir):
    return fixtures_dir / "broken"


def run(path, data=None, endpoints=ENDPOINTS, **file_options):
    opts = {"format": "dates", **file_options}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clean_cohort_file(
            path,
            file_options=opts,
            source="file",
            data_options={**DATA, **(data or {})},
            candidates=["age", "cea"],
            endpoints=endpoints,
        )


def message(path, **kw) -> str:
    with pytest.raises(InputError) as ei:
        run(path, **kw)
    return str(ei.value)


def quality(result, name, section="column"):
    q = result.quality
    return q[(q["section"] == section) & (q["name"] == name)].iloc[0]


# 1 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("censors", [True, False])
def test_1_misnamed_event_column_stops_naming_it(broken, censors):
    msg = message(broken / "misnamed_recurrence_column.csv", data={"death_censors_rfs": censors})
    assert "column 'recurrence_date' is absent, but endpoint 'rfs' counts its events (rfs_event) from it" in msg
    assert "the file has 'recurence_date', which looks like 'recurrence_date'" in msg


def test_1_endpoint_without_events_stops_at_the_data_stage(broken, tmp_path):
    df = read_table(broken / "misnamed_recurrence_column.csv").rename(columns={"recurence_date": "recurrence_date"})
    df["recurrence_date"] = pd.NA
    df.loc[1, "recurrence_date"] = "2021-03-01"  # after the cut-off below: no recurrence counts
    path = tmp_path / "cohort.csv"
    df.to_csv(path, index=False)
    msg = message(path, data={"followup_cutoff": "2021-01-01"})
    assert "endpoint 'rfs' has no event among the 12 included patients" in msg
    assert "'recurrence_date'" in msg and "a Cox model cannot be estimated without events" in msg


# 2 ------------------------------------------------------------------------------------
def test_2_cutoff_is_stated_in_flow_and_quality(broken):
    res = run(broken / "newer_cohort_after_cutoff.csv", data={"followup_cutoff": "2023-04-30"})
    assert res.flow["censored_at_cutoff"] == {"date": "2023-04-30", "deaths": 2, "recurrences": 0}
    assert res.flow["notes"][0].startswith("administratively censored at 2023-04-30 (data.followup_cutoff): 2 deaths")
    assert res.cohort["os_event"].sum() == 2  # the two deaths after the cut-off are censored
    assert int(quality(res, "os", "endpoint")["censored_at_cutoff"]) == 2
    assert any("administratively censored" in w for w in res.warnings)
    # without a cut-off nothing is censored and no note is made
    res = run(broken / "newer_cohort_after_cutoff.csv")
    assert res.cohort["os_event"].sum() == 4 and "notes" not in res.flow


def test_2_cutoff_is_a_required_study_key(repo_root):
    from crlmflow.pipeline.config import ConfigError, validate_config

    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    del cfg["data"]["followup_cutoff"]
    with pytest.raises(ConfigError, match="followup_cutoff"):
        validate_config(cfg)


# 3 ------------------------------------------------------------------------------------
def test_3_death_is_follow_up(broken):
    res = run(broken / "deaths_without_last_followup.csv")
    assert res.flow["included"] == 12 and res.flow["excluded"]["missing required data"] == 0
    assert res.cohort["os_event"].sum() == 4
    died = res.cohort["os_event"] == 1
    assert (res.cohort.loc[died, "os_months"] > 0).all()
    assert int(quality(res, "last_followup_date")["filled"]) == 4


def test_3_warns_when_exclusions_concentrate_in_events(broken, tmp_path):
    df = read_table(broken / "deaths_without_last_followup.csv")
    df.loc[df.index % 3 == 0, "last_followup_date"] = df.loc[df.index % 3 == 0, "death_date"]
    df.loc[df.index % 3 == 0, "cea"] = pd.NA  # the patients who died lack a required lab value
    more = df.copy()
    more["patient_id"] = more["patient_id"] + "b"
    path = tmp_path / "cohort.csv"
    pd.concat([df, more, more.assign(patient_id=more["patient_id"] + "c")]).to_csv(path, index=False)
    with pytest.warns(UserWarning, match="exclusions for missing data concentrate in patients with events"):
        res = clean_cohort_file(
            path,
            file_options={"format": "dates"},
            source="file",
            data_options=DATA,
            candidates=["age"],
            endpoints={"rfs": ENDPOINTS["rfs"]},
        )
    assert res.flow["excluded"]["missing required data"] == 12


# 4 ------------------------------------------------------------------------------------
def test_4_missing_code_never_hides_a_level(broken):
    res = run(broken / "chemotherapy_None.csv")
    assert res.flow["excluded"]["no systemic chemotherapy"] == 3
    assert res.flow["excluded"]["missing required data"] == 0
    assert int(quality(res, "chemotherapy")["recoded"]) == 3
    assert codes_for(["NA", "None", 999], ["full_course", "none"]) == ["NA", 999]


def test_4_code_is_missing_in_other_columns(broken, tmp_path):
    df = read_table(broken / "chemotherapy_None.csv", missing_codes=())
    df.loc[1, "kras"] = "None"
    df.loc[2, "kras"] = "n/a"
    path = tmp_path / "cohort.csv"
    df.to_csv(path, index=False)
    res = run(path)
    assert int(quality(res, "kras")["missing_code"]) == 2


# 5 ------------------------------------------------------------------------------------
def test_5_short_rows_are_an_error(broken):
    with pytest.raises(InputError) as ei:
        read_table(broken / "short_rows.csv")
    assert "short_rows.csv, line 3: the line has 34 cells; expected 37 as in the header" in str(ei.value)


# 6 ------------------------------------------------------------------------------------
def test_6_thousands_separator_is_not_a_decimal_comma(broken):
    msg = message(broken / "thousands_separator.csv")
    assert "column 'ca19_9': found '2,113', expected a number without ','" in msg
    assert "2113 with a thousands separator, or 2.113" in msg
    assert "use '.' as the decimal point)" not in msg


# 7 ------------------------------------------------------------------------------------
def test_7_date_after_the_freeze(broken):
    msg = message(broken / "future_followup_year_typo.csv")
    assert "column 'last_followup_date': found '2091-03-05', expected a date on or before today" in msg
    msg = message(broken / "future_followup_year_typo.csv", freeze_date="2022-12-31")
    assert "a date on or before the data freeze (2022-12-31, data.file.freeze_date)" in msg


def test_7_undeclared_unit_is_warned(broken):
    res = run(broken / "tbil_in_mg_dl_undeclared.csv")
    w = quality(res, "tbil")["warnings"]
    assert "typical of values in mg/dL" in w and "data.file.units.tbil: mg/dL" in w
    declared = run(broken / "tbil_in_mg_dl_undeclared.csv", units={"tbil": "mg/dL"})
    assert quality(declared, "tbil")["warnings"] == "" and int(quality(declared, "tbil")["converted"]) == 12


def test_7_sentinel_warned_and_configurable(broken):
    res = run(broken / "cea_sentinel_999.csv")
    assert "999 occurs 4 times" in quality(res, "cea")["warnings"]
    coded = run(broken / "cea_sentinel_999.csv", missing_codes=["NA", 999])
    assert int(quality(coded, "cea")["missing_code"]) == 4
    assert coded.flow["excluded"]["missing required data"] == 4


def test_7_generic_ranges(broken, repo_root):
    cfg = yaml.safe_load((repo_root / "config" / "colon.yaml").read_text())
    with pytest.raises(InputError) as ei:
        clean_cohort_file(
            broken / "colon_implausible.csv",
            file_options=cfg["data"]["file"],
            source="file",
            data_options=cfg["data"],
            candidates=cfg["candidates"],
            endpoints=cfg["endpoints"],
        )
    msg = str(ei.value)
    assert "line 5 (patient 4), column 'age': found '999', expected a number between 18 and 100" in msg
    assert "line 7 (patient 6), column 'nodes': found '-1', expected a number between 0 and 100" in msg
    cands = [dict(c) for c in cfg["candidates"]]
    del cands[2]["range"]
    with pytest.raises(ValueError, match=r"candidates\[2\]\.range' \(age\): required"):
        clean_cohort_file(
            broken / "colon_implausible.csv",
            file_options=cfg["data"]["file"],
            source="file",
            data_options=cfg["data"],
            candidates=cands,
            endpoints=cfg["endpoints"],
        )


# 8 ------------------------------------------------------------------------------------
def test_8_sheets_count_from_one(tmp_path):
    p = tmp_path / "book.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"a": [1]}).to_excel(xw, sheet_name="readme", index=False)
        pd.DataFrame({"b": [2]}).to_excel(xw, sheet_name="patients", index=False)
        pd.DataFrame({"c": [3]}).to_excel(xw, sheet_name="codes", index=False)
    assert list(read_table(p, sheet=2).columns) == ["b"]
    assert estimate_rows_columns(p, 2) == (1, 1)


# 9 ------------------------------------------------------------------------------------
def test_9_empty_required_column_is_named(broken):
    msg = message(broken / "empty_required_column.csv")
    assert "column 'cea': column 'cea' is empty in all 12 rows; expected values" in msg
    assert "were excluded" not in msg


# the blank-cell rule and the resource estimate ---------------------------------------
def test_one_blank_rule():
    s = pd.Series(["", "  ", "\t", "x", None, pd.NA], dtype=object)
    assert is_blank(s).tolist() == [True, True, True, False, True, True]


def test_resources_from_measured_rows(tmp_path):
    p = tmp_path / "big.csv"
    p.write_text("a,b,c\n" + "1,2,3\n" * 1000)
    assert estimate_rows_columns(p) == (1000, 3)
    mem, minutes = clean_resources(1_000_000, 40)
    assert 2500 < mem < 6000 and minutes <= 10  # measured: 2.5 GB, about a minute
