"""Pairwise log-rank tests with Holm's correction equal R (survdiff per pair, p.adjust holm)."""

import numpy as np
import pytest
import rref

from crlmflow.survival.pairwise import holm_adjust, pairwise_logrank


def _chemo(d):
    return np.where(
        d["chemo_full_course"] == 1,
        "full_course",
        np.where(d["chemo_neoadjuvant_only"] == 1, "neoadjuvant_only", "adjuvant_only"),
    )


@pytest.mark.parametrize("ep", ["os", "rfs"])
def test_pairwise_logrank_equals_r(ep):
    ref = rref.read_json("pairwise_logrank.json")
    d = rref.rows("crlm_a")
    res = pairwise_logrank(d[f"{ep}_months"], d[f"{ep}_event"], _chemo(d), levels=ref["levels"])
    assert res["group_1"].tolist() == ref[ep]["group_1"]
    assert res["group_2"].tolist() == ref[ep]["group_2"]
    for col in ("chisq", "p", "p_holm"):
        rref.assert_rel(res[col].to_numpy(float), np.asarray(ref[ep][col]), what=col)


def test_holm_adjust_keeps_missing_and_caps_at_one():
    out = holm_adjust([0.01, np.nan, 0.04, 0.6])
    np.testing.assert_allclose(out[[0, 2, 3]], [0.03, 0.08, 0.6])
    assert np.isnan(out[1])
    assert holm_adjust([0.5, 0.6]).tolist() == [1.0, 1.0]
