"""Declared units of a cohort file (data.file.units), converted before validation (crlmflow.data.units)."""

import copy

import pandas as pd
import pytest
import yaml

from crlmflow.data.cohort import clean_cohort_file
from crlmflow.data.errors import InputError
from crlmflow.data.io import atomic_write_csv
from crlmflow.data.reading import read_table
from crlmflow.data.units import UNITS, check_units, convert_units
from crlmflow.pipeline.config import ConfigError, load_schema, validate_config
from crlmflow.simulation.generator import simulate_cohort

DATA = {"followup_cutoff": "2023-04-30", "death_censors_rfs": True, "missing_predictors": "complete_case"}
CANDIDATES = [{"name": n} for n in ("age", "tbil", "dbil", "hgb", "alb", "cea", "d_dimer")]


def _clean(path, **file_options):
    opts = {"path": str(path), "format": "dates", "columns": {}}
    opts.update(file_options)
    return clean_cohort_file(path, file_options=opts, source="file", data_options=DATA, candidates=CANDIDATES)


@pytest.fixture(scope="module")
def raw_export():
    return simulate_cohort(60, seed=1)[0]


@pytest.fixture(scope="module")
def canonical_file(raw_export, tmp_path_factory):
    path = tmp_path_factory.mktemp("units") / "cohort_umol.csv"
    atomic_write_csv(raw_export, path)
    return path


# ------------------------------------------------------------------ the table


@pytest.mark.parametrize(
    "column, unit, value, expected",
    [
        ("tbil", "mg/dL", 1.0, 17.104),
        ("dbil", "mg/dL", 0.5, 8.552),
        ("tbil", "umol/L", 12.3, 12.3),
        ("hgb", "g/dL", 13.5, 135.0),
        ("alb", "g/dL", 4.1, 41.0),
        ("cea", "ug/L", 5.2, 5.2),
        ("ca19_9", "kU/L", 37.0, 37.0),
        ("d_dimer", "ng/mL", 500.0, 0.5),
        ("d_dimer", "ug/mL", 0.5, 0.5),
    ],
)
def test_conversion_factors(column, unit, value, expected):
    df = pd.DataFrame({column: [str(value), pd.NA]}, dtype=object)
    out = convert_units(df, {column: unit}, "cohort.csv")
    assert float(out[column].iloc[0]) == pytest.approx(expected, rel=1e-12)
    assert pd.isna(out[column].iloc[1])
    assert out.attrs["units"] == {column: (unit, UNITS[column][unit])}


def test_bilirubin_mg_dl_to_umol_l():
    df = pd.DataFrame({"tbil": ["0.6", "1.2", "10"], "dbil": ["0.2", "0.3", "5"]}, dtype=object)
    out = convert_units(df, {"tbil": "mg/dL", "dbil": "mg/dL"}, "cohort.csv")
    assert [float(v) for v in out["tbil"]] == pytest.approx([10.2624, 20.5248, 171.04], rel=1e-12)
    assert [float(v) for v in out["dbil"]] == pytest.approx([3.4208, 5.1312, 85.52], rel=1e-12)
    assert df["tbil"].tolist() == ["0.6", "1.2", "10"]  # the input frame is not modified


def test_numeric_columns_and_canonical_units_and_index_kept():
    df = pd.DataFrame({"hgb": [13.0, 15.5], "alb": ["40", "41"]}, index=[3, 7])
    out = convert_units(df, {"hgb": "g/dL", "alb": "g/L"}, "cohort.csv")
    assert out["hgb"].tolist() == [130.0, 155.0]
    assert out["alb"].tolist() == ["40", "41"]
    assert list(out.index) == [3, 7]
    assert convert_units(df, None, "cohort.csv").equals(df)
    assert convert_units(df, {}, "cohort.csv").equals(df)


def test_non_numeric_cells_are_left_for_the_validator():
    df = pd.DataFrame({"tbil": ["abc", "1,5", "inf", "1.5", pd.NA]}, dtype=object)
    out = convert_units(df, {"tbil": "mg/dL"}, "cohort.csv")
    assert out["tbil"].iloc[:3].tolist() == ["abc", "1,5", "inf"]
    assert float(out["tbil"].iloc[3]) == pytest.approx(25.656)
    assert pd.isna(out["tbil"].iloc[4])


def test_unknown_unit_names_key_and_allowed_units():
    with pytest.raises(ValueError) as err:
        check_units({"tbil": "mg/l"})
    msg = str(err.value)
    assert "data.file.units.tbil" in msg and "'mg/l'" in msg and "umol/L" in msg and "mg/dL" in msg
    with pytest.raises(ValueError, match=r"external\.file\.units\.hgb"):
        convert_units(pd.DataFrame({"hgb": ["13"]}), {"hgb": "mmol/L"}, "x.csv", key="external.file.units")


def test_unknown_column_names_key_and_allowed_columns():
    with pytest.raises(ValueError) as err:
        convert_units(pd.DataFrame({"wbc": ["5"]}), {"wbc": "10^9/L"}, "cohort.csv")
    msg = str(err.value)
    assert "data.file.units.wbc" in msg and "allowed columns" in msg
    assert all(c in msg for c in UNITS)


def test_declared_column_absent_from_the_file():
    with pytest.raises(InputError) as err:
        convert_units(pd.DataFrame({"hgb": ["13"]}), {"tbil": "mg/dL"}, "cohort.csv")
    msg = str(err.value)
    assert msg.startswith("cohort.csv, column 'tbil':") and "data.file.units.tbil: mg/dL" in msg


