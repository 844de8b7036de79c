"""Percentile bootstrap CI of Harrell's C for a fixed model."""

from __future__ import annotations

import numpy as np
import pytest
from rref import reference, rows

import crlmflow.validation.c_index_ci as cici
from crlmflow.pipeline.streams import stream
from crlmflow.validation.c_index_ci import bootstrap_c_index_ci
from crlmflow.validation.concordance import concordance_index


def test_bootstrap_c_index_ci_fixed_model():
    ref = reference("crlm_a")["endpoints"]["os"]
    df = rows("crlm_a")
    t, e = df["os_months"].to_numpy(), df["os_event"].to_numpy()
    lp = np.asarray(ref["per_row"]["lp"])
    ci = bootstrap_c_index_ci(t, e, lp, B=200, rng=stream(7, "c_index_bootstrap", 0, 0))
    again = bootstrap_c_index_ci(t, e, lp, B=200, rng=stream(7, "c_index_bootstrap", 0, 0))
    assert np.array_equal(ci.replicates, again.replicates)
    assert ci.c_index == pytest.approx(ref["concordance"]["c_index"], abs=1e-12)
    assert ci.lower < ci.c_index < ci.upper
    # each replicate equals concordance_index on the resampled rows (same draws)
    idx = stream(7, "c_index_bootstrap", 0, 0).integers(0, t.size, size=(200, t.size))
    for b in (0, 57, 199):
        k = idx[b]
        assert ci.replicates[b] == pytest.approx(concordance_index(t[k], e[k], lp[k]).c_index, abs=1e-12)
    lo, hi = np.quantile(ci.replicates, [0.025, 0.975])
    assert (ci.lower, ci.upper) == (lo, hi)
    # the bootstrap SE is close to the infinitesimal-jackknife SE
    assert np.std(ci.replicates, ddof=1) == pytest.approx(ref["concordance"]["std_err"], rel=0.25)


def test_bootstrap_c_index_ci_fast_path_equals_pair_matrix(monkeypatch):
    """Above _CI_PAIR_LIMIT the CI uses WeightedConcordance: same draws, same replicates."""
    rng = np.random.default_rng(11)
    n = 300
    t = rng.integers(1, 40, n).astype(float)
    e = rng.integers(0, 2, n)
    lp = rng.normal(size=n).round(1)
    pairs = bootstrap_c_index_ci(t, e, lp, B=40, rng=np.random.default_rng(3))
    monkeypatch.setattr(cici, "_CI_PAIR_LIMIT", 10)
    fast = bootstrap_c_index_ci(t, e, lp, B=40, rng=np.random.default_rng(3))
    np.testing.assert_allclose(fast.replicates, pairs.replicates, rtol=0, atol=1e-13)
    assert fast.lower == pytest.approx(pairs.lower, abs=1e-13)
    assert fast.upper == pytest.approx(pairs.upper, abs=1e-13)
