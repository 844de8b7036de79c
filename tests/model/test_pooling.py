"""Rubin's rules, the majority rule and pooled measures (crlmflow.model.pooling)."""

import numpy as np
import pytest
from scipy import stats

from crlmflow.model.pooling import majority_terms, pool_mean, rubin_pool, selection_table


def test_rubin_rules_match_a_hand_computed_example():
    # m = 3 estimates 1.0, 1.2, 1.4 with variances 0.04, 0.05, 0.06, by hand:
    # Qbar = 1.2, Ubar = 0.05, B = (0.04 + 0 + 0.04) / 2 = 0.04,
    # T = 0.05 + (4/3)(0.04) = 0.10333..., r = 0.05333/0.05 = 1.06667,
    # lambda = 0.05333/0.10333 = 0.516129, nu_old = 2 / lambda^2 = 7.5078125
    res = rubin_pool([1.0, 1.2, 1.4], [0.04, 0.05, 0.06]).iloc[0]
    assert res["estimate"] == pytest.approx(1.2)
    assert res["ubar"] == pytest.approx(0.05)
    assert res["b"] == pytest.approx(0.04)
    assert res["t"] == pytest.approx(0.05 + 0.04 * 4 / 3)
    assert res["se"] == pytest.approx(np.sqrt(0.31 / 3))
    assert res["riv"] == pytest.approx(16 / 15)
    assert res["lambda"] == pytest.approx(16 / 31)
    assert res["df"] == pytest.approx(7.5078125)
    assert res["fmi"] == pytest.approx((16 / 15 + 2 / (7.5078125 + 3)) / (16 / 15 + 1))
    crit = stats.t.ppf(0.975, 7.5078125)
    assert res["lower"] == pytest.approx(1.2 - crit * np.sqrt(0.31 / 3))
    assert res["p"] == pytest.approx(2 * stats.t.sf(1.2 / np.sqrt(0.31 / 3), 7.5078125))


def test_barnard_rubin_degrees_of_freedom_by_hand():
    # nu_com = 10: nu_obs = 11/13 * 10 * (1 - 16/31) = 4.0942928..., nu = 1/(1/7.5078125 + 1/nu_obs)
    res = rubin_pool([1.0, 1.2, 1.4], [0.04, 0.05, 0.06], df_complete=10).iloc[0]
    nu_obs = 11 / 13 * 10 * (15 / 31)
    assert nu_obs == pytest.approx(4.0942928, rel=1e-7)
    assert res["df"] == pytest.approx(1 / (1 / 7.5078125 + 1 / nu_obs))
    assert res["df"] < 10


def test_rubin_pool_several_parameters_and_no_between_variance():
    est = np.array([[0.5, 2.0], [0.5, 2.2]])
    var = np.array([[0.01, 0.1], [0.01, 0.3]])
    res = rubin_pool(est, var, names=["a", "b"])
    assert list(res.index) == ["a", "b"]
    # identical estimates: T = Ubar, no missing information, infinite df (normal interval)
    assert res.loc["a", "t"] == pytest.approx(0.01) and np.isinf(res.loc["a", "df"])
    assert res.loc["a", "upper"] == pytest.approx(0.5 + stats.norm.ppf(0.975) * 0.1)
    assert res.loc["b", "t"] == pytest.approx(0.2 + 1.5 * 0.02)
    with pytest.raises(ValueError, match="at least 2"):
        rubin_pool([[1.0]], [[0.1]])


def test_majority_rule_keeps_terms_selected_in_at_least_half():
    chosen = [["a", "b"], ["a"], ["a", "c"], ["b", "a"]]
    assert majority_terms(chosen, ["a", "b", "c"]) == ["a", "b"]
    tab = selection_table(chosen, ["a", "b", "c"]).set_index("variable")
    assert tab.loc["b", "times_selected"] == 2 and tab.loc["b", "proportion"] == 0.5
    assert not tab.loc["c", "in_final"] and (tab["imputations"] == 4).all()
    assert majority_terms(chosen, ["a", "b", "c"], threshold=0.75) == ["a"]


def test_pool_mean_averages_finite_values():
    out = pool_mean([0.7, 0.8, np.nan])
    assert out["pooled"] == pytest.approx(0.75) and out["n"] == 2
    assert out["between_sd"] == pytest.approx(np.std([0.7, 0.8], ddof=1))
