"""to_plain / write_json: the one conversion of NumPy/pandas values to JSON and the one writer."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crlmflow.data.io import atomic_write_json, to_plain, write_json


def test_numpy_and_pandas_values_become_plain_python():
    obj = {
        "i": np.int64(3),
        "f": np.float32(0.5),
        "b": np.bool_(True),
        "nan": np.float64("nan"),
        "arr": np.array([[1, 2], [3, 4]]),
        "obj_arr": np.array(["a", np.int16(2)], dtype=object),
        "tuple": (1, np.float64(2.5)),
        "series": pd.Series([1.5, 2.5]),
        "index": pd.Index(["x", "y"]),
        "frame": pd.DataFrame({"a": [1, 2], "b": ["u", "v"]}),
        "na": pd.NA,
        "nat": pd.NaT,
        "ts": pd.Timestamp("2024-03-01"),
        "dt64": np.datetime64("2024-03-02"),
        "path": Path("a/b.csv"),
    }
    out = to_plain(obj)
    assert out["i"] == 3 and type(out["i"]) is int
    assert out["f"] == 0.5 and type(out["f"]) is float
    assert out["b"] is True
    assert math.isnan(out["nan"]) and type(out["nan"]) is float
    assert out["arr"] == [[1, 2], [3, 4]] and type(out["arr"][0][0]) is int
    assert out["obj_arr"] == ["a", 2] and type(out["obj_arr"][1]) is int
    assert out["tuple"] == [1, 2.5] and type(out["tuple"][1]) is float
    assert out["series"] == [1.5, 2.5] and out["index"] == ["x", "y"]
    assert out["frame"] == [{"a": 1, "b": "u"}, {"a": 2, "b": "v"}] and type(out["frame"][0]["a"]) is int
    assert out["na"] is None and out["nat"] is None
    assert out["ts"] == "2024-03-01T00:00:00" and out["dt64"] == "2024-03-02T00:00:00"
    assert out["path"] == str(Path("a/b.csv"))
    json.dumps(out)  # serialisable without a default hook


def test_floats_keep_every_bit():
    x = np.nextafter(0.1, 1.0)
    assert to_plain(np.float64(x)) == x
    assert to_plain(np.array([x]))[0] == x


def test_non_string_keys_become_the_text_json_would_write():
    obj = {1: "a", np.int64(2): "b", 2.5: "c", np.float64(3.0): "d", None: "f", "s": "g"}
    assert list(to_plain(obj)) == ["1", "2", "2.5", "3.0", "null", "s"]
    assert list(to_plain({True: 1, np.bool_(False): 0})) == ["true", "false"]
    for plain_keys in ({1: "a", 2.5: "c", None: "f"}, {True: "e"}, {float("nan"): 1}):
        assert json.dumps(to_plain(plain_keys)) == json.dumps(plain_keys)


def test_unknown_values_are_refused_with_their_location_unless_a_default_is_given():
    with pytest.raises(TypeError, match=r"value at \['params'\]\['sizes'\]\[1\] is a set"):
        to_plain({"params": {"sizes": [1, {2, 3}]}})
    with pytest.raises(TypeError, match="value at top level is a object"):
        to_plain(object())
    assert to_plain({"f": len}, default=str) == {"f": str(len)}


def test_write_json_is_atomic_and_formats_as_before(tmp_path):
    p = tmp_path / "sub" / "f.json"
    write_json({"read": np.int64(3), "x": np.float64(0.5), "z": [np.nan], "é": "ü"}, p)
    assert p.read_text(encoding="utf-8") == '{\n  "read": 3,\n  "x": 0.5,\n  "z": [\n    NaN\n  ],\n  "é": "ü"\n}\n'
    assert [q.name for q in p.parent.iterdir()] == ["f.json"]  # no temporary file left
    with pytest.raises(TypeError, match="is a set"):
        write_json({"bad": {1}}, p)
    assert json.loads(p.read_text(encoding="utf-8"))["read"] == 3  # the old file is untouched
    atomic_write_json(p, {"a": np.int8(1)}, indent=None)  # the path-first form still works
    assert p.read_text() == '{"a": 1}\n'
