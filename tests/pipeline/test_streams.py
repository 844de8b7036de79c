"""Named random streams: independent by purpose and key, reproducible, and validated."""

import numpy as np
import pytest

from crlmflow.pipeline.streams import PURPOSES, integer_seed, stream


def test_same_purpose_and_keys_give_the_same_draws():
    a = stream(20240101, "optimism_bootstrap", 0, 5).integers(0, 1000, 50)
    b = stream(20240101, "optimism_bootstrap", 0, 5).integers(0, 1000, 50)
    np.testing.assert_array_equal(a, b)


def test_purposes_and_keys_give_different_streams():
    draws = {(p, k): tuple(stream(7, p, k).integers(0, 2**31, 4)) for p in PURPOSES for k in (0, 1)}
    assert len(set(draws.values())) == len(draws)


def test_ids_are_unique_and_unknown_purpose_is_named():
    assert len(set(PURPOSES.values())) == len(PURPOSES)
    with pytest.raises(ValueError, match="unknown random-stream purpose 'bootstrap'"):
        stream(1, "bootstrap")


def test_integer_seed_is_stable_and_in_range():
    s = integer_seed(3, "simstudy_truth")
    assert s == integer_seed(3, "simstudy_truth") and 0 <= s < 2**32
    assert s != integer_seed(4, "simstudy_truth")
