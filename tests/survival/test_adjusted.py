"""The public adjusted Cox model: named terms, treatment coding, HR with CI, term tests."""

import numpy as np
import pandas as pd
import pytest

from crlmflow.survival.adjusted import adjusted_cox
from crlmflow.survival.selection import fit_terms, prepare, term_wald


@pytest.fixture
def cohort():
    rng = np.random.default_rng(3)
    n = 300
    site = rng.choice(["colon", "rectum", "other"], n)
    age = rng.normal(60, 10, n)
    lp = 0.03 * (age - 60) + np.where(site == "rectum", 0.5, 0.0)
    t = rng.exponential(1 / np.exp(lp)) * 24
    c = rng.uniform(0, 48, n)
    return pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int), "age": age, "site": site})


def test_matches_the_selection_machinery_and_names_the_terms(cohort):
    site = {"name": "site", "type": "factor", "levels": ["colon", "rectum", "other"], "ref": "colon"}
    res = adjusted_cox(cohort, "time", "event", ["age", site])
    cols = list(res.coefficients["column"])
    assert cols[0] == "age" and sorted(cols[1:]) == ["siteother", "siterectum"]
    assert list(res.coefficients["term"]) == ["age", "site", "site"]
    problem = prepare(cohort, ["age", site], "time", "event")
    ref = fit_terms(problem, ["age", "site"])
    np.testing.assert_allclose(res.fit.coef, ref.coef, rtol=1e-10)
    row = res.coefficients.iloc[0]
    assert row["hr"] == pytest.approx(np.exp(row["coef"]))
    assert row["lower"] == pytest.approx(np.exp(row["coef"] - 1.959963984540054 * row["se"]))
    pd.testing.assert_frame_equal(res.terms, term_wald(problem, ref, ["age", "site"]))
    # the simulated effects are recovered: rectum vs colon HR near e^0.5, age per year e^0.03
    rectum = res.coefficients.set_index("column").loc["siterectum"]
    assert rectum["lower"] < np.exp(0.5) < rectum["upper"] and rectum["p"] < 0.05
    assert res.terms.set_index("term").loc["site", "df"] == 2


def test_missing_values_are_an_error_naming_row_and_column(cohort):
    cohort.loc[7, "age"] = np.nan
    with pytest.raises(ValueError, match=r"'age', row 7: missing value"):
        adjusted_cox(cohort, "time", "event", ["age"])
    cohort.loc[7, "age"] = 60.0
    cohort.loc[9, "time"] = np.nan
    with pytest.raises(ValueError, match=r"column 'time', row 9: missing value"):
        adjusted_cox(cohort, "time", "event", ["age"])
