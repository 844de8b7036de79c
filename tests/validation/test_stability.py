"""Selection stability (Heinze, Wallisch & Dunkler 2018) from optimism-bootstrap replicates."""

import numpy as np
import pandas as pd
import pytest

from crlmflow.survival.selection import prepare
from crlmflow.validation.optimism import bootstrap_indices, run_replicates
from crlmflow.validation.stability import (
    coefficient_stability,
    inclusion_frequency,
    model_frequency,
    pairwise_inclusion,
)


@pytest.fixture(scope="module")
def noise():
    rng = np.random.default_rng(1)
    n, p = 150, 6
    X = rng.normal(size=(n, p))
    t = rng.exponential(20 * np.exp(-0.5 * X[:, 0]))
    c = rng.uniform(5, 60, n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["time"], df["event"] = np.minimum(t, c), (t <= c).astype(int)
    cands = [f"x{j}" for j in range(p)]
    reps = run_replicates(df, cands, "time", "event", [12], range(30), seed=3, screen_p=0.2, exclude=("x5",))
    return df, cands, reps


def test_replicate_coefficients_are_the_refit_of_the_selected_terms(noise):
    df, cands, reps = noise
    checked = 0
    for _, row in reps.head(5).iterrows():
        sel = row["selected"].split(";") if isinstance(row["selected"], str) and row["selected"] else []
        for v in cands:
            if v not in sel:
                assert row[f"coef_{v}"] == 0.0
        if sel:
            boot = df.iloc[bootstrap_indices(len(df), 3, 0, int(row["b"]))]
            fit = prepare(boot, sel, "time", "event").fit(sel)
            np.testing.assert_allclose([row[f"coef_{v}"] for v in sel], fit.coef, rtol=1e-5, atol=1e-7)
            checked += 1
    assert checked > 0


def test_inclusion_models_pairs_and_coefficients(noise):
    df, cands, reps = noise
    sets = [set(s.split(";")) if isinstance(s, str) and s else set() for s in reps["selected"]]
    inc = inclusion_frequency(reps, cands, exclude=["x5"], final=["x0"]).set_index("variable")
    assert not inc.loc["x5", "eligible"] and np.isnan(inc.loc["x5", "proportion"])
    assert pd.isna(inc.loc["x5", "times_selected"])
    assert inc.loc["x0", "times_selected"] == sum("x0" in s for s in sets)
    assert inc.loc["x0", "in_final_model"] and not inc.loc["x1", "in_final_model"]
    models = model_frequency(reps, ["x0"])
    assert models["times_selected"].sum() == len(reps)
    assert models.loc[models["is_final_model"], "times_selected"].iloc[0] == sum(s == {"x0"} for s in sets)
    none = models[models["model"] == ""]
    assert none["times_selected"].sum() == sum(not s for s in sets)
    pairs = pairwise_inclusion(reps, cands[:5]).set_index(["variable_1", "variable_2"])
    assert len(pairs) == 10
    assert pairs.loc[("x0", "x1"), "proportion_both"] == pytest.approx(np.mean([{"x0", "x1"} <= s for s in sets]))
    # global model of every eligible candidate
    problem = prepare(df, cands[:5], "time", "event")
    full = problem.fit(cands[:5])
    g = pd.DataFrame({"term": full.names, "coef": full.coef, "se": full.se})
    coef = coefficient_stability(reps, g, {v: v for v in cands}).set_index("term")
    b = reps["coef_x0"].to_numpy(float)
    assert coef.loc["x0", "rmsd_ratio"] == pytest.approx(np.sqrt(np.mean((b - full.coef[0]) ** 2)) / full.se[0])
    chosen = np.array(["x0" in s for s in sets])
    assert coef.loc["x0", "relative_conditional_bias"] == pytest.approx(b[chosen].mean() / full.coef[0] - 1)
    # a noise variable dropped in most replicates has its bootstrap mean shrunk towards 0
    assert abs(coef.loc["x3", "bootstrap_mean"]) <= abs(coef.loc["x3", "conditional_mean"])
