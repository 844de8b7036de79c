"""Extrapolation accounting of an external cohort (crlmflow.validation.extrapolation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.validation.extrapolation import any_outside, extrapolation_table

CANDS = [
    {"name": "nodes", "type": "numeric", "label": "Positive nodes"},
    {"name": "grade", "type": "factor", "label": "Grade", "ref": "1", "levels": ["1", "2"]},
    {"name": "male", "type": "binary", "label": "Sex (male)"},
    {"name": "absent", "type": "numeric", "label": "Not in the external file"},
]


def test_counts_outside_the_development_range_and_unseen_levels():
    dev = pd.DataFrame({"nodes": [0, 1, 4, 9], "grade": ["1", "2", "2", "1"], "male": [0, 1, 1, 0], "absent": 1.0})
    ext = pd.DataFrame({"nodes": [0, 12, 30, np.nan, -1], "grade": ["3", "2", "3", "1", "1"], "male": [1, 1, 0, 0, 1]})
    t = extrapolation_table(dev, ext, CANDS, in_model=["grade"]).set_index("predictor")
    assert list(t.index) == ["grade", "nodes", "male"], "model predictors first; absent columns skipped"
    assert t.loc["nodes", ["n_external", "n_below", "n_above", "n_outside"]].tolist() == [4, 1, 2, 3]
    assert (t.loc["nodes", "development_min"], t.loc["nodes", "development_max"]) == (0.0, 9.0)
    assert t.loc["nodes", "percent_outside"] == 75.0
    assert t.loc["grade", "unseen_levels"] == "3" and t.loc["grade", "n_unseen_level"] == 2
    assert t.loc["male", "n_outside"] == 0
    assert any_outside(t.reset_index()) and t.loc["grade", "in_model"]
    assert not any_outside(t.reset_index().query("predictor == 'male'"), in_model_only=False)
