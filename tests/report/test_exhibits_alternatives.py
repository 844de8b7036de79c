"""Beyond-the-paper tables: model comparison and Riley's minimum sample size."""

import numpy as np
import pandas as pd

from crlmflow.report.exhibits import model_comparison, sample_size_table
from crlmflow.report.formats import MODEL_LABELS, NOT_ESTIMABLE


def _perf(c, slope, brier_ok=True):
    rows = []
    for s in ("train", "validation"):
        rows += [
            dict(set=s, measure="c_index", horizon=np.nan, estimate=c, lower=c - 0.05, upper=c + 0.05, estimable=True),
            dict(
                set=s, measure="calibration_slope", horizon=np.nan, estimate=slope, lower=0.5, upper=1.5, estimable=True
            ),
            dict(set=s, measure="brier", horizon=12.0, estimate=0.2, lower=0.1, upper=0.3, estimable=brier_ok),
            dict(set=s, measure="ipa", horizon=12.0, estimate=0.1, lower=np.nan, upper=np.nan, estimable=brier_ok),
        ]
    return pd.DataFrame(rows)


def test_model_comparison_puts_the_paper_first_and_labels_the_rest():
    alt = pd.concat([_perf(0.71, 0.95).assign(model="lasso"), _perf(0.69, 1.1, False).assign(model="ridge")])
    t = model_comparison(_perf(0.70, 0.8), alt, [12])
    assert list(t["Model"]) == [MODEL_LABELS[m] for m in ("paper", "paper", "lasso", "lasso", "ridge", "ridge")]
    assert "headline" in t["Model"].iloc[0] and all(m.startswith("Beyond the paper") for m in t["Model"].iloc[2:])
    assert list(t.columns) == ["Model", "Set", "Harrell's C", "Calibration slope", "Brier at 1-year", "IPA at 1-year"]
    assert t.loc[0, "Set"].endswith("(apparent)") and t.loc[0, "Harrell's C"] == "0.700"  # no CI when apparent
    assert t.loc[1, "Harrell's C"] == "0.700 (0.650, 0.750)"
    assert t.loc[5, "Brier at 1-year"] == NOT_ESTIMABLE
    # without alternatives: the paper's rows only
    assert len(model_comparison(_perf(0.70, 0.8), None, [12])) == 2


def test_sample_size_table_reports_required_beside_actual():
    frame = pd.DataFrame(
        [
            dict(
                r2_source="full",
                r2_cs=0.2,
                parameters=26,
                nagelkerke=0.26,
                n_shrinkage=1000,
                n_optimism=600,
                n_precision=50,
                n_required=1000,
                events_required=370.2,
                events_per_parameter_required=14.24,
                actual_n=273,
                actual_events=99,
                actual_events_per_parameter=99 / 26,
                met=False,
                not_estimable="",
            ),
            dict(
                r2_source="full",
                r2_cs=-0.1,
                parameters=26,
                actual_n=273,
                actual_events=99,
                actual_events_per_parameter=99 / 26,
                met=np.nan,
                not_estimable="heuristic shrinkage <= 0",
            ),
        ]
    )
    t = sample_size_table(frame)
    assert t.loc[0, "Minimum n"] == "1000" and t.loc[0, "Actual n / events"] == "273 / 99"
    assert t.loc[0, "Actual events per parameter"] == "3.8" and t.loc[0, "Criteria met"] == "no"
    assert t.loc[1, "Minimum n"] == NOT_ESTIMABLE and t.loc[1, "Criteria met"] == NOT_ESTIMABLE
