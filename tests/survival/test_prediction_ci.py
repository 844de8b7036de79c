"""Confidence limits of predicted survival equal R's ``survfit(coxph, newdata)`` (crlm_a_extras.json)."""

import numpy as np
import pytest
import rref

from crlmflow.survival.cox import CoxData
from crlmflow.survival.prediction_ci import hazard_variance_terms, survival_confint


def _fit():
    ext = rref.read_json("crlm_a_extras.json")
    spec, ref = ext["spec"], ext["survfit_newdata"]
    d = rref.read_csv("crlm_a_rows.csv")
    X = d[spec["terms"]].to_numpy(float)
    data = CoxData(d[spec["time"]], d[spec["event"]], X, names=spec["terms"])
    return data, data.fit(), X[: len(ref["rows"])], ref


@pytest.mark.parametrize("conf_type", ["log", "log-log"])
def test_survfit_newdata_limits_equal_r(conf_type):
    data, fit, new, ref = _fit()
    np.testing.assert_allclose(fit.coef, ref["coef"], rtol=rref.RTOL)  # the same model as R's
    terms = hazard_variance_terms(data, fit)
    got = survival_confint(new - terms.center, fit.coef, fit.var, terms, ref["horizons"], conf_type)
    want = ref["by_conf_type"][conf_type]
    for key in ("surv", "std_err", "lower", "upper"):  # R's arrays are [horizon][row]
        np.testing.assert_allclose(got[key], np.asarray(want[key]).T, rtol=0, atol=rref.ATOL, err_msg=key)


def test_json_form_and_centring_give_the_same_limits():
    data, fit, new, ref = _fit()
    terms = hazard_variance_terms(data, fit)
    as_json = {
        "time": terms.time.tolist(),
        "cumhaz": terms.cumhaz.tolist(),
        "varhaz": terms.varhaz.tolist(),
        "xbar": terms.xbar.tolist(),
    }
    a = survival_confint(new - terms.center, fit.coef, fit.var, terms, ref["horizons"])
    b = survival_confint(new - terms.center, fit.coef, fit.var, as_json, ref["horizons"])
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    # before the first event: S = 1 and the limits collapse on it
    early = survival_confint(new - terms.center, fit.coef, fit.var, terms, [terms.time[0] / 2], "log-log")
    assert np.all(early["surv"] == 1.0) and np.all(early["lower"] == 1.0) and np.all(early["upper"] == 1.0)
    assert np.all(a["lower"] < a["surv"]) and np.all(a["surv"] < a["upper"])


def test_unknown_conf_type_is_an_error():
    data, fit, new, ref = _fit()
    with pytest.raises(ValueError, match="conf_type"):
        survival_confint(new, fit.coef, fit.var, hazard_variance_terms(data, fit), [12], "plain")


@pytest.mark.parametrize("ties", ["breslow", "efron"])
@pytest.mark.parametrize("conf_type", ["log", "log-log"])
def test_rfs_breslow_and_efron_limits_equal_r(ties, conf_type):
    """survfit_newdata.json (survfit_newdata.R): RFS, training rows, both tie methods."""
    ref = rref.read_json("survfit_newdata.json")
    d = rref.read_csv("crlm_a_rows.csv")
    tr, va = d[d["split"] == "train"], d[d["split"] == "validation"]
    new = va.set_index("patient_id").loc[ref["newdata_patient_id"], ref["terms"]].to_numpy(float)
    data = CoxData(tr["rfs_months"], tr["rfs_event"], tr[ref["terms"]].to_numpy(float), ties=ties)
    fit = data.fit()
    np.testing.assert_allclose(fit.coef, ref[ties]["coef"], rtol=1e-6)  # R at eps 1e-10: its optimum
    terms = hazard_variance_terms(data, fit)
    got = survival_confint(new - terms.center, fit.coef, fit.var, terms, ref["horizons"], conf_type)
    want = ref[ties][conf_type]
    for key in ("surv", "std_err", "lower", "upper"):
        np.testing.assert_allclose(got[key], np.asarray(want[key]).T, rtol=0, atol=rref.ATOL, err_msg=key)
