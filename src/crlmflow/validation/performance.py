"""Performance of a fixed model on one set of patients (paper Figs 2C–F/3C–F, Suppl. Figs 1–2).

``evaluate_set`` gathers, for one endpoint and one set (training or validation): Harrell's
C with the infinitesimal-jackknife SE CI (survival::concordance) and a percentile
bootstrap CI; at each horizon the survivalROC-KM curve and AUC (Heagerty 2000), Uno's
IPCW cumulative/dynamic AUC and the IPCW Brier score with IPA (riskRegression::Score),
grouped KM calibration (rms::calibrate, cmethod "KM"), smooth calibration ICI/E50/E90
(Austin et al. 2020) and the decision curve (Vickers' stdca); and the calibration slope.

``calibrate_bias_corrected`` is rms::calibrate's bootstrap for the training set: refit the
final model's terms in each resample, group resample and original predictions by the
original cuts, and subtract the mean optimism of (KM − mean predicted) per group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from crlmflow.report.formats import horizon_key
from crlmflow.survival.checks import check_survival
from crlmflow.survival.cox import BaselineHazard, CoxData, baseline_hazard, cumhaz_at
from crlmflow.validation import (
    brier_score,
    calibration_km_grouped,
    calibration_slope,
    concordance_index,
    cumulative_dynamic_auc,
    net_benefit,
    smooth_calibration,
    time_dependent_roc,
)
from crlmflow.validation._km import TimeSortedSample
from crlmflow.validation.c_index_ci import bootstrap_c_index_ci
from crlmflow.validation.calibration import NotEstimableError, grouped_index
from crlmflow.validation.calibration_large import observed_expected, poisson_calibration
from crlmflow.validation.optimism import bootstrap_indices

Z95 = special.ndtri(0.975)

#: measures reported at each horizon (in this order), so that a horizon without cases or
#: controls still gets one "not estimable" row per measure
MEASURES_AT_HORIZON = ("observed_expected", "auc_km", "auc_uno", "brier", "ipa", "ici", "e50", "e90")


def horizon_support(time, event, h: float) -> tuple[int, int]:
    """Cases (events at or before h) and controls (still at risk, T > h) at horizon h."""
    t, e = check_survival(time, event)
    return int(((t <= h) & (e == 1)).sum()), int((t > h).sum())


def evaluate_set(
    time,
    event,
    lp,
    surv: dict,
    horizons,
    *,
    B: int,
    rng: np.random.Generator,
    calibration_groups: int = 4,
    min_events: int = 0,
    min_at_risk: int = 0,
    baseline: tuple | None = None,
    development: bool = False,
    thresholds=None,
) -> dict[str, pd.DataFrame]:
    """Every performance measure of one fixed model on one set; see the module docstring.

    ``rng`` draws the bootstrap CI of C: the workflow passes
    ``stream(seed, "c_index_bootstrap", endpoint_index, set_index)``.

    Every time-dependent row carries ``cases`` (events by h) and ``controls`` (at risk at h);
    a horizon with fewer than ``min_events`` cases or ``min_at_risk`` controls is *not
    estimable*: its rows keep the counts, ``estimable`` is False and the estimate and CI are
    empty, as are its ROC, calibration and decision curves' ``estimable`` flags.
    ``baseline`` = (times, H0 at covariates 0, lp centre) adds the calibration intercept and
    slope of Crowson et al. (2016).  On the ``development`` set the calibration slope is
    1 by construction, so it gets no CI.  ``thresholds`` are the decision curve's risk
    thresholds (default 0.01, ..., 0.99); net benefit is left empty where the high-risk
    group's follow-up ends before the horizon.
    """
    t, e, lp = check_survival(time, event, lp, names=("time", "event", "lp"))
    rows, rocs, cals, dcas = [], [], [], []
    c = concordance_index(t, e, lp)
    rows.append(
        dict(
            measure="c_index",
            horizon=np.nan,
            estimate=c.c_index,
            se=c.std_err,
            lower=c.c_index - Z95 * c.std_err,
            upper=c.c_index + Z95 * c.std_err,
            method="Harrell; CI from the infinitesimal-jackknife SE (survival::concordance)",
        )
    )
    if B > 0:
        ci = bootstrap_c_index_ci(t, e, lp, B=B, rng=rng)
        rows.append(
            dict(
                measure="c_index_bootstrap",
                horizon=np.nan,
                estimate=c.c_index,
                se=np.nan,
                lower=ci.lower,
                upper=ci.upper,
                method=f"Harrell; percentile bootstrap CI, B = {B}",
            )
        )
    rows.append(_slope_row(t, e, lp, development))
    for h in horizons:
        s = np.asarray(surv[horizon_key(h)], float)
        cases, controls = horizon_support(t, e, h)
        support = dict(cases=cases, controls=controls, estimable=cases >= min_events and controls >= min_at_risk)
        first = len(rows)
        if cases == 0 or controls == 0:
            for m in MEASURES_AT_HORIZON:
                rows.append(dict(measure=m, horizon=h, method="no cases or no controls at this horizon"))
                rows[-1].update(support, estimable=False)
            continue
        rows.extend(_calibration_in_the_large(t, e, lp, s, h, baseline))
        roc = time_dependent_roc(t, e, lp, h, method="KM")
        rows.append(
            dict(
                measure="auc_km",
                horizon=h,
                estimate=roc.auc,
                se=np.nan,
                lower=np.nan,
                upper=np.nan,
                method="Heagerty KM time-dependent ROC (survivalROC, method KM)",
            )
        )
        rocs.append(pd.DataFrame({"horizon": h, "cut": roc.cut, "fpr": roc.FP, "tpr": roc.TP}))
        auc = cumulative_dynamic_auc(t, e, lp, h)
        rows.append(
            dict(
                measure="auc_uno",
                horizon=h,
                estimate=auc.auc,
                se=auc.se,
                lower=auc.lower,
                upper=auc.upper,
                method="IPCW cumulative/dynamic AUC (riskRegression::Score)",
            )
        )
        br = brier_score(t, e, s, h)
        rows.append(
            dict(
                measure="brier",
                horizon=h,
                estimate=br.brier,
                se=br.se,
                lower=br.lower,
                upper=br.upper,
                method="IPCW Brier score (riskRegression::Score)",
            )
        )
        rows.append(
            dict(
                measure="ipa",
                horizon=h,
                estimate=br.ipa,
                se=np.nan,
                lower=np.nan,
                upper=np.nan,
                method="index of prediction accuracy = 1 - Brier/Brier(KM)",
            )
        )
        # a model of one or two binary terms gives too few distinct predictions for the
        # spline: report the measures as not estimable rather than failing the run
        try:
            sm = smooth_calibration(t, e, s, h)
            method = "smooth calibration, Austin, Harrell & van Klaveren 2020"
        except NotEstimableError as exc:
            sm, method = None, f"not estimable: {exc}"
        for name in ("ici", "e50", "e90"):
            rows.append(
                dict(
                    measure=name,
                    horizon=h,
                    estimate=getattr(sm, name) if sm is not None else np.nan,
                    se=np.nan,
                    lower=np.nan,
                    upper=np.nan,
                    method=method,
                )
            )
        cal = calibration_km_grouped(t, e, s, h, g=calibration_groups)
        # rms' table counts every event of the group; what supports the estimate at t are the
        # events by t and the patients still at risk at t (``events_by_horizon``, ``at_risk``)
        tab = cal.table.rename(columns={"events": "events_all_followup"})
        tab.insert(0, "horizon", h)
        se = tab["km_std_err"].to_numpy(float)
        # log-scale Greenwood CI of the observed KM, the error bars of the calibration plot
        tab["km_lower"] = np.clip(tab["km"] * np.exp(-Z95 * se), 0, 1)
        tab["km_upper"] = np.clip(tab["km"] * np.exp(Z95 * se), 0, 1)
        cals.append(tab)
        d = net_benefit(t, e, 1.0 - s, h, thresholds=thresholds)
        # past the high-risk group's last follow-up the KM is carried forward, not estimated
        d.loc[~d["high_risk_followed_to_t"], ["net_benefit_model", "net_interventions_avoided_per100"]] = np.nan
        d.insert(0, "horizon", h)
        dcas.append(d)
        for r in rows[first:]:
            r.update(support)
            if not support["estimable"]:
                r.update(estimate=np.nan, se=np.nan, lower=np.nan, upper=np.nan)
                r["method"] += f"; not estimable: {cases} events by t, {controls} at risk at t"
        for curve in (rocs, cals, dcas):
            if curve and float(curve[-1]["horizon"].iloc[0]) == float(h):
                curve[-1]["estimable"] = support["estimable"]
    cols = ["measure", "horizon", "estimate", "se", "lower", "upper", "cases", "controls", "estimable", "method"]
    perf = pd.DataFrame(rows, columns=cols)
    perf["estimable"] = perf["estimable"].astype("boolean").fillna(True).astype(bool)
    return {
        "performance": perf,
        "roc": pd.concat(rocs, ignore_index=True) if rocs else pd.DataFrame(),
        "calibration": pd.concat(cals, ignore_index=True) if cals else pd.DataFrame(),
        "dca": pd.concat(dcas, ignore_index=True) if dcas else pd.DataFrame(),
    }


def _slope_row(t, e, lp, development: bool) -> dict:
    """The calibration slope's row; not estimable for a constant lp (nothing selected)."""
    try:
        slope = calibration_slope(t, e, lp)
    except NotEstimableError as exc:
        return dict(measure="calibration_slope", horizon=np.nan, method=f"not estimable: {exc}")
    return dict(
        measure="calibration_slope",
        horizon=np.nan,
        estimate=slope.slope,
        se=np.nan if development else slope.se,
        lower=np.nan if development else slope.lower,
        upper=np.nan if development else slope.upper,
        method="Cox regression of the outcome on the lp"
        + ("; apparent, 1 by construction on the development set (no CI)" if development else ""),
    )


