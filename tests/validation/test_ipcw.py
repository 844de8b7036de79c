"""Censoring weights of the IPCW measures (crlmflow.validation._ipcw)."""

from __future__ import annotations

import numpy as np
import pytest

from crlmflow.validation._ipcw import censoring_weights, censoring_weights_at


def test_weights_at_several_horizons_equal_one_horizon_at_a_time():
    """Issue 20: one reverse Kaplan–Meier fit serves every horizon; each horizon's weights are
    those of ``censoring_weights`` at that horizon alone, to the last bit."""
    rng = np.random.default_rng(2)
    time = np.round(rng.exponential(25, 400))
    event = (rng.random(400) < 0.5).astype(float)
    many = censoring_weights_at(time, event, [6, 12.5, 60])
    assert list(many) == [6.0, 12.5, 60.0]
    for h, cw in many.items():
        one = censoring_weights(time, event, h)
        assert cw.horizon == one.horizon == h
        assert cw.G_t == one.G_t
        for name in ("G_Ti_minus", "uniq", "n_risk", "cum_lambda_star", "m", "time", "event"):
            np.testing.assert_array_equal(getattr(cw, name), getattr(one, name), err_msg=name)
    assert many[6.0].G_t >= many[12.5].G_t >= many[60.0].G_t


def test_weights_check_their_input():
    with pytest.raises(ValueError):
        censoring_weights_at([1.0, 2.0], [1.0, 2.0], [1.0])
