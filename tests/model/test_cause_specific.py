import numpy as np
import pandas as pd
from rref import assert_abs, assert_rel, read_csv, read_json

from crlmflow.model.competing import develop_cause_specific, predict_absolute_risk

CANDIDATES = [{"name": "x1", "type": "numeric"}, {"name": "x2", "type": "binary"}]
KEEP_ALL = dict(screen_p=1.0, method="forward_lr", entry_p=1.0, removal_p=1.0, entry_test="score")


def test_cause_specific_models_and_absolute_risk_equal_riskregression_csc():
    d = read_csv("competing/competing_data.csv")
    ref = read_json("competing/competing.json")
    models = develop_cause_specific(d, CANDIDATES, "recurrence", "time", "status", **KEEP_ALL)
    order = [models.cause.fit.names.index(n) for n in ("x1", "x2")]
    assert_rel(models.cause.fit.coef[order], ref["csc_coef_cause1"], what="cause 1")
    assert_rel(models.competing_fit.coef[order], ref["csc_coef_cause2"], what="cause 2")
    assert models.cause.events == int((d["status"] == 1).sum())
    assert models.competing_events == int((d["status"] == 2).sum())
    new = pd.DataFrame(ref["newdata"])
    risk = predict_absolute_risk(models, new, ref["times"])
    assert_abs(risk, np.array(ref["csc_risk_cause1_product_limit"]), what="absolute risk")
    # a cumulative incidence: non-decreasing in t
    assert (np.diff(risk, axis=1) >= 0).all()
