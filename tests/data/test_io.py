"""Reading user tables (crlmflow.data.reading.read_table), column mapping and atomic writing."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crlmflow.data.errors import InputError, Problem, file_rows
from crlmflow.data.io import atomic_write, atomic_write_csv, atomic_write_json, to_csv_text
from crlmflow.data.reading import apply_column_mapping, read_table

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken"


def _err(path, **kw) -> str:
    with pytest.raises(InputError) as ei:
        read_table(path, **kw)
    return str(ei.value)


# ---------------------------------------------------------------- reading: failures


def test_missing_file(tmp_path):
    msg = _err(tmp_path / "nope.csv")
    assert "nope.csv" in msg and "file not found" in msg


def test_empty_file():
    msg = _err(BROKEN / "empty.csv")
    assert msg.startswith("empty.csv: the file is empty")
    assert "expected a header line" in msg


def test_bom_only_file_is_empty(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf\r\n")
    assert "the file is empty" in _err(p)


def test_header_only_file():
    msg = _err(BROKEN / "header_only.csv")
    assert "header_only.csv" in msg and "no data lines" in msg


def test_semicolon_delimiter():
    msg = _err(BROKEN / "semicolon.csv")
    assert "semicolon.csv" in msg
    assert "';' (semicolon)" in msg and "expected comma-separated values" in msg


def test_tab_delimiter():
    msg = _err(BROKEN / "tab.tsv.csv")
    assert "a tab" in msg and "expected comma-separated" in msg


def test_latin1_encoding():
    msg = _err(BROKEN / "latin1.csv")
    assert "latin1.csv" in msg
    assert "line 2" in msg  # first non-UTF-8 byte (0xf4 of 'Hôpital') is on line 2
    assert "0xf4" in msg and "expected UTF-8" in msg


def test_utf16_encoding(tmp_path):
    p = tmp_path / "u16.csv"
    p.write_bytes("patient_id,sex\nP1,F\n".encode("utf-16"))
    assert "UTF-16" in _err(p)


def test_excel_workbook_saved_as_csv(tmp_path):
    p = tmp_path / "book.csv"
    pd.DataFrame({"a": [1]}).to_excel(tmp_path / "book.xlsx", index=False)
    p.write_bytes((tmp_path / "book.xlsx").read_bytes())
    assert "Excel workbook" in _err(p)


def test_duplicate_header():
    msg = _err(BROKEN / "duplicate_header.csv")
    assert "column 'age'" in msg and "appears twice" in msg


def test_ragged_rows():
    msg = _err(BROKEN / "ragged.csv")
    assert "ragged.csv" in msg and "same number of cells" in msg


def test_old_xls_rejected(tmp_path):
    p = tmp_path / "old.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0")
    assert "expected .xlsx or CSV" in _err(p)


# ---------------------------------------------------------------- reading: success


def test_csv_all_text_bom_blank_lines_and_row_numbers():
    df = read_table(BROKEN / "utf8_bom.csv")
    assert list(df.columns) == ["patient_id", "sex", "centre"]  # BOM stripped
    assert df.attrs["source"] == "utf8_bom.csv"
    assert df["centre"].tolist() == ["Hôpital Nord", "Clínica Sur"]
    assert all(pd.api.types.is_object_dtype(t) for t in df.dtypes)
    # the blank line 3 is dropped but counted: P002 is on line 4
    assert file_rows(df).tolist() == [2, 4]


def test_csv_cells_are_text_stripped_and_na_tokens(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("id,x,y\n1, 007 ,NA\n2,abc,\n", encoding="utf-8")
    df = read_table(p)
    assert df["x"].tolist() == ["007", "abc"]  # leading zeros kept: read as text
    assert df["y"].isna().all()


def test_xlsx_round_trip(tmp_path):
    import datetime as dt

    src = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3"],
            "age": [61, 57.5, None],
            "surgery_date": [dt.datetime(2019, 3, 5), dt.datetime(2020, 1, 2), None],
            "sex": ["F", "M", "F"],
        }
    )
    p = tmp_path / "cohort.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"other": [1]}).to_excel(xw, sheet_name="notes", index=False)
        src.to_excel(xw, sheet_name="data", index=False)
    df = read_table(p, sheet="data")
    assert df["patient_id"].tolist() == ["P1", "P2", "P3"]
    assert df["age"].tolist()[:2] == ["61", "57.5"] and pd.isna(df["age"].iloc[2])
    assert df["surgery_date"].tolist()[:2] == ["2019-03-05", "2020-01-02"]
    # sheets are numbered from 1, as Excel's tabs are counted: sheet 2 is 'data'
    assert read_table(p, sheet=2).equals(df)
    assert list(read_table(p, sheet=1).columns) == ["other"]
    msg = _err(p, sheet=0)
    assert "sheet number 0 does not exist; expected 1..2, counted from 1" in msg and "2 = 'data'" in msg
    assert list(read_table(p).columns) == ["other"]  # default: the first sheet
    msg = _err(p, sheet="Sheet9")
    assert "sheet 'Sheet9' not found" in msg and "'data'" in msg


def test_xlsx_error_messages_say_row(tmp_path):
    p = tmp_path / "c.xlsx"
    pd.DataFrame({"a": ["x"]}).to_excel(p, index=False)
    assert read_table(p)["a"].tolist() == ["x"]
    assert str(Problem("c.xlsx", 2, "a", "x", "a number")) == "c.xlsx, row 2, column 'a': found 'x', expected a number"


# ---------------------------------------------------------------- column mapping


def test_column_mapping_renames_and_keeps_rows():
    df = pd.DataFrame({"ID": ["a", "b"], "Age (y)": ["1", "2"], "x": ["u", "v"]}, index=[0, 2])
    df.attrs["source"] = "mine.csv"
    out = apply_column_mapping(df, {"ID": "patient_id", "Age (y)": "age"})
    assert list(out.columns) == ["patient_id", "age", "x"]
    assert out.index.tolist() == [0, 2] and out.attrs["source"] == "mine.csv"


def test_column_mapping_errors():
    df = pd.DataFrame({"ID": ["a"], "age": ["1"], "AGE": ["2"]})
    with pytest.raises(InputError) as ei:
        apply_column_mapping(df, {"Id": "patient_id"}, source="mine.csv")
    assert "no column 'Id'" in str(ei.value) and "'ID'" in str(ei.value)
    with pytest.raises(InputError, match="already has a column 'age'"):
        apply_column_mapping(df, {"AGE": "age"})
    with pytest.raises(InputError, match="several columns"):
        apply_column_mapping(df, {"age": "x", "AGE": "x"})


# ---------------------------------------------------------------- writing


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out" / "result.csv"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write("half of a file")
            raise RuntimeError("rule crashed")
    assert not target.exists()
    assert os.listdir(target.parent) == []  # temporary file removed too


def test_atomic_write_keeps_old_content_on_failure(tmp_path):
    target = tmp_path / "result.txt"
    target.write_text("old")
    with pytest.raises(ValueError):
        with atomic_write(target) as fh:
            fh.write("new")
            raise ValueError
    assert target.read_text() == "old"
    with atomic_write(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["result.txt"]
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(target).st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0o600


def test_atomic_write_csv_deterministic(tmp_path):
    df = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "x": [1 / 3, 2.0],
            "n": pd.array([1, None], dtype="Int64"),
            "flag": [True, False],
            "s": ["a,b", None],
        }
    )
    p = tmp_path / "d.csv"
    atomic_write_csv(df, p)
    data = p.read_bytes()
    assert b"\r" not in data and not data.startswith(b"\xef\xbb\xbf")
    assert data.decode() == 'patient_id,x,n,flag,s\nP1,0.333333333333,1,1,"a,b"\nP2,2,,0,\n'
    assert to_csv_text(df) == data.decode()
    atomic_write_csv(df, p)
    assert p.read_bytes() == data


def test_atomic_write_json(tmp_path):
    p = tmp_path / "f.json"
    atomic_write_json(p, {"read": np.int64(3), "x": np.float64(0.5)})
    assert p.read_text() == '{\n  "read": 3,\n  "x": 0.5\n}\n'


def test_input_error_message_and_pickle():
    probs = [Problem("cohort.csv", 18, "wbc", "abc", "a number", "P000123")] * 60
    err = InputError(probs)
    lines = str(err).splitlines()
    assert lines[0].startswith("60 input problems in cohort.csv (row/line numbers count the header as 1")
    assert lines[1] == "cohort.csv, line 18 (patient P000123), column 'wbc': found 'abc', expected a number"
    assert lines[-1] == "... and 10 more problems not shown"
    assert len(lines) == 52
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.problems == err.problems