def _calibration_in_the_large(t, e, lp, s, h, baseline) -> list[dict]:
    """O/E at h, and Crowson's calibration intercept and slope when the baseline is given."""
    oe = observed_expected(t, e, s, h)
    out = [
        dict(
            measure="observed_expected",
            horizon=h,
            estimate=oe.ratio,
            se=np.nan,
            lower=oe.lower,
            upper=oe.upper,
            method="(1 - KM) / mean predicted risk; log-scale Greenwood CI",
        )
    ]
    if baseline is not None:
        bt, bh, centre = baseline
        base = BaselineHazard(np.asarray(bt, float), np.asarray(bh, float), ctype=2)
        expected = cumhaz_at(base, np.minimum(t, h))
        method = "Poisson GLM on follow-up truncated at t (Crowson, Atkinson & Therneau 2016)"
        try:
            pc = poisson_calibration(t, e, expected * np.exp(lp + centre), lp, h)
        except NotEstimableError as exc:
            return out + [
                dict(
                    measure=m,
                    horizon=h,
                    estimate=np.nan,
                    se=np.nan,
                    lower=np.nan,
                    upper=np.nan,
                    method=f"not estimable: {exc}",
                )
                for m in ("calibration_intercept", "calibration_slope_t")
            ]
        out += [
            dict(
                measure="calibration_intercept",
                horizon=h,
                estimate=pc.intercept,
                se=pc.intercept_se,
                lower=pc.intercept_lower,
                upper=pc.intercept_upper,
                method=method + "; 0 = calibrated in the large",
            ),
            dict(
                measure="calibration_slope_t",
                horizon=h,
                estimate=pc.slope,
                se=pc.slope_se,
                lower=pc.slope_lower,
                upper=pc.slope_upper,
                method=method + "; 1 = calibrated",
            ),
        ]
    return out


