"""Kaplan–Meier estimation, number at risk, median survival and the log-rank test.

Method references:
  * Kaplan & Meier (1958), JASA 53:457; Greenwood (1926) variance; output and confidence
    intervals as R ``survival::survfit`` (Therneau, survival 3.5).
  * Median CI by inverting the pointwise CI (Brookmeyer & Crowley 1982), R ``quantile.survfit``.
  * Log-rank test: Mantel (1966); Peto & Peto (1972); R ``survival::survdiff`` (rho = 0).

Everything is O(n log n): one sort, then cumulative sums over distinct times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from crlmflow.survival.checks import check_survival

__all__ = [
    "KaplanMeier",
    "MedianSurvival",
    "LogRankResult",
    "kaplan_meier",
    "survival_at",
    "median_survival",
    "number_at_risk",
    "logrank_test",
]

_CONF_TYPES = ("log-log", "log", "plain")


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan–Meier curve at every distinct observed time (events and censorings).

    ``std_err`` is the Greenwood standard error of the cumulative hazard -log S
    (R ``survfit``'s ``std.err``); ``lower``/``upper`` are NaN where R gives NA.
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    std_err: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n: int
    events: int
    conf_type: str
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event,
                "n_censor": self.n_censor,
                "surv": self.surv,
                "std_err": self.std_err,
                "lower": self.lower,
                "upper": self.upper,
            }
        )


@dataclass(frozen=True)
class MedianSurvival:
    """Median survival with a confidence interval (NaN = not reached / not estimable)."""

    median: float
    lower: float
    upper: float
    method: str
    std_err: float = float("nan")


@dataclass(frozen=True)
class LogRankResult:
    """Log-rank test over k groups; ``groups`` has level, n, observed, expected."""

    chisq: float
    df: int
    p: float
    groups: pd.DataFrame
    variance: np.ndarray


def _z(conf_level: float) -> float:
    return float(special.ndtri(1.0 - (1.0 - conf_level) / 2.0))


def _pointwise_ci(surv, std_err, conf_type: str, z: float):
    """survival:::survfit_confint with logse = TRUE (se on the cumulative-hazard scale)."""
    surv = np.asarray(surv, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            lower = np.exp(np.log(xx) - z * std_err)
            upper = np.minimum(np.exp(np.log(xx) + z * std_err), 1.0)
        elif conf_type == "log-log":
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            lx = np.log(xx)
            t3 = np.log(-lx)
            lower = np.exp(-np.exp(t3 - z * std_err / lx))
            upper = np.exp(-np.exp(t3 + z * std_err / lx))
        elif conf_type == "plain":
            se_s = std_err * surv
            lower = np.maximum(surv - z * se_s, 0.0)
            upper = np.minimum(surv + z * se_s, 1.0)
        else:
            raise ValueError(f"conf_type must be one of {_CONF_TYPES}")
    return lower, upper


def kaplan_meier(time, event, conf_type: str = "log-log", conf_level: float = 0.95) -> KaplanMeier:
    """Kaplan–Meier estimator with Greenwood SE (Kaplan & Meier 1958; R survfit)."""
    if conf_type not in _CONF_TYPES:
        raise ValueError(f"conf_type must be one of {_CONF_TYPES}")
    t, e = check_survival(time, event)
    n = t.size
    ut, inv = np.unique(t, return_inverse=True)
    n_event = np.bincount(inv, weights=e, minlength=ut.size)
    n_total = np.bincount(inv, minlength=ut.size).astype(float)
    n_censor = n_total - n_event
    # risk set at u = everyone with time >= u: reverse cumulative count
    n_risk = np.cumsum(n_total[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - n_event / n_risk)
        # Greenwood on the cumulative-hazard scale; d == n makes the term infinite, as in R
        inc = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
    std_err = np.sqrt(np.cumsum(inc))
    lower, upper = _pointwise_ci(surv, std_err, conf_type, _z(conf_level))
    return KaplanMeier(
        time=ut,
        n_risk=n_risk,
        n_event=n_event,
        n_censor=n_censor,
        surv=surv,
        std_err=std_err,
        lower=lower,
        upper=upper,
        n=int(n),
        events=int(e.sum()),
        conf_type=conf_type,
        conf_level=conf_level,
    )


def number_at_risk(time, at) -> np.ndarray:
    """Number with observed time >= each value of ``at`` (R's n.risk convention)."""
    t = np.sort(np.asarray(time, dtype=float))
    at = np.atleast_1d(np.asarray(at, dtype=float))
    return (t.size - np.searchsorted(t, at, side="left")).astype(int)


def survival_at(km: KaplanMeier, times, extend: bool = True) -> pd.DataFrame:
    """S(t) as a right-continuous step function, as R ``summary(fit, times=, extend=TRUE)``.

    Columns: time, surv, std_err_surv (Greenwood SE of S), lower, upper, n_risk,
    cum_events (events with time <= t), beyond_last_time.  With ``extend=False``
    horizons beyond the last observed time are dropped (R's default).
    """
    h = np.atleast_1d(np.asarray(times, dtype=float))
    last = km.time[-1] if km.time.size else -np.inf
    if not extend:
        h = h[h <= last]
    # index of the last curve time <= h (-1 = before the first time)
    idx = np.searchsorted(km.time, h, side="right") - 1
    before = idx < 0
    j = np.where(before, 0, idx)
    surv = np.where(before, 1.0, km.surv[j])
    se_cumhaz = np.where(before, 0.0, km.std_err[j])
    lower = np.where(before, 1.0, km.lower[j])
    upper = np.where(before, 1.0, km.upper[j])
    cum_events = np.concatenate([[0.0], np.cumsum(km.n_event)])[idx + 1]
    # n at risk just before h: the risk set of the first curve time >= h
    k = np.searchsorted(km.time, h, side="left")
    n_risk_ext = np.concatenate([km.n_risk, [0.0]])
    return pd.DataFrame(
        {
            "time": h,
            "surv": surv,
            "std_err_surv": surv * se_cumhaz,
            "lower": lower,
            "upper": upper,
            "n_risk": n_risk_ext[k].astype(int),
            "cum_events": cum_events.astype(int),
            "beyond_last_time": h > last,
        }
    )


def _findq(x_times, one_minus_s, p: float, tol: float, xmax: float) -> float:
    """survival:::findq — where a horizontal line at p meets the step CDF, midpoint on flats."""
    x = np.concatenate([[0.0], x_times])
    y = np.concatenate([[0.0], one_minus_s])
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    if y.size == 0 or y.max() < p:
        return float("nan")
    # R's duplicated(): keep the first occurrence of each exact value
    _, first = np.unique(y, return_index=True)
    first = np.sort(first)
    x, y = x[first], y[first]
    n = y.size

    def approx_const_right(yy):
        # approx(yy, 1:n, p, method="constant", f=1): first node >= p, NA outside range
        if p < yy[0] or p > yy[-1]:
            return None
        return int(np.searchsorted(yy, p, side="left"))

    i1 = approx_const_right(y + tol)
    i2 = approx_const_right(y - tol)
    if i1 is None:
        return float("nan")
    if abs(p - y[n - 1]) < tol:
        return float((x[i1] + xmax) / 2.0)
    if i2 is None:
        return float("nan")
    return float((x[i1] + x[i2]) / 2.0)


def median_survival(km: KaplanMeier, method: str = "km", conf_level: float | None = None) -> MedianSurvival:
    """Median survival time and CI.

    method="km": R ``quantile(fit, 0.5)`` — the median is where S first reaches 0.5
    (midpoint over an exact flat at 0.5, tolerance sqrt(machine eps)); the CI inverts
    the pointwise ``km.conf_type`` band (Brookmeyer & Crowley 1982).

    method="spss": SPSS's symmetric interval median ± z·SE with the SE of a KM
    percentile from Collett (Modelling Survival Data in Medical Research, 3rd ed.,
    2015, §2.4.2):  se(t50) = se_G{S(t50)} / f(t50),
    f(t50) = {S(u) − S(l)} / (l − u), u = max{t_j : S(t_j) ≥ 0.55},
    l = min{t_j : S(t_j) ≤ 0.45} (t_j event times, se_G the Greenwood SE of S).
    The interval is not truncated and ignores censoring pattern asymmetry; it is what
    SPSS KM prints as "95% Confidence Interval" for the median.
    """
    tol = float(np.sqrt(np.finfo(float).eps))
    xmax = float(km.time[-1]) if km.time.size else float("nan")
    med = _findq(km.time, 1.0 - km.surv, 0.5, tol, xmax)
    if method == "km":
        lo = _findq(km.time, 1.0 - km.lower, 0.5, tol, xmax)
        hi = _findq(km.time, 1.0 - km.upper, 0.5, tol, xmax)
        return MedianSurvival(median=med, lower=lo, upper=hi, method="km")
    if method != "spss":
        raise ValueError("method must be 'km' or 'spss'")
    z = _z(km.conf_level if conf_level is None else conf_level)
    if np.isnan(med):
        return MedianSurvival(med, float("nan"), float("nan"), "spss", float("nan"))
    ev = km.n_event > 0
    te, se_ = km.time[ev], km.surv[ev]
    with np.errstate(invalid="ignore"):  # S = 0 with an infinite cumhaz SE at the last death
        se_s = (km.surv * km.std_err)[ev]
    k = np.searchsorted(te, med, side="right") - 1
    se_at = float(se_s[k]) if k >= 0 else 0.0
    up = te[se_ >= 0.55 - 1e-12]
    lw = te[se_ <= 0.45 + 1e-12]
    if up.size == 0:
        u, su = 0.0, 1.0  # S(0) = 1 when no event time has S >= 0.55
    else:
        u = float(up.max())
        su = float(se_[te == u][0])
    if lw.size == 0:
        return MedianSurvival(med, float("nan"), float("nan"), "spss", float("nan"))
    l_ = float(lw.min())
    sl = float(se_[te == l_][0])
    dens = (su - sl) / (l_ - u)
    se_med = se_at / dens
    return MedianSurvival(med, med - z * se_med, med + z * se_med, "spss", float(se_med))


def logrank_test(time, event, group) -> LogRankResult:
    """k-sample log-rank test (Mantel 1966), identical to R ``survdiff(rho = 0)``."""
    t, e = check_survival(time, event)
    # keep a given level order (categorical input), else sorted levels as R's factor()
    if isinstance(group, pd.Categorical):
        g = group
    elif isinstance(group, pd.Series) and isinstance(group.dtype, pd.CategoricalDtype):
        g = pd.Categorical(group)
    else:
        g = pd.Categorical(np.asarray(group))
    if len(g) != t.size:
        raise ValueError(f"group: found {len(g)} values; expected {t.size}, one per value of time")
    if g.isna().any():
        raise ValueError("group contains missing values")
    levels = list(g.categories)
    codes = g.codes.astype(int)
    k = len(levels)
    ut, inv = np.unique(t, return_inverse=True)
    m = ut.size
    at_time = np.zeros((m, k))
    np.add.at(at_time, (inv, codes), 1.0)
    ev_time = np.zeros((m, k))
    np.add.at(ev_time, (inv, codes), e)
    n_gt = np.cumsum(at_time[::-1], axis=0)[::-1]  # at risk per group
    n_t = n_gt.sum(axis=1)
    d_t = ev_time.sum(axis=1)
    obs = ev_time.sum(axis=0)
    frac = n_gt / n_t[:, None]
    exp_ = (d_t[:, None] * frac).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n_t > 1, d_t * (n_t - d_t) / (n_t - 1.0), 0.0)
    var = np.diag((w[:, None] * frac).sum(axis=0)) - (w[:, None] * frac).T @ frac
    present = at_time.sum(axis=0) > 0
    idx = np.flatnonzero(present)
    df = idx.size - 1
    if df < 1:
        raise ValueError("log-rank test needs at least two non-empty groups")
    # drop one group: the k deviations sum to zero, so V is singular
    sub = idx[1:]
    diff = (obs - exp_)[sub]
    chisq = float(diff @ np.linalg.solve(var[np.ix_(sub, sub)], diff))
    groups = pd.DataFrame(
        {
            "level": levels,
            "n": at_time.sum(axis=0).astype(int),
            "observed": obs,
            "expected": exp_,
        }
    )
    return LogRankResult(chisq=chisq, df=df, p=float(special.chdtrc(df, chisq)), groups=groups, variance=var)
