"""NLR/PLR/SII and the Fong clinical risk score (crlmflow.data.indices.derive_indices)."""

from __future__ import annotations

import pandas as pd
import pytest

from crlmflow.data.columns import ANALYSIS_COLUMNS
from crlmflow.data.indices import CRS_ITEMS, DERIVED_COLUMNS, derive_indices


def cohort(*rows: dict) -> pd.DataFrame:
    base = dict(
        patient_id="P",
        neut=3.6,
        lymph=1.8,
        plt=216.0,
        cea=5.0,
        primary_node_positive=0,
        metastasis_timing="synchronous",
        disease_free_interval_months=0.0,
        n_liver_metastases=1,
        largest_metastasis_cm=2.0,
        os_months=20.0,
        os_event=1,
    )
    return pd.DataFrame([dict(base, patient_id=f"P{i}", **r) for i, r in enumerate(rows)])


def test_ratios_hand_computed():
    out = derive_indices(cohort({"neut": 3.6, "lymph": 1.8, "plt": 216.0}, {"neut": 5.0, "lymph": 0.5, "plt": 150.0}))
    assert out["nlr"].tolist() == pytest.approx([2.0, 10.0])
    assert out["plr"].tolist() == pytest.approx([120.0, 300.0])
    assert out["sii"].tolist() == pytest.approx([432.0, 1500.0])  # 216*3.6/1.8, 150*5/0.5


def test_crs_items_and_boundaries():
    out = derive_indices(
        cohort(
            {},  # all 0 except synchronous -> 1
            {"cea": 200.0},  # exactly 200 -> 0
            {"cea": 200.01},  # -> 1
            {"largest_metastasis_cm": 5.0},  # exactly 5 -> 0
            {"largest_metastasis_cm": 5.01},  # -> 1
            {"metastasis_timing": "metachronous", "disease_free_interval_months": 12.0},  # DFI 12 -> 1
            {"metastasis_timing": "metachronous", "disease_free_interval_months": 12.5},  # -> 0
            {"n_liver_metastases": 2},  # > 1 -> 1
            {"primary_node_positive": 1, "n_liver_metastases": 3, "cea": 500.0, "largest_metastasis_cm": 8.0},
        )
    )
    assert out["crs_cea_gt_200"].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert out["crs_largest_gt_5cm"].tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert out["crs_dfi_le_12_or_synchronous"].tolist() == [1, 1, 1, 1, 1, 1, 0, 1, 1]
    assert out["crs_multiple_metastases"].tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 1]
    assert out["crs_node_positive"].tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert out["crs_score"].tolist() == [1, 1, 2, 1, 2, 1, 0, 2, 5]
    assert out["crs_high"].tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert all(out[c].dtype == "int64" for c in CRS_ITEMS + ["crs_score", "crs_high"])


def test_crs_high_threshold():
    out = derive_indices(
        cohort(
            {"primary_node_positive": 1, "n_liver_metastases": 2},  # 1 + 1 + 1 = 3 -> high
            {"n_liver_metastases": 2},  # 2 -> low
        )
    )
    assert out["crs_score"].tolist() == [3, 2]
    assert out["crs_high"].tolist() == [1, 0]


def test_column_order_and_extras_kept():
    df = cohort({})
    df["male"] = 1
    df["my_extra"] = "x"
    out = derive_indices(df)
    expected = [c for c in ANALYSIS_COLUMNS if c in out.columns]
    assert list(out.columns[: len(expected)]) == expected
    assert "my_extra" in out.columns[len(expected) :]
    assert set(DERIVED_COLUMNS) <= set(out.columns)
    assert list(df.columns)[-1] == "my_extra" and "nlr" not in df  # input not modified


def test_text_input_and_missing_ingredients():
    df = cohort({}, {}).astype(str)
    df.loc[1, "cea"] = None  # as read_table gives a missing cell
    out = derive_indices(df)
    assert out["nlr"].tolist() == pytest.approx([2.0, 2.0])
    assert out["crs_cea_gt_200"].iloc[0] == 0 and pd.isna(out["crs_cea_gt_200"].iloc[1])
    assert pd.isna(out["crs_score"].iloc[1]) and pd.isna(out["crs_high"].iloc[1])
    assert out["crs_score"].iloc[0] == 1


def test_missing_input_column():
    with pytest.raises(KeyError, match="'cea'"):
        derive_indices(cohort({}).drop(columns=["cea"]))