def calibrate_bias_corrected(
    time, event, X, horizons, *, B: int, seed: int, endpoint_index: int, calibration_groups: int = 4
) -> pd.DataFrame:
    """rms::calibrate(cmethod = "KM", B) for the model with design X (fixed terms).

    Replicate b is the optimism bootstrap's resample b (``optimism.bootstrap_indices(n,
    seed, endpoint_index, b)``), as in the selection-aware variant
    (``calibration_bootstrap``): the two corrections differ only in what each resample
    refits.
    """
    t, e = check_survival(time, event)
    X = np.asarray(X, float)
    n = t.size
    data = CoxData(t, e, X)
    fit = data.fit()
    bh = baseline_hazard(data, fit)
    eta = X @ fit.coef
    # The resample and its refit do not depend on the horizon: fit each replicate once and
    # read every horizon off it.
    H = list(horizons)
    tabs, cals = [], []
    for h in H:
        pred = np.exp(-cumhaz_at(bh, [h])[0] * np.exp(eta))
        cal = calibration_km_grouped(t, e, pred, h, g=calibration_groups)
        cals.append(cal)
        tabs.append(cal.table.copy())
    diffs = [[] for _ in H]
    sample = TimeSortedSample(t, e)  # the original rows sorted once for every replicate
    for b in range(B):
        idx = np.sort(bootstrap_indices(n, seed, endpoint_index, b))
        sample_b = TimeSortedSample(t[idx], e[idx])
        dw = data.with_weights(data.bootstrap_weights(idx))
        try:
            fb = dw.fit(on_separation="ignore")
        except (np.linalg.LinAlgError, ValueError):
            continue  # a degenerate resample (e.g. a 0/1 column without variation) is skipped
        bhb = baseline_hazard(dw, fb)
        Hb = cumhaz_at(bhb, H)
        rb = np.exp(X @ fb.coef)
        for j, h in enumerate(H):
            pb = np.exp(-Hb[j] * rb)
            groups = tabs[j]["group"].to_numpy()
            train = grouped_index(t[idx], e[idx], pb[idx], h, cals[j].cuts, groups, sample_b)
            test = grouped_index(t, e, pb, h, cals[j].cuts, groups, sample)
            diffs[j].append(train - test)
    out = []
    for j, h in enumerate(H):
        tab = tabs[j]
        optimism = np.nanmean(np.array(diffs[j]), axis=0) if diffs[j] else np.full(len(tab), np.nan)
        tab.insert(0, "horizon", h)
        tab["optimism"] = optimism
        tab["index_corrected"] = tab["index_orig"] - optimism
        tab["km_corrected"] = np.clip(tab["mean_predicted"] + tab["index_corrected"], 0, 1)
        tab["n_bootstrap"] = len(diffs[j])
        out.append(tab)
    return pd.concat(out, ignore_index=True)