# ------------------------------------------------------------------ through clean_cohort_file


def test_mg_dl_file_gives_the_same_cohort(raw_export, canonical_file, tmp_path):
    local = raw_export.copy()
    for c in ("tbil", "dbil"):
        local[c] = local[c] / 17.104
    local["hgb"] = local["hgb"] / 10
    local["d_dimer"] = local["d_dimer"] * 1000
    # a local column name too: the units refer to the canonical name, after the mapping
    local = local.rename(columns={"tbil": "TBIL (mg/dL)"})
    path = tmp_path / "cohort_mgdl.csv"
    atomic_write_csv(local, path)
    assert read_table(path)["TBIL (mg/dL)"].map(float).max() < 30  # really in mg/dL

    ref = _clean(canonical_file)
    got = _clean(
        path,
        columns={"TBIL (mg/dL)": "tbil"},
        units={"tbil": "mg/dL", "dbil": "mg/dL", "hgb": "g/dL", "d_dimer": "ng/mL"},
    )
    assert got.flow == ref.flow
    pd.testing.assert_frame_equal(got.exclusions, ref.exclusions)
    pd.testing.assert_frame_equal(got.cohort, ref.cohort, check_exact=False, rtol=1e-12)
    assert ref.cohort["tbil"].max() > 5  # the comparison is in umol/L


def test_without_declaration_mg_dl_hgb_is_out_of_range(raw_export, tmp_path):
    local = raw_export.copy()
    local["hgb"] = local["hgb"] / 10
    path = tmp_path / "cohort_gdl.csv"
    atomic_write_csv(local, path)
    pattern = r"column 'hgb': found '\d+(\.\d+)?', expected a number between 30 and 250 g/L"
    with pytest.raises(InputError, match=pattern):
        _clean(path)
    assert len(_clean(path, units={"hgb": "g/dL"}).cohort) > 0


def test_problem_in_a_converted_column_shows_the_file_value(raw_export, tmp_path):
    local = raw_export.copy().astype(object)
    local["tbil"] = [f"{v / 17.104:.4f}" for v in raw_export["tbil"]]
    local["dbil"] = [f"{v / 17.104:.4f}" for v in raw_export["dbil"]]
    local.loc[4, "tbil"] = "100"  # 1710.4 umol/L: out of range after conversion
    local.loc[6, "tbil"] = "high"  # not a number: reported as found
    path = tmp_path / "cohort_bad.csv"
    atomic_write_csv(local, path)
    with pytest.raises(InputError) as err:
        _clean(path, units={"tbil": "mg/dL", "dbil": "mg/dL"})
    lines = str(err.value).splitlines()
    pid4, pid6 = raw_export.loc[4, "patient_id"], raw_export.loc[6, "patient_id"]
    assert (
        f"cohort_bad.csv, line 6 (patient {pid4}), column 'tbil': found '100', expected a number "
        "between 0 and 1000 umol/L (the column is declared in mg/dL by data.file.units.tbil: "
        "100 mg/dL = 1710.4 umol/L after conversion x17.104)"
    ) in lines
    assert f"cohort_bad.csv, line 8 (patient {pid6}), column 'tbil': found 'high', expected a number" in lines


def test_bad_unit_fails_before_reading_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"data\.file\.units\.tbil"):
        _clean(tmp_path / "missing.csv", units={"tbil": "mmol/L"})


def test_synthetic_source_ignores_file_units(canonical_file):
    res = clean_cohort_file(
        canonical_file,
        file_options={"units": {"tbil": "mg/dL"}},
        source="synthetic",
        data_options=DATA,
        candidates=CANDIDATES,
    )
    assert res.cohort["tbil"].max() > 5


# ------------------------------------------------------------------ the config


@pytest.fixture(scope="module")
def default_config(repo_root):
    with open(repo_root / "config" / "config.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_schema_lists_the_same_units_as_the_module():
    units = load_schema()["definitions"]["cohort_file"]["properties"]["units"]
    assert units["additionalProperties"] is False
    assert {c: s["enum"] for c, s in units["properties"].items()} == {c: list(u) for c, u in UNITS.items()}


def test_config_accepts_units_in_data_and_external(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["data"]["file"]["units"] = {"tbil": "mg/dL", "dbil": "mg/dL", "hgb": "g/dL"}
    cfg["external"]["file"]["units"] = {"d_dimer": "ng/mL"}
    validate_config(cfg)
    cfg["data"]["file"]["units"] = None
    validate_config(cfg)


def test_config_rejects_unknown_unit_and_column(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["data"]["file"]["units"] = {"tbil": "mg/l", "wbc": "10^9/L"}
    cfg["external"]["file"]["units"] = {"alb": "g/dl"}
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert "data.file.units.tbil" in msg and "'mg/l'" in msg and "'umol/L', 'mg/dL'" in msg
    assert "'data.file.units'" in msg and "'wbc'" in msg and "allowed keys" in msg and "tbil" in msg
    assert "external.file.units.alb" in msg and "'g/L', 'g/dL'" in msg


def test_readme_documents_units(repo_root):
    text = (repo_root / "config" / "README.md").read_text(encoding="utf-8")
    assert "`data.file.units`" in text and "mg/dL" in text
    for column, units in UNITS.items():
        assert f"`{column}`" in text
        assert all(u in text for u in units)
