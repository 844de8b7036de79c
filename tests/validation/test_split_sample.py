import numpy as np
import pandas as pd
from bootstrap_cases import CRLM_CANDIDATES, EXCLUDE
from rref import read_csv

from crlmflow.data.split import TRAIN, train_validation_split
from crlmflow.model.modelling import develop_model, predict
from crlmflow.validation.calibration import calibration_slope
from crlmflow.validation.concordance import concordance_index
from crlmflow.validation.split_sample import split_sample_validation

SELECTION = {"screen_p": 0.10, "method": "forward_lr", "entry_p": 0.05, "removal_p": 0.10, "entry_test": "score"}
SPLIT = {"train_fraction": 0.7, "stratify": "os_event"}


def _cohort() -> pd.DataFrame:
    df = read_csv("crlm_synth_a.csv")
    df["patient_id"] = df["patient_id"].astype(str)
    return df


def test_split_sample_validation_is_the_split_rule_then_the_model_on_the_held_out_part():
    df = _cohort()
    res = split_sample_validation(
        df, CRLM_CANDIDATES, "os", "os_months", "os_event", split=SPLIT, seed=5, selection=SELECTION, exclude=EXCLUDE
    )
    sets = train_validation_split(df, train_fraction=0.7, seed=5, stratify="os_event")
    train, valid = df[sets == TRAIN], df[sets != TRAIN]
    model = develop_model(train, CRLM_CANDIDATES, "os", "os_months", "os_event", exclude=EXCLUDE, **SELECTION)
    lp = predict(model, valid, []).loc[:, "lp"].to_numpy()
    c = concordance_index(valid["os_months"], valid["os_event"], lp)
    s = calibration_slope(valid["os_months"], valid["os_event"], lp)
    assert res["fit"]["n"] == len(train) and res["n_validation"] == len(valid)
    assert res["fit"]["selected"] == model.selected and res["fit"]["selected"]
    assert res["events_validation"] == int(valid["os_event"].sum())
    assert np.isclose(res["c_index"], c.c_index) and res["c_lower"] < c.c_index < res["c_upper"]
    assert np.isclose(res["slope"], s.slope) and np.isclose(res["slope_lower"], s.lower)
    # screening is part of fitting: every eligible candidate parameter counts
    assert res["fit"]["candidate_parameters"] == len(CRLM_CANDIDATES) - len(EXCLUDE)


def test_another_seed_is_another_split():
    df = _cohort()
    kw = dict(split=SPLIT, selection=SELECTION, exclude=EXCLUDE)
    a = split_sample_validation(df, CRLM_CANDIDATES, "os", "os_months", "os_event", seed=5, **kw)
    b = split_sample_validation(df, CRLM_CANDIDATES, "os", "os_months", "os_event", seed=6, **kw)
    assert a["c_index"] != b["c_index"]
