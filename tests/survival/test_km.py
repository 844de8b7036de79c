"""Kaplan–Meier, median and log-rank against R survival 3.5-3 (survfit, quantile, survdiff)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rref import assert_abs, assert_rel, na

from crlmflow.survival.km import (
    kaplan_meier,
    logrank_test,
    median_survival,
    number_at_risk,
    survival_at,
)

CONF = {"log_log": "log-log", "log": "log"}


def _check_block(km_block, time, event):
    for key, conf in CONF.items():
        ref = km_block[key]
        km = kaplan_meier(time, event, conf_type=conf)
        c = ref["curve"]
        assert_rel(km.time, c["time"], rtol=1e-15, what="time")
        np.testing.assert_array_equal(km.n_risk, c["n_risk"])
        np.testing.assert_array_equal(km.n_event, c["n_event"])
        np.testing.assert_array_equal(km.n_censor, c["n_censor"])
        assert_abs(km.surv, c["surv"], atol=1e-12, what="surv")
        assert_rel(km.std_err, na(c["std_err_cumhaz"]), rtol=1e-9, what="std.err")
        assert_abs(km.lower, na(c["lower"]), atol=1e-10, what=f"{conf} lower")
        assert_abs(km.upper, na(c["upper"]), atol=1e-10, what=f"{conf} upper")

        h = ref["at_horizons"]
        at = survival_at(km, h["horizon"])
        assert_abs(at["surv"], h["surv"], atol=1e-12, what="S(h)")
        assert_abs(at["std_err_surv"], h["std_err_surv"], atol=1e-12, what="se S(h)")
        assert_abs(at["lower"], h["lower"], atol=1e-10)
        assert_abs(at["upper"], h["upper"], atol=1e-10)
        np.testing.assert_array_equal(at["n_risk"], h["n_risk"])
        np.testing.assert_array_equal(at["cum_events"], h["cum_events"])
        np.testing.assert_array_equal(at["beyond_last_time"], h["beyond_last_time"])
        np.testing.assert_array_equal(number_at_risk(time, h["horizon"]), h["n_risk"])

        med = median_survival(km, method="km")
        m = ref["median"]
        assert_abs(
            [med.median, med.lower, med.upper],
            na([m["median"], m["lower"], m["upper"]]),
            atol=1e-12,
            what=f"median {conf}",
        )


def test_km_overall(case):
    ep, df = case["ep"], case["df"]
    _check_block(ep["km"]["overall"], df[ep["time"]], df[ep["event"]])
    assert ep["km"]["overall"]["n"] == len(df)


def test_km_by_group_and_logrank(case):
    ep, df = case["ep"], case["df"]
    gcol = ep["km"]["group"]
    g = df[gcol].astype(str)
    for level, block in ep["km"]["by_group"].items():
        sel = (g == level).to_numpy()
        assert block["n"] == sel.sum()
        _check_block(block, df.loc[sel, ep["time"]], df.loc[sel, ep["event"]])

    levels = list(ep["km"]["by_group"])
    lr = logrank_test(df[ep["time"]], df[ep["event"]], pd.Categorical(g, categories=levels))
    ref = ep["km"]["logrank"]
    assert lr.df == ref["df"]
    assert_rel(lr.chisq, ref["chisq"], rtol=1e-10)
    assert_abs(lr.p, ref["p"], atol=1e-12)
    assert list(lr.groups["level"]) == ref["groups"]["level"]
    np.testing.assert_array_equal(lr.groups["n"], ref["groups"]["n"])
    np.testing.assert_array_equal(lr.groups["observed"], ref["groups"]["observed"])
    assert_rel(lr.groups["expected"], ref["groups"]["expected"], rtol=1e-10)


def test_km_hand_example_and_ties():
    # 6 subjects: deaths at 1, 3, 3; censored at 2, 4, 5
    t = [1, 2, 3, 3, 4, 5]
    e = [1, 0, 1, 1, 0, 0]
    km = kaplan_meier(t, e, conf_type="log")
    np.testing.assert_array_equal(km.time, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(km.n_risk, [6, 5, 4, 2, 1])
    s3 = (5 / 6) * (1 - 2 / 4)
    np.testing.assert_allclose(km.surv, [5 / 6, 5 / 6, s3, s3, s3])
    gw = 1 / (6 * 5) + 2 / (4 * 2)
    np.testing.assert_allclose(km.std_err[2], np.sqrt(gw))
    at = survival_at(km, [0.5, 3, 10])
    np.testing.assert_allclose(at["surv"], [1, s3, s3])
    np.testing.assert_array_equal(at["n_risk"], [6, 4, 0])
    np.testing.assert_array_equal(at["cum_events"], [0, 3, 3])
    # median: S first <= 0.5 at t = 3 -> 0.41667 < 0.5, so median = 3
    assert median_survival(km).median == 3


def test_median_flat_at_half_uses_midpoint():
    # S drops to exactly 0.5 at t=2 and stays there until the next death at t=4
    km = kaplan_meier([1, 2, 3, 4], [1, 1, 0, 1])
    assert median_survival(km).median == pytest.approx((2 + 4) / 2)


def test_median_spss_hand_example():
    """SPSS-style median CI (Collett 2015 §2.4.2): median ± z·se, se = se(S(t50)) / f(t50).

    Ten deaths at t = 1..10, no censoring: S(t_j) = 1 − j/10.  S = 0.5 exactly on [5, 6),
    so the median is the midpoint 5.5 (R's rule, also used for the SPSS estimate here).
    u = max{t_j: S >= 0.55} = 4 (S = 0.6), l = min{t_j: S <= 0.45} = 6 (S = 0.4),
    f = (0.6 − 0.4) / (6 − 4) = 0.1.  Without censoring Greenwood's se of S(5) = 0.5 is the
    binomial sqrt(0.25/10), so se(median) = 0.1581.../0.1 = 1.581...
    """
    t = np.arange(1, 11, dtype=float)
    km = kaplan_meier(t, np.ones(10))
    res = median_survival(km, method="spss")
    se_s = np.sqrt(0.5 * 0.5 / 10)  # no censoring: Greenwood = binomial variance
    se_med = se_s / 0.1
    assert res.median == pytest.approx(5.5)
    assert res.std_err == pytest.approx(se_med, rel=1e-12)
    assert res.lower == pytest.approx(5.5 - 1.959963984540054 * se_med, rel=1e-12)
    assert res.upper == pytest.approx(5.5 + 1.959963984540054 * se_med, rel=1e-12)


def test_logrank_two_groups_by_hand():
    t = np.array([1, 2, 3, 4])
    e = np.array([1, 1, 1, 1])
    g = np.array(["a", "b", "a", "b"])
    lr = logrank_test(t, e, g)
    # expected for 'a': 2/4 + 1/3 + 1/2 + 0 = 4/3; V = 1/4 + 2/9 + 1/4 = 13/18
    np.testing.assert_allclose(lr.groups["expected"], [4 / 3, 8 / 3])
    np.testing.assert_allclose(lr.chisq, (2 - 4 / 3) ** 2 / (13 / 18))


def test_km_scales_linearly():
    rng = np.random.default_rng(1)
    n = 100_000
    t = rng.exponential(10, n).round(2)
    e = rng.random(n) < 0.6
    km = kaplan_meier(t, e)
    assert km.n_risk[0] == n
    at = survival_at(km, [5, 10, 20])
    assert (np.diff(at["surv"]) <= 0).all()
    lr = logrank_test(t, e, rng.integers(0, 3, n))
    assert lr.df == 2
