"""Risk-set structure of CoxData (public ``risk_sets``), checked by hand and by rebuilding."""

from __future__ import annotations

import numpy as np
import pytest

from crlmflow.survival.cox import CoxData
from crlmflow.survival.risksets import risk_sets

TIME = np.array([5.0, 3.0, 5.0, 8.0, 3.0, 1.0, 5.0])
EVENT = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0])


def test_structure_by_hand():
    rs = risk_sets(TIME, EVENT)
    # descending time, deaths before censorings at a tied time
    assert list(TIME[rs.order]) == [8, 5, 5, 5, 3, 3, 1]
    assert list(EVENT[rs.order]) == [0, 1, 1, 0, 1, 1, 1]
    assert list(rs.event_times) == [5, 3, 1]
    assert list(rs.risk_end) == [3, 5, 6]  # everyone with time >= t
    assert list(rs.death_pos) == [1, 2, 4, 5, 6]
    assert list(rs.block_start) == [1, 4, 6] and list(rs.block_end) == [2, 5, 6]
    assert list(rs.death_group) == [0, 0, 1, 1, 2]
    assert list(rs.deaths) == [2, 2, 1]
    assert list(rs.row_first_group) == [0, 0, 0, 0, 1, 1, 2]
    # Efron: d tied deaths give d terms with fractions 0, 1/d, ...
    assert list(rs.term_group) == [0, 0, 1, 1, 2]
    np.testing.assert_array_equal(rs.term_frac, [0, 0.5, 0, 0.5, 0])
    br = rs.with_ties("breslow")
    assert list(br.term_group) == [0, 1, 2] and list(br.term_weight) == [2, 2, 1]
    assert not br.term_frac.any()


def test_reweighting_equals_rebuilding():
    w = np.array([2.0, 0.0, 1.0, 3.0, 1.0, 2.0, 1.0])
    a = risk_sets(TIME, EVENT).with_weights(w)
    b = risk_sets(TIME, EVENT, weights=w)
    for name in a.__dataclass_fields__:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    d = CoxData(TIME, EVENT, np.arange(7.0)).with_weights(w)
    assert np.array_equal(d.risk_sets.weights, w[d.risk_sets.order])
    assert np.array_equal(d.weights, w) and d.n_events == float(w @ EVENT)


def test_bad_weights_and_ties_are_named():
    with pytest.raises(ValueError, match="integer frequency weights"):
        risk_sets(TIME, EVENT, weights=np.full(7, 0.5))
    with pytest.raises(ValueError, match="one per row"):
        risk_sets(TIME, EVENT, weights=np.ones(3))
    with pytest.raises(ValueError, match="'efron' or 'breslow', got 'exact'"):
        risk_sets(TIME, EVENT, ties="exact")


def test_a_known_order_gives_the_risk_sets_of_a_fresh_sort():
    """Issue 20: a bootstrap sample's distinct rows keep their order in the whole sample's
    sort; passing that order builds the very risk sets a fresh sort builds."""
    rng = np.random.default_rng(5)
    n = 300
    time = np.round(rng.exponential(20, n))  # tied times, tied (time, event) pairs
    event = (rng.random(n) < 0.6).astype(float)
    whole = risk_sets(time, event)
    w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
    drawn = w > 0
    sub = np.flatnonzero(drawn)
    known = (np.cumsum(drawn) - 1)[whole.order[drawn[whole.order]]]
    fresh = risk_sets(time[sub], event[sub], w[sub])
    given = risk_sets(time[sub], event[sub], w[sub], order=known)
    for name in ("order", "event_times", "risk_end", "death_pos", "block_start", "weights", "term_frac"):
        np.testing.assert_array_equal(getattr(given, name), getattr(fresh, name), err_msg=name)
    X = rng.normal(size=(sub.size, 2))
    a = CoxData(time[sub], event[sub], X, weights=w[sub]).fit()
    b = CoxData(time[sub], event[sub], X, weights=w[sub], order=known).fit()
    assert a.loglik == b.loglik and np.array_equal(a.coef, b.coef)


@pytest.mark.parametrize(
    "order, match",
    [
        ([0, 1, 1], "permutation"),
        ([2, 1, 0], "descending time"),  # ascending times
        ([0, 1], "permutation"),
    ],
)
def test_a_wrong_order_is_refused(order, match):
    time = np.array([5.0, 3.0, 1.0])
    event = np.array([1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match=match):
        risk_sets(time, event, order=np.array(order))


def test_an_order_breaking_ties_against_row_order_is_refused():
    time = np.array([5.0, 5.0, 5.0])
    event = np.array([0.0, 1.0, 0.0])
    assert np.array_equal(risk_sets(time, event, order=np.array([1, 0, 2])).order, [1, 0, 2])
    with pytest.raises(ValueError, match="deaths first"):
        risk_sets(time, event, order=np.array([0, 1, 2]))  # a censoring before the death
    with pytest.raises(ValueError, match="row order"):
        risk_sets(time, event, order=np.array([1, 2, 0]))
