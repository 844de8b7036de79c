"""check_survival: the one validator of (time, event, ...) inputs."""

import numpy as np
import pandas as pd
import pytest

from crlmflow.model.cutpoint import maxstat_cutpoint
from crlmflow.survival.checks import check_survival
from crlmflow.survival.km import kaplan_meier
from crlmflow.validation.concordance import concordance_index


def test_returns_float_1d_arrays_from_lists_series_and_booleans():
    t, e, x = check_survival(pd.Series([3, 0, 2.5]), [True, False, True], np.array([[1], [2], [3]]))
    for a in (t, e, x):
        assert a.dtype == np.float64 and a.shape == (3,)
    assert e.tolist() == [1.0, 0.0, 1.0]
    assert t.tolist() == [3.0, 0.0, 2.5]
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_empty_input_is_valid():
    t, e = check_survival([], [])
    assert t.shape == e.shape == (0,)


@pytest.mark.parametrize(
    "time, event, arrays, pattern",
    [
        (
            [1, 2, np.nan],
            [1, 0, 1],
            (),
            r"time: 1 of 3 values are invalid, the first at position 2 \(0-based\): "
            r"found nan; expected a finite number",
        ),
        ([1, np.inf, 3], [1, 0, 1], (), r"time: .* position 1 .*found inf"),
        ([1, -2, 3], [1, 0, 1], (), r"time: 1 of 3 .* position 1 .*found -2\.0; expected a time >= 0"),
        ([1, 2, 3], [1, 2, 0], (), r"event: 1 of 3 .* position 1 .*found 2\.0; expected 0 \(censored\) or 1"),
        ([1, 2, 3], [1, np.nan, 0], (), r"event: .*found nan; expected 0 \(censored\) or 1"),
        ([1, 2, 3], [1, 0], (), r"event: found 2 values; expected 3, one per value of time"),
        ([1, 2, 3], [1, 0, 1], ([0.1, 0.2],), r"array 1: found 2 values; expected 3"),
        ([1, 2, 3], [1, 0, 1], ([0.1, np.nan, np.nan],), r"array 1: 2 of 3 values are invalid, .* position 1"),
        ([[1, 2], [3, 4]], [1, 0], (), r"time: found an array of shape \(2, 2\); expected a 1-D array"),
        (["1", "x"], [1, 0], (), r"time: found values that are not numbers"),
    ],
)
def test_bad_input_names_array_position_value_and_expectation(time, event, arrays, pattern):
    with pytest.raises(ValueError, match=pattern):
        check_survival(time, event, *arrays)


def test_names_are_used_in_messages_and_must_match_inputs():
    with pytest.raises(ValueError, match=r"^risk: 1 of 2 .*found nan"):
        check_survival([1, 2], [1, 0], [0.5, np.nan], names=("time", "event", "risk"))
    with pytest.raises(ValueError, match="found 2 names for 3 inputs"):
        check_survival([1, 2], [1, 0], [0.5, 0.1], names=("time", "event"))


def test_zero_time_is_allowed_unless_asked_otherwise():
    check_survival([0.0, 1.0], [1, 0])
    with pytest.raises(ValueError, match=r"time: 1 of 2 .* position 0 .*found 0\.0; expected a time > 0"):
        check_survival([0.0, 1.0], [1, 0], allow_zero_time=False)


@pytest.mark.parametrize(
    "call",
    [
        lambda t, e, x: kaplan_meier(t, e),
        lambda t, e, x: maxstat_cutpoint(x, t, e),
        lambda t, e, x: concordance_index(t, e, x),
    ],
    ids=["km", "cutpoint", "concordance"],
)
def test_estimators_share_the_checker(call):
    rng = np.random.default_rng(1)
    t, e, x = rng.exponential(10, 40), rng.integers(0, 2, 40), rng.normal(size=40)
    call(t, e, x)  # valid input passes
    bad = e.astype(float)
    bad[7] = 3
    with pytest.raises(ValueError, match=r"^event: 1 of 40 values are invalid, the first at position 7"):
        call(t, bad, x)
    neg = t.copy()
    neg[5] = -1.0
    with pytest.raises(ValueError, match=r"^time: 1 of 40 .* position 5 .*expected a time >= 0"):
        call(neg, e, x)
