"""Penalised Cox fits and their cross-validation (crlmflow.model.penalised).

Ridge is pinned to scikit-survival's CoxPHSurvivalAnalysis (same objective, alpha = n·α);
LASSO and elastic net are scikit-survival's Coxnet itself; the grid's α_max is the
smallest penalty with every coefficient 0 (glmnet's definition).
"""

import numpy as np
import pytest
from rref import load_case
from sksurv.linear_model import CoxnetSurvivalAnalysis, CoxPHSurvivalAnalysis
from sksurv.util import Surv

from crlmflow.model.penalised import _alpha_grid, fold_ids, penalised_cox_cv, ridge_cox
from crlmflow.survival.cox import CoxData
from crlmflow.survival.design import design_matrix


@pytest.fixture(scope="module")
def data():
    ref, rows = load_case("crlm_a")
    ep = ref["endpoints"]["os"]
    X = design_matrix(rows, ["age", "bmi", "male", "cea", "ca19_9"]).X
    Xs = (X - X.mean(0)) / X.std(0)
    return rows[ep["time"]].to_numpy(float), rows[ep["event"]].to_numpy(float), X, Xs


def test_ridge_matches_sksurv(data):
    t, e, _, Xs = data
    n = len(t)
    for alpha in (0.01, 0.3):
        ours = ridge_cox(CoxData(t, e, Xs, ties="breslow"), alpha)
        ref = CoxPHSurvivalAnalysis(alpha=n * alpha, ties="breslow", tol=1e-12).fit(Xs, Surv.from_arrays(e == 1, t))
        np.testing.assert_allclose(ours, ref.coef_, atol=1e-6)


def test_alpha_max_is_the_smallest_all_zero_penalty(data):
    t, e, _, Xs = data
    grid = _alpha_grid(Xs, t, e, 1.0, 5, 1e-2)
    y = Surv.from_arrays(e == 1, t)
    with pytest.warns(UserWarning, match="all coefficients are zero"):
        at_max = CoxnetSurvivalAnalysis(l1_ratio=1.0, alphas=[grid[0] * 1.001]).fit(Xs, y).coef_[:, 0]
    below = CoxnetSurvivalAnalysis(l1_ratio=1.0, alphas=[grid[0] * 0.95]).fit(Xs, y).coef_[:, 0]
    assert np.all(at_max == 0)
    assert np.count_nonzero(below) >= 1
    assert grid[-1] == pytest.approx(grid[0] * 1e-2)


def test_fold_ids_balanced_and_seeded():
    a = fold_ids(23, 5, np.random.default_rng(3))
    b = fold_ids(23, 5, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert sorted(np.bincount(a)) == [4, 4, 5, 5, 5]
    with pytest.raises(ValueError, match="folds"):
        fold_ids(5, 6, np.random.default_rng(0))


@pytest.mark.parametrize("l1_ratio", [1.0, 0.0])
def test_cv_choice_and_original_scale(data, l1_ratio):
    t, e, X, Xs = data
    foldid = fold_ids(len(t), 5, np.random.default_rng(7))
    best = penalised_cox_cv(t, e, X, l1_ratio=l1_ratio, foldid=foldid, n_alphas=20)
    cv = best.cv
    assert cv.loc[cv["chosen"], "deviance"].item() == cv["deviance"].min()
    one_se = penalised_cox_cv(t, e, X, l1_ratio=l1_ratio, foldid=foldid, n_alphas=20, rule="1se")
    assert one_se.alpha >= best.alpha
    # coefficients per unit of the original columns: the standardised fit divided by the SD
    chosen = float(cv.loc[cv["chosen"], "alpha"].item())
    if l1_ratio == 0:
        std = ridge_cox(CoxData(t, e, Xs, ties="breslow"), chosen)
    else:
        std = CoxnetSurvivalAnalysis(l1_ratio=1.0, alphas=[chosen]).fit(Xs, Surv.from_arrays(e == 1, t)).coef_[:, 0]
    np.testing.assert_allclose(best.coef * X.std(0), std, atol=1e-8)


def test_grid_is_cut_where_the_lasso_diverges_with_many_columns_and_few_events():
    # 30 columns, ~24 events: coordinate descent diverges at the weakest penalties; as
    # glmnet, the path ends there and the penalty is chosen among the fitted ones
    rng = np.random.default_rng(1)
    n, p = 60, 30
    X = rng.normal(size=(n, p))
    t = rng.exponential(size=n) * np.exp(-X[:, 0])
    e = (rng.uniform(size=n) < 0.4).astype(int)
    foldid = fold_ids(n, 5, np.random.default_rng(2))
    res = penalised_cox_cv(t, e, X, l1_ratio=1.0, foldid=foldid, n_alphas=30, alpha_min_ratio=1e-4)
    assert 0 < len(res.cv) < 30
    assert np.isfinite(res.cv["deviance"]).all() and np.isfinite(res.coef).all()
    best = res.cv.loc[res.cv["deviance"].idxmin()]
    assert bool(best["chosen"]) and res.alpha == best["alpha"]
