"""Riley et al.'s minimum sample size for a survival model, pinned to pmsampsize.

Reference values: the R package pmsampsize's own tests (tests/testthat/test_surv.R,
v1.1.3: criteria 1 and 2 sample sizes and events per parameter) and the worked example of
Riley et al., BMJ 2020;368:m441 (recurrent venous thromboembolism: R2cs 0.051, 30
parameters, rate 0.065 per year, 2-year horizon, mean follow-up 2.07 years -> 5143
patients, EPP 23.07).
"""

import math

import numpy as np
import pytest

from crlmflow.model.sample_size import (
    max_r2_cs,
    r2_cs_from_lr,
    riley_survival_sample_size,
    study_rate_and_followup,
)

# (rsquared, parameters, rate, timepoint, meanfup) -> (n1, n2, final, EPP1, EPP2)
PMSAMPSIZE_TESTS = [
    ((0.051, 25, 0.065, 2, 2.07), (4286, 875, 4286, 23.07, 4.71)),
    ((0.065, 25, 0.065, 2, 2.07), (3335, 868, 3335, 17.95, 4.67)),
    ((0.051, 50, 0.065, 2, 2.07), (8572, 1749, 8572, 23.07, 4.71)),
    ((0.051, 25, 0.1, 2, 2.07), (4286, 725, 4286, 35.49, 6.00)),
    ((0.051, 25, 0.065, 4, 2.07), (4286, 875, 4286, 23.07, 4.71)),
    ((0.051, 25, 0.065, 2, 4), (4286, 684, 4286, 44.57, 7.11)),
    ((0.06, 40, 0.08, 3, 5), (5798, 974, 5798, 57.98, 9.74)),
    ((0.03, 10, 0.09, 3, 3), (2950, 273, 2950, 79.65, 7.37)),
    ((0.3, 80, 0.03, 1, 5), (1974, 2279, 2279, 3.70, 4.27)),
]


@pytest.mark.parametrize(("args", "expected"), PMSAMPSIZE_TESTS)
def test_matches_pmsampsize_test_values(args, expected):
    r2, p, rate, t, fup = args
    n1, n2, final, epp1, epp2 = expected
    res = riley_survival_sample_size(p, r2, rate, t, fup)
    assert (res.n_shrinkage, res.n_optimism, res.n_required) == (n1, n2, final)
    assert round(n1 * rate * fup / p, 2) == pytest.approx(epp1)
    assert round(n2 * rate * fup / p, 2) == pytest.approx(epp2)
    # pmsampsize's criterion 3 is a check at max(n1, n2); ours is also met there
    assert res.n_precision <= max(n1, n2)
    assert res.margin_at_n <= 0.05


def test_bmj_2020_worked_example():
    res = riley_survival_sample_size(30, 0.051, 0.065, 2, 2.07)
    assert res.n_required == 5143
    assert round(res.events_per_parameter, 2) == 23.07
    assert res.final_shrinkage == 0.9
    # overall 2-year risk 1 - exp(-0.13) = 0.122, estimated within a small margin at n = 5143
    assert res.risk_at_horizon == pytest.approx(1 - math.exp(-0.13))
    assert res.margin_at_n < 0.01


def test_max_r2_formula():
    # E/n = rate * fup; lnL0/n = rate*fup*(ln(rate*fup) - 1); pmsampsize rounds to 2 decimals
    rf = 0.065 * 2.07
    exact = 1 - math.exp(2 * rf * (math.log(rf) - 1))
    assert max_r2_cs(0.065, 2.07) == round(exact, 2)


def test_precision_criterion_solves_its_margin():
    # a rare outcome over a long horizon: criterion (iii) drives the sample size
    res = riley_survival_sample_size(2, 0.01, 0.002, 60, 30, margin=0.01)
    n3 = res.n_precision
    half = lambda n: 1.959963984540054 * math.sqrt(0.002 / (n * 30))  # noqa: E731
    risk = 1 - math.exp(-0.12)
    assert 1 - math.exp(-(0.002 + half(n3)) * 60) - risk <= 0.01
    assert 1 - math.exp(-(0.002 + half(n3 - 1)) * 60) - risk > 0.01
    assert res.n_required == max(res.n_shrinkage, res.n_optimism, n3)


def test_refuses_r2_above_shrinkage_or_maximum():
    with pytest.raises(ValueError, match="below the target shrinkage"):
        riley_survival_sample_size(10, 0.95, 0.065, 2, 2.07)
    with pytest.raises(ValueError, match="largest possible"):
        riley_survival_sample_size(10, 0.5, 0.001, 2, 1.0)


def test_study_rate_and_r2_from_lr():
    rate, fup, pt = study_rate_and_followup(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 0, 1, 0]))
    assert (rate, fup, pt) == (0.2, 2.5, 10.0)
    assert r2_cs_from_lr(10.0, 100) == pytest.approx(1 - math.exp(-0.1))


def test_study_sample_size_rows_and_heuristic_r2():
    from crlmflow.model.sample_size import heuristic_shrinkage, study_sample_size

    rng = np.random.default_rng(5)
    t = rng.exponential(40.0, 300)
    e = (rng.random(300) < 0.6).astype(float)
    rows = study_sample_size(t, e, parameters=26, full_model_lr=60.0, horizon=36.0, r2_cs=0.1)
    assert [r["r2_source"].split(":")[0].split(" ")[0] for r in rows] == ["full", "conservative", "given"]
    full, conservative, given = rows
    assert full["r2_cs"] == pytest.approx(heuristic_shrinkage(60.0, 26) * (1 - math.exp(-60.0 / 300)))
    assert conservative["nagelkerke"] == pytest.approx(0.15)
    assert given["r2_cs"] == 0.1
    for r in rows:
        res = riley_survival_sample_size(26, r["r2_cs"], r["rate"], 36.0, r["mean_followup"])
        assert r["n_required"] == res.n_required and r["met"] == (300 >= res.n_required)
        assert r["actual_events_per_parameter"] == pytest.approx(e.sum() / 26)
    # a full model whose LR chi-square is below its parameters has no usable heuristic R2
    bad = study_sample_size(t, e, parameters=26, full_model_lr=20.0, horizon=36.0)[0]
    assert bad["not_estimable"] and "n_required" not in bad
