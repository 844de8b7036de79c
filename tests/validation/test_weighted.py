"""Weighted Harrell's C and IPCW Brier equal the unweighted estimators on duplicated rows."""

from __future__ import annotations

import numpy as np
import pytest
from bootstrap_cases import HORIZONS

from crlmflow.validation.concordance import concordance_index
from crlmflow.validation.roc import brier_score
from crlmflow.validation.weighted import harrell_c_weighted, ipcw_brier_weighted


def test_weighted_helpers_equal_duplicated_rows(crlm_train):
    rng = np.random.default_rng(3)
    t = crlm_train["os_months"].to_numpy()
    e = crlm_train["os_event"].to_numpy()
    x = rng.normal(size=t.size).round(1)  # ties on the risk score too
    idx = rng.integers(0, t.size, t.size)
    w = np.bincount(idx, minlength=t.size).astype(float)
    assert harrell_c_weighted(t, e, x, w) == pytest.approx(concordance_index(t[idx], e[idx], x[idx]).c_index, abs=1e-13)
    assert harrell_c_weighted(t, e, x) == pytest.approx(concordance_index(t, e, x).c_index, abs=1e-13)
    s = 1 / (1 + np.exp(x))
    for h in HORIZONS:
        assert ipcw_brier_weighted(t, e, s, h, w) == pytest.approx(
            brier_score(t[idx], e[idx], s[idx], h).brier, abs=1e-13
        )
        assert ipcw_brier_weighted(t, e, s, h) == pytest.approx(brier_score(t, e, s, h).brier, abs=1e-13)
