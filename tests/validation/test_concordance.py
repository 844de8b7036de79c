"""concordance_index against survival::concordance(coxph fit) (R fixture) and brute force."""

from __future__ import annotations

import numpy as np
import pytest
from rref import CASES, TOL, endpoint

from crlmflow.validation.concordance import concordance_index, timefix


@pytest.mark.parametrize("ds,ep", CASES)
@pytest.mark.parametrize("lp_name", ["lp_predict_coxph", "lp"])
def test_matches_survival_concordance(ds, ep, lp_name):
    time, event, e = endpoint(ds, ep)
    ref = e["concordance"]
    res = concordance_index(time, event, e["per_row"][lp_name])
    assert res.c_index == pytest.approx(ref["c_index"], abs=TOL)
    assert res.std_err == pytest.approx(ref["std_err"], rel=TOL)
    for name, value in ref["counts"].items():
        assert res.counts[name] == value, name
    # C from counts, survival's definition
    c = res.concordant + res.discordant + res.tied_x
    assert res.c_index == pytest.approx((res.concordant + res.tied_x / 2) / c, abs=1e-15)
    assert np.sum(res.influence**2) == pytest.approx(res.std_err**2, rel=1e-12)


def _brute(time, event, risk, w):
    C = D = TX = TY = TXY = 0.0
    n = len(time)
    for i in range(n):
        if not event[i]:
            continue
        for j in range(n):
            if j == i:
                continue
            ww = w[i] * w[j]
            if time[j] > time[i] or (time[j] == time[i] and not event[j]):
                if risk[i] > risk[j]:
                    C += ww
                elif risk[i] < risk[j]:
                    D += ww
                else:
                    TX += ww
            elif time[j] == time[i] and event[j] and j > i:
                if risk[i] == risk[j]:
                    TXY += ww
                else:
                    TY += ww
    return C, D, TX, TY, TXY


def test_counts_match_brute_force_with_ties_and_weights():
    rng = np.random.default_rng(11)
    n = 250
    time = rng.integers(1, 30, n).astype(float)
    event = rng.integers(0, 2, n)
    risk = rng.integers(0, 8, n).astype(float)
    w = rng.integers(0, 4, n).astype(float)
    res = concordance_index(time, event, risk, weights=w)
    C, D, TX, TY, TXY = _brute(time, event, risk, w)
    assert (res.concordant, res.discordant, res.tied_x, res.tied_y, res.tied_xy) == (C, D, TX, TY, TXY)


def test_integer_weights_equal_expanded_sample():
    rng = np.random.default_rng(3)
    n = 200
    time = rng.exponential(5, n)
    event = rng.integers(0, 2, n)
    risk = rng.normal(size=n)
    w = rng.integers(0, 3, n)
    idx = np.repeat(np.arange(n), w)
    a = concordance_index(time, event, risk, weights=w)
    b = concordance_index(time[idx], event[idx], risk[idx])
    assert a.c_index == pytest.approx(b.c_index, abs=1e-14)
    # Comparable-pair counts are those of the expanded sample.  tied.y / tied.xy are not:
    # as in survival, a row of weight w does not form pairs with its own copies.
    for k in ("concordant", "discordant", "tied.x"):
        assert a.counts[k] == b.counts[k]


def test_ij_variance_is_sum_of_squared_influence_and_c_symmetry():
    rng = np.random.default_rng(5)
    time = rng.exponential(5, 300)
    event = rng.integers(0, 2, 300)
    risk = rng.normal(size=300)
    a = concordance_index(time, event, risk)
    b = concordance_index(time, event, -risk)
    assert a.c_index + b.c_index == pytest.approx(1.0, abs=1e-14)
    assert a.std_err == pytest.approx(b.std_err, rel=1e-12)


def test_timefix_merges_float_noise_only():
    t = np.array([1.0, 1.0 + 1e-12, 2.0, 3.0])
    assert np.array_equal(timefix(t), [1.0, 1.0, 2.0, 3.0])
    assert np.array_equal(timefix(np.array([1.0, 1.001])), [1.0, 1.001])


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        concordance_index([1, 2], [1, 0], [0.1])
    with pytest.raises(ValueError):
        concordance_index([1, 2], [0, 0], [0.1, 0.2])  # no comparable pair


# -- WeightedConcordance (the bootstrap's fast path) pinned to concordance_index -----------


@pytest.mark.parametrize("n", [60, 500])
def test_weighted_concordance_equals_concordance_index(n):
    from crlmflow.validation.concordance import WeightedConcordance

    rng = np.random.default_rng(n)
    t = rng.integers(1, 30, n).astype(float)  # tied times, events and censorings
    e = rng.integers(0, 2, n)
    x = rng.integers(0, 25, n).astype(float)  # tied risk scores
    wc = WeightedConcordance(t, e, x)
    W = np.stack([np.bincount(rng.integers(0, n, n), minlength=n).astype(float) for _ in range(7)])
    got = wc.c_index(W)
    # comparable pairs by brute force: event i, row j with a later time (or the same time,
    # censored); concordant when the event's score is higher, ties 1/2
    comparable = e[:, None].astype(bool) & (
        (t[None, :] > t[:, None]) | ((t[None, :] == t[:, None]) & (e[None, :] == 0))
    )
    score = np.where(x[None, :] < x[:, None], 1.0, np.where(x[None, :] == x[:, None], 0.5, 0.0))
    for w, g in zip(W, got):
        pair_w = np.outer(w, w) * comparable
        # integer weights: numerator and denominator are exact in both, so C is to the last bit
        assert g == float((pair_w * score).sum() / pair_w.sum())
        assert g == pytest.approx(concordance_index(t, e, x, weights=w).c_index, abs=1e-13)
        idx = np.repeat(np.arange(n), w.astype(int))
        assert g == pytest.approx(concordance_index(t[idx], e[idx], x[idx]).c_index, abs=1e-13)
    assert wc.c_index() == pytest.approx(concordance_index(t, e, x).c_index, abs=1e-13)
    assert isinstance(wc.c_index(W[0]), float)
    w = rng.uniform(0.2, 3.0, n)  # non-integer weights: the same pairs, summed in another order
    assert wc.c_index(w) == pytest.approx(concordance_index(t, e, x, weights=w).c_index, abs=1e-13)


def test_weighted_concordance_without_a_comparable_pair_is_nan():
    from crlmflow.validation.concordance import WeightedConcordance

    wc = WeightedConcordance([1.0, 2.0, 3.0], [0, 0, 1], [0.3, 0.2, 0.1])  # the only event is last
    assert np.isnan(wc.c_index())
    assert wc.c_index(np.array([[1.0, 1.0, 1.0], [2.0, 0.0, 1.0]])).shape == (2,)


def test_stable_radix_order_equals_stable_argsort():
    """The dominance plan's sorts are LSD radix sorts by 16-bit digits that keep the incoming
    order of ties: equal to a stable comparison sort for keys of one digit and of several
    (time keys and risk ranks exceed 2^16 above n = 32,768)."""
    from crlmflow.validation._dominance import _stable_order

    rng = np.random.default_rng(4)
    for hi in (7, 2**16, 2**40):
        key = rng.integers(0, hi, 5000)
        key[:300] = key[300:600]  # ties
        order = rng.permutation(5000)[:4000]
        got = _stable_order(key, order)
        ref = order[np.argsort(key[order], kind="stable")]
        np.testing.assert_array_equal(got, ref)
