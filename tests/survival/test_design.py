"""The one model-matrix builder: R treatment coding, the nomogram's frame, and named errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crlmflow.survival.design import design_matrix

RX = {"name": "rx", "type": "factor", "ref": "Obs", "levels": ["Lev", "Obs", "Lev+5FU"], "label": "Treatment"}


def _df():
    return pd.DataFrame(
        {"rx": ["Obs", "Lev", "Lev+5FU", "Lev"], "age": [50, 61, 72, 45], "male": [1, 0, 1, 1]}, index=[10, 11, 12, 13]
    )


def test_treatment_coding_and_frame():
    des = design_matrix(_df(), [RX, "age", {"name": "male", "type": "binary"}])
    # reference level dropped, the others in their given order, R's names
    assert des.columns == ["rxLev", "rxLev+5FU", "age", "male"]
    assert des.groups == {"rx": [0, 1], "age": [2], "male": [3]}
    np.testing.assert_array_equal(des.X[:, :2], [[0, 0], [1, 0], [0, 1], [1, 0]])
    fr = des.frame(_df().index)
    assert list(fr.index) == [10, 11, 12, 13] and list(fr.columns) == des.columns
    np.testing.assert_array_equal(fr.to_numpy(), des.X)


def test_bad_values_name_row_column_and_expectation():
    df = _df()
    df.loc[12, "rx"] = "Placebo"
    with pytest.raises(ValueError, match=r"factor 'rx', row 12: value 'Placebo' is not one of the levels"):
        design_matrix(df, [RX])
    df = _df()
    df.loc[11, "male"] = 2
    with pytest.raises(ValueError, match=r"binary candidate 'male', row 11: value 2, expected 0 or 1"):
        design_matrix(df, [{"name": "male", "type": "binary"}])
    df = _df().astype({"age": float})
    df.loc[13, "age"] = np.nan
    with pytest.raises(ValueError, match=r"candidate 'age', row 13: missing value"):
        design_matrix(df, ["age"])
    with pytest.raises(KeyError, match="'bmi' not in data"):
        design_matrix(_df(), ["bmi"])
