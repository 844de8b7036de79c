"""Recoding values in the config (crlmflow.data.recoding) and through clean_cohort_file."""

from __future__ import annotations

import pandas as pd
import pytest

from crlmflow.data.cohort import clean_cohort_file
from crlmflow.data.errors import InputError
from crlmflow.data.recoding import apply_recoding


def _frame(**cols):
    df = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cols.items()})
    df.index = range(len(df))
    return df


def test_value_map_matches_text_case_insensitively_and_numbers_by_value():
    df = _frame(grade=["G1", "g2", " G3 ", None, "4"], sex=["1", "2.0", "1", "2", "1"])
    out = apply_recoding(df, {"grade": {"G1": "1", "G2": "2", "G3": "3"}, "sex": {1: "M", 2: "F"}}, None, "x.csv")
    assert out["grade"].tolist() == ["1", "2", "3", None, "4"]  # unmapped '4' is left for validation
    assert out["sex"].tolist() == ["M", "F", "M", "F", "M"]
    assert out.attrs["recoded_cells"] == {"grade": 3, "sex": 5}
    assert df["grade"].tolist()[0] == "G1", "the input is not modified"


@pytest.mark.parametrize(
    "right, expected",
    [(False, ["<20", "20-50", "20-50", ">50", ">50", None]), (True, ["<20", "<20", "20-50", "20-50", ">50", None])],
)
def test_bins_turn_numbers_into_the_development_categories(right, expected):
    df = _frame(size=["5", "20", "49.9", "50", "120", ""])
    spec = {"size": {"breaks": [20, 50], "labels": ["<20", "20-50", ">50"], "right": right}}
    out = apply_recoding(df, None, spec, "ext.csv")
    assert out["size"].tolist() == expected


def test_bad_bins_and_values_are_reported_with_row_and_key():
    with pytest.raises(InputError, match=r"data.file.bins.size.labels must have one label more"):
        apply_recoding(_frame(size=["1"]), None, {"size": {"breaks": [1, 2], "labels": ["a", "b"]}}, "x.csv")
    with pytest.raises(InputError, match=r"breaks must increase strictly"):
        apply_recoding(_frame(size=["1"]), None, {"size": {"breaks": [2, 1], "labels": ["a", "b", "c"]}}, "x.csv")
    with pytest.raises(InputError) as err:
        apply_recoding(_frame(size=["12", "big"]), None, {"size": {"breaks": [10], "labels": ["a", "b"]}}, "x.csv")
    msg = str(err.value)
    assert "x.csv, line 3" in msg and "'big'" in msg and "a number to bin" in msg
    with pytest.raises(InputError, match=r"no such column"):
        apply_recoding(_frame(size=["1"]), {"grade": {"a": "b"}}, None, "x.csv")


def test_external_file_recoded_in_the_config(tmp_path, repo_root):
    import yaml

    from crlmflow.pipeline.config import validate_config

    cfg = yaml.safe_load((repo_root / "config" / "colon.yaml").read_text())
    validate_config(cfg)
    df = pd.read_csv(repo_root / "data" / "colon.csv")
    # another centre: treatment and sex spelled out, perforation recorded as its size in mm
    # (0 = none), binned into the development cohort's 0/1 indicator
    local = df.assign(
        rx=df["rx"].map({"Obs": "observation", "Lev": "levamisole", "Lev+5FU": "lev+5fu"}),
        sex=df["sex"].map({1: "male", 0: "female"}),
        perfor=df["perfor"] * 12.0,
    )
    path = tmp_path / "centre_b.csv"
    local.to_csv(path, index=False)
    opts = dict(
        cfg["data"]["file"],
        recode={
            "rx": {"observation": "Obs", "levamisole": "Lev", "lev+5fu": "Lev+5FU"},
            "sex": {"male": 1, "female": 0},
        },
        bins={"perfor": {"breaks": [0.5], "labels": [0, 1]}},
    )
    kwargs = dict(
        source="file",
        data_options=cfg["data"],
        candidates=cfg["candidates"],
        endpoints=cfg["endpoints"],
        config_key="external.file",
    )
    res = clean_cohort_file(path, file_options=opts, **kwargs)
    ref = clean_cohort_file(repo_root / "data" / "colon.csv", file_options=cfg["data"]["file"], **kwargs)
    pd.testing.assert_frame_equal(res.cohort.reset_index(drop=True), ref.cohort.reset_index(drop=True))
    with pytest.raises(InputError, match=r"external.file.recode or .bins names column 'grade'"):
        clean_cohort_file(path, file_options=dict(opts, recode={"grade": {"1": "2"}}), **kwargs)


def test_readme_external_walkthrough_config_does_what_it_says(tmp_path, repo_root):
    """The external-validation block of README.md ('Your own cohort'), read as written:
    mapping, unit conversion, value maps and bins turn another centre's file into the
    development cohort's values, and it needs no candidate the frozen model does not use."""
    import re

    import yaml

    from crlmflow.data.cohort import clean_cohort_file

    text = (repo_root / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### External validation of the model") :]
    block = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))
    assert block["split"]["method"] == "external"
    opts = block["external"]["file"]
    raw = pd.DataFrame(
        {
            "PatientNo": ["B1", "B2", "B3", "B4"],
            "OS_mo": [12.0, 30.5, 7.25, 60.0],
            "dead": ["yes", "no", "Yes", "no"],
            "Grade": ["G1", "G3", "g2", "G2"],
            "TumourSize_mm": [12, 30, 49.9, 80],
            "alb": [4.0, 3.5, 3.9, 4.2],  # g/dL in this file
        }
    )
    path = tmp_path / "centre_b.csv"  # the README's .xlsx, as CSV (sheet applies to Excel only)
    raw.to_csv(path, index=False)
    res = clean_cohort_file(
        path,
        file_options=dict(opts, path=str(path)),
        source="file",
        data_options={"missing_predictors": "complete_case"},
        candidates=[
            {"name": "grade", "type": "factor", "ref": "1", "levels": ["1", "2", "3"]},
            {"name": "size", "type": "factor", "ref": "<3 cm", "levels": ["<3 cm", "3-5 cm", ">5 cm"]},
            {"name": "alb", "type": "numeric", "range": [10, 70]},
            {"name": "asa", "type": "numeric", "range": [1, 5]},  # a candidate the file does not have
        ],
        endpoints={"os": {"time": "os_months", "event": "os_event"}},
        config_key="external.file",
        units_key="external.file.units",
        candidates_required=False,
    )
    c = res.cohort.set_index("patient_id")
    assert c["os_event"].tolist() == [1, 0, 1, 0]
    assert c["grade"].tolist() == ["1", "3", "2", "2"]
    assert c["size"].tolist() == ["<3 cm", "3-5 cm", "3-5 cm", ">5 cm"]  # 30 <= x < 50 is "3-5 cm"
    assert c["alb"].tolist() == pytest.approx([40.0, 35.0, 39.0, 42.0])  # g/dL -> g/L
    assert c["asa"].isna().all() and res.flow["included"] == 4


def test_a_bare_yaml_yes_as_recode_key_is_a_config_error():
    """YAML 1.1 reads an unquoted yes/no as true/false: such a key would never match."""
    import yaml

    recode = yaml.safe_load("os_event: {yes: 1, no: 0}")
    with pytest.raises(InputError, match=r"external.file.recode.os_event: key True is a YAML boolean"):
        apply_recoding(_frame(os_event=["yes"]), recode, None, "x.csv", key="external.file")
