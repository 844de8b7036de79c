"""Cox-model nomogram scoring as ``rms::nomogram`` computes it (Harrell, rms 6.5-0, R/nomogram.s).

The functions here take fitted coefficients, the design data and the baseline survival;
they never fit a model, so any Cox fitter (lifelines, R, a stored JSON) can feed them.

How rms builds the scale (``nomogram(cph_fit, fun=..., lp=TRUE, maxscale=100)``):

* tick values per predictor come from ``datadist`` + ``value.chk(..., n=-nint,
  type.range="full")``: a numeric predictor with at most ``n.unique = 10`` distinct values
  is drawn at each distinct value, any other numeric predictor at
  ``pretty(range(x), n = nint)`` (the *full* data range, not the 10th smallest/largest
  "prediction" limits), a factor at each of its levels;
* ``xbeta`` is the uncentred term contribution at each tick (beta * value; 0 for the
  reference level of a factor);
* ``points = sc * (xbeta - min(xbeta))`` with ``sc = maxscale / max_p range(xbeta_p)``,
  so the predictor with the widest xbeta range spans 0..maxscale;
* ``Intercept = -center + sum_p min(xbeta_p)``, so that
  ``lp = Intercept + total_points / sc`` with lp centred at the sample means of the design
  columns (``cph``'s ``center``);
* the lp axis ticks are ``pretty(range(fitted lp), n = nint)`` and the total-points axis
  is ``pretty(c(0, max(maxscale, sc * max(lp.at - Intercept))), n = nint)``;
* each survival axis places ``fun.at`` values at the lp where ``S0(h)^exp(lp)`` equals
  them; rms inverts numerically on a 1000-point grid over the lp axis (``approx``), here
  the inverse is exact (``lp = log(log(s) / log(S0(h)))``), which agrees to ~1e-6.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crlmflow.report.formats import horizon_label
from crlmflow.survival.design import design_matrix
from crlmflow.survival.splines import rcs_basis, rcs_names

__all__ = [
    "DEFAULT_FUN_AT",
    "PredictorAxis",
    "NomogramResult",
    "SurvivalAxis",
    "r_pretty",
    "display_limits",
    "nomogram_points",
    "total_points",
    "survival_axes",
]

# rms's datadist keeps the distinct values of a numeric variable with <= n.unique of them.
N_UNIQUE = 10

# The fun.at used for the paper's survival axes: c(0.99, seq(0.95, 0.05, by = -0.05), 0.01).
# Built as R's seq() builds it (from + i * by, clamped at `to`) so the doubles are R's.
DEFAULT_FUN_AT: tuple[float, ...] = (0.99, *(max(0.95 + i * -0.05, 0.05) for i in range(19)), 0.01)


# --------------------------------------------------------------------------------------
# R's pretty()
# --------------------------------------------------------------------------------------
def r_pretty(x: Sequence[float], n: int = 5) -> np.ndarray:
    """R's ``pretty.default(x, n)`` (R 4.2 src/appl/pretty.c ``R_pretty`` + R wrapper).

    Reproduced exactly because rms's nomogram tick values and axes are ``pretty()`` output
    and a different tick rule would change which values the fixture lists.
    """
    arr = np.asarray(x, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return arr
    lo, up = float(arr.min()), float(arr.max())
    ndiv = int(n)
    min_n = ndiv // 3
    shrink_sml = 0.75
    h = 1.5  # high.u.bias
    h5 = 0.5 + 1.5 * h  # u5.bias default
    eps = 2.220446049250313e-16
    rounding_eps = 1e-10

    dx = up - lo
    if dx == 0 and up == 0:
        cell = 1.0
        i_small = True
    else:
        cell = max(abs(lo), abs(up))
        U = 1 + (1 / (1 + h) if h5 >= 1.5 * h + 0.5 else 1.5 / (1 + h5))
        U *= max(1, ndiv) * eps
        i_small = dx < cell * U * 3
    if i_small:
        if cell > 10:
            cell = 9 + cell / 10
        cell *= shrink_sml
        if min_n > 1:
            cell /= min_n
    else:
        cell = dx
        if ndiv > 1:
            cell /= ndiv
    if cell < 20 * 2.2250738585072014e-308:
        cell = 20 * 2.2250738585072014e-308

    base = 10.0 ** math.floor(math.log10(cell))
    unit = base
    if (ns := 2 * base) - cell < h * (cell - unit):
        unit = ns
        if (ns := 5 * base) - cell < h5 * (cell - unit):
            unit = ns
            if (ns := 10 * base) - cell < h * (cell - unit):
                unit = ns
    ns = math.floor(lo / unit + rounding_eps)
    nu = math.ceil(up / unit - rounding_eps)
    while ns * unit > lo + rounding_eps * unit:
        ns -= 1
    while nu * unit < up - rounding_eps * unit:
        nu += 1
    k = int(0.5 + nu - ns)
    if k < min_n:
        k = min_n - k
        if ns >= 0:
            nu += k // 2
            ns -= k // 2 + k % 2
        else:
            ns -= k // 2
            nu += k // 2 + k % 2
        ndiv = min_n
    else:
        ndiv = k
    # return_bounds = TRUE: the bounds only ever widen the data range
    lo_b = ns * unit if ns * unit < lo else lo
    up_b = nu * unit if nu * unit > up else up
    s = _r_seq_by(lo_b, up_b, unit)
    if ndiv:
        # pretty() zaps values that are only seq() rounding noise around zero
        delta = (up_b - lo_b) / ndiv
        s[np.abs(s) < 1e-14 * delta] = 0.0
    return s


def _r_seq_by(a: float, b: float, by: float) -> np.ndarray:
    """``seq.int(a, b, by = by)`` as R computes it: ``a + i * by`` (R's C ``seq``).

    Matching R's arithmetic keeps the lp-axis doubles identical (e.g. 0.20000000000000018).
    """
    n = int((b - a) / by + 1e-10)
    return a + np.arange(n + 1) * by


# --------------------------------------------------------------------------------------
# Predictor specs and the design matrix
# --------------------------------------------------------------------------------------
def _spec(p: Mapping[str, Any] | str) -> dict[str, Any]:
    """Normalise a predictor spec (a bare name means numeric)."""
    if isinstance(p, str):
        p = {"name": p}
    s = dict(p)
    s.setdefault("type", "numeric")
    if s["type"] not in ("numeric", "binary", "factor"):
        raise ValueError(f"predictor {s['name']!r}: type must be numeric|binary|factor")
    s.setdefault("label", s["name"])
    s.setdefault("unit", None)
    if s["type"] == "factor":
        levels = list(s.get("levels") or [])
        if not levels:
            raise ValueError(f"factor {s['name']!r} needs 'levels'")
        ref = s.get("ref") or levels[0]
        if ref not in levels:
            raise ValueError(f"factor {s['name']!r}: ref {ref!r} not among levels")
        s["levels"], s["ref"] = levels, ref
    return s


def _terms(s: dict[str, Any]) -> list[str]:
    """Coefficient names of a predictor: R's dummy names (name + level) for factors."""
    if s["type"] == "factor":
        return [f"{s['name']}{lev}" for lev in s["levels"] if lev != s["ref"]]
    return [s["name"]]


def _coef(coefs: Mapping[str, float], term: str) -> float:
    try:
        return float(coefs[term])
    except KeyError:
        raise KeyError(f"no coefficient for term {term!r}") from None


def display_limits(x: Sequence[float]) -> tuple[float, float]:
    """rms ``datadist``'s display range (``Low:prediction``, ``High:prediction``).

    The quantiles ``q`` and ``1 - q`` of the non-missing values with
    ``q = 10 / max(n, 200)`` (datadist's default ``q.display``; R's type-7 quantile),
    the full range when there are fewer than 4 distinct values or the two coincide.
    """
    v = np.asarray(x, dtype=float)
    v = v[np.isfinite(v)]
    uniq = np.unique(v)
    if uniq.size < 4:
        return float(uniq[0]), float(uniq[-1])
    q = 10.0 / max(v.size, 200)
    lo, hi = (float(t) for t in np.quantile(v, [q, 1.0 - q]))
    return (float(uniq[0]), float(uniq[-1])) if lo == hi else (lo, hi)


def _tick_values(s: dict[str, Any], x: pd.Series, nint: int) -> list:
    """Tick values rms uses for one predictor (datadist + value.chk).

    ``s["nomogram_axis"]`` (config key of a candidate) chooses the axis of a numeric predictor as an rms user would:
    ``"full"`` (rms's default, ``pretty(range(x), nint)``), ``"display"``
    (``pretty(c(Low:prediction, High:prediction), nint)``, see ``display_limits``) or a
    list of values (``nomogram(fit, x = c(...))``). A long-tailed predictor drawn over its
    full range lets one outlier take the whole points scale; the display range trims it.
    """
    axis = s.get("nomogram_axis", "full") if s.get("values") is None else list(s["values"])
    if not isinstance(axis, str):  # like nomogram(fit, age = seq(...)): user's choice
        values = [float(a) for a in axis] if s["type"] != "factor" else list(axis)
        if len(values) < 2:
            raise ValueError(f"predictor {s['name']!r}: an explicit nomogram axis needs at least 2 values")
        return values
    if axis not in ("full", "display"):
        raise ValueError(f"predictor {s['name']!r}: nomogram axis must be 'full', 'display' or a list, got {axis!r}")
    if s["type"] == "factor":
        return list(s["levels"])
    v = pd.to_numeric(x).dropna().to_numpy(dtype=float)
    uniq = np.unique(v)
    if uniq.size < 2:
        raise ValueError(f"predictor {s['name']!r} is constant; rms cannot scale it")
    if uniq.size <= N_UNIQUE:
        # datadist stores the distinct values and value.chk returns them as the ticks
        return [float(u) for u in uniq]
    lo, hi = (uniq[0], uniq[-1]) if axis == "full" else display_limits(v)
    return [float(t) for t in r_pretty([lo, hi], n=nint)]


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
@dataclass
class PredictorAxis:
    """One predictor's nomogram axis: tick values, their xbeta and their points."""

    name: str
    label: str
    type: str
    unit: str | None
    values: list
    xbeta: np.ndarray
    points: np.ndarray

    @property
    def min_xbeta(self) -> float:
        return float(np.min(self.xbeta))

    @property
    def xbeta_range(self) -> float:
        return float(np.max(self.xbeta) - np.min(self.xbeta))

    @property
    def increasing(self) -> bool:
        """True when points grow with the tick order (a positive effect)."""
        return bool(self.points[-1] >= self.points[0])

    def label_sides(self) -> np.ndarray:
        """0 (below the axis) or 1 (above) per tick, as rms's ``plot.nomogram`` splits a
        non-monotone (spline) axis: a new run of labels starts, on the other side, at
        each tick where the points change direction; a monotone axis is all 0."""
        up = np.diff(np.asarray(self.points, dtype=float)) > 0
        turn = np.concatenate([[False, False], up[1:] != up[:-1]])
        return np.cumsum(turn) % 2


@dataclass
class NomogramResult:
    """Everything rms's ``nomogram()`` object holds for the points/lp scales."""

    predictors: dict[str, PredictorAxis]
    points_per_unit_lp: float  # rms info$sc
    lp_at_zero_points: float  # rms info$Intercept (lp centred at sample means)
    center: float  # sum(colMeans(X) * beta), cph's $center
    maxscale: float
    nint: int
    total_points_axis: np.ndarray
    lp_axis_lp: np.ndarray  # lp.at
    lp_axis_points: np.ndarray  # (lp.at - Intercept) * sc
    sample_means: dict[str, float] = field(default_factory=dict)

    def lp_from_points(self, total: np.ndarray | float) -> np.ndarray | float:
        """Sample-mean-centred lp for a total score."""
        return self.lp_at_zero_points + np.asarray(total) / self.points_per_unit_lp

    def points_from_lp(self, lp: np.ndarray | float) -> np.ndarray | float:
        """Total points for a sample-mean-centred lp."""
        return (np.asarray(lp) - self.lp_at_zero_points) * self.points_per_unit_lp

    def points_table(self) -> pd.DataFrame:
        """Long table: predictor, value, xbeta, points (one row per tick)."""
        rows = []
        for ax in self.predictors.values():
            for v, xb, pt in zip(ax.values, ax.xbeta, ax.points):
                rows.append(
                    {"predictor": ax.name, "label": ax.label, "value": v, "xbeta": float(xb), "points": float(pt)}
                )
        return pd.DataFrame(rows)


@dataclass
class SurvivalAxis:
    """Survival probabilities at one horizon and the total points where they occur."""

    horizon: float
    surv: np.ndarray
    total_points: np.ndarray
    lp: np.ndarray
    baseline_surv: float
    note: str = ""  # why the axis is not drawable ("" if it is)

    def as_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"surv": self.surv, "total_points": self.total_points, "lp": self.lp})


# --------------------------------------------------------------------------------------
# Main computations
# --------------------------------------------------------------------------------------
def nomogram_points(
    coefs: Mapping[str, float],
    predictors: Sequence[Mapping[str, Any] | str],
    data: pd.DataFrame,
    *,
    maxscale: float = 100.0,
    nint: int = 10,
    lp_at: Sequence[float] | None = None,
) -> NomogramResult:
    """Points scale of a Cox nomogram as ``rms::nomogram(fit, lp=TRUE, maxscale=100)``.

    ``coefs`` maps R term names (``age``, ``rxLev``) to log hazard ratios; ``predictors``
    are specs ``{"name", "type": numeric|binary|factor, "levels", "ref", "label", "unit"}``
    (optional ``"nomogram_axis"``: ``"full"``, ``"display"`` or a list of tick values, see
    ``_tick_values``); ``data`` is the analysed data set, which plays
    the role of rms's ``datadist`` (tick ranges) and gives the sample-mean centring.
    """
    specs = [_spec(p) for p in predictors]
    X = design_matrix(data, specs).frame(data.index)
    beta = np.array([_coef(coefs, t) for t in X.columns])
    means = X.mean(axis=0).to_numpy()
    center = float(np.sum(means * beta))
    lp = X.to_numpy() @ beta - center

    axes: dict[str, PredictorAxis] = {}
    for s in specs:
        values = _tick_values(s, data[s["name"]], nint)
        if s["type"] == "factor":
            xb = np.array([0.0 if v == s["ref"] else _coef(coefs, f"{s['name']}{v}") for v in values])
        elif s.get("knots"):  # rcs term: its uncentred spline at the ticks (may be non-monotone)
            beta_s = np.array([_coef(coefs, t) for t in rcs_names(s["name"], len(s["knots"]))])
            xb = rcs_basis(values, s["knots"]) @ beta_s
        else:
            # center.terms = FALSE in rms: uncentred beta * value
            xb = _coef(coefs, s["name"]) * np.asarray(values, dtype=float)
        axes[s["name"]] = PredictorAxis(s["name"], s["label"], s["type"], s["unit"], values, xb, np.empty(0))

    widest = max(ax.xbeta_range for ax in axes.values())
    if widest <= 0:
        raise ValueError("all coefficients are zero; the nomogram has no scale")
    sc = maxscale / widest
    for ax in axes.values():
        ax.points = (ax.xbeta - ax.min_xbeta) * sc
    intercept = -center + sum(ax.min_xbeta for ax in axes.values())

    lp_ticks = r_pretty([lp.min(), lp.max()], n=nint) if lp_at is None else np.asarray(lp_at, float)
    sum_max = maxscale if len(axes) == 1 else max(maxscale, sc * float(np.max(lp_ticks - intercept)))
    return NomogramResult(
        predictors=axes,
        points_per_unit_lp=float(sc),
        lp_at_zero_points=float(intercept),
        center=center,
        maxscale=float(maxscale),
        nint=nint,
        total_points_axis=r_pretty([0.0, sum_max], n=nint),
        lp_axis_lp=lp_ticks,
        lp_axis_points=(lp_ticks - intercept) * sc,
        sample_means=dict(zip(X.columns, map(float, means))),
    )


def total_points(
    coefs: Mapping[str, float],
    predictors: Sequence[Mapping[str, Any] | str],
    data: pd.DataFrame,
    *,
    nomogram: NomogramResult | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """Nomogram total points per row (rms: ``sc * (lp - Intercept)``).

    The scale comes from ``nomogram`` when given (score new patients, e.g. a validation
    cohort, on the development nomogram), otherwise from ``nomogram_points`` on ``data``.
    """
    nomo = nomogram if nomogram is not None else nomogram_points(coefs, predictors, data, **kwargs)
    X = design_matrix(data, predictors).frame(data.index)
    beta = np.array([_coef(coefs, t) for t in X.columns])
    lp = X.to_numpy() @ beta - nomo.center
    return np.asarray(nomo.points_from_lp(lp), dtype=float)


def _r_seq_length_out(a: float, b: float, length_out: int) -> np.ndarray:
    """``seq(a, b, length.out = n)`` as R's seq.default: ``c(a, a + (1:(n-2)) * by, b)``."""
    n1 = length_out - 1
    return np.concatenate([[a], a + np.arange(1, n1) * ((b - a) / n1), [b]])


def _r_approx(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """R's ``approx(x, y, xout, ties = mean, rule = 1)``: NA outside the range of x."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    ux, inv = np.unique(x, return_inverse=True)
    if ux.size < x.size:  # ties = mean: collapse tied x to the mean of their y
        y = np.bincount(inv, weights=y) / np.bincount(inv)
        x = ux
    out = np.full(xout.shape, np.nan)
    inside = (xout >= x[0]) & (xout <= x[-1])
    v = xout[inside]
    # R's approx1 bisection keeps x[i] <= v < x[j] (exact hits return y directly)
    j = np.clip(np.searchsorted(x, v, side="right"), 1, x.size - 1)
    i = j - 1
    res = y[i] + (y[j] - y[i]) * ((v - x[i]) / (x[j] - x[i]))
    res = np.where(v == x[j], y[j], np.where(v == x[i], y[i], res))
    out[inside] = res
    return out


def survival_axes(
    nomogram: NomogramResult,
    baseline_surv: Mapping[float, float] | Sequence[tuple[float, float]],
    fun_at: Sequence[float] = DEFAULT_FUN_AT,
    *,
    method: str = "rms",
    grid_size: int = 1000,
) -> dict[float, SurvivalAxis]:
    """Total points at which ``S(h | lp) = S0(h)^exp(lp)`` equals each ``fun_at`` value.

    ``baseline_surv`` maps horizon -> S0(h) at the *sample-mean* centring (rms/cph, and
    the fixture's ``baseline.surv_at_sample_means``). ``method="rms"`` inverts the curve
    as rms does (linear ``approx`` on a ``grid_size``-point lp grid spanning the lp axis),
    reproducing R's axis positions to ~1e-12; ``method="exact"`` uses the closed form
    ``lp = log(log(s) / log(S0))``, which differs from rms by up to ~1e-5 lp units (the
    grid's interpolation error). Either way, as in rms, values whose lp falls outside the
    lp axis range are dropped (rms's ``approx`` returns NA there).

    A horizon whose S0(h) is not in (0, 1) has no survival axis: S0(h) = 1 (no training
    event before h) gives S(h | lp) = 1 for every patient, S0(h) = 0 gives 0. Its axis is
    returned empty with a ``note`` saying why, and a warning is issued.
    """
    if method not in ("rms", "exact"):
        raise ValueError("method must be 'rms' or 'exact'")
    items = baseline_surv.items() if isinstance(baseline_surv, Mapping) else baseline_surv
    lo, hi = float(np.min(nomogram.lp_axis_lp)), float(np.max(nomogram.lp_axis_lp))
    fat = np.asarray(fun_at, dtype=float)
    grid = _r_seq_length_out(lo, hi, grid_size)
    out: dict[float, SurvivalAxis] = {}
    for h, s0 in items:
        s0 = float(s0)
        if not 0.0 < s0 < 1.0:
            out[h] = _undrawable_axis(h, s0)
            continue
        if method == "rms":
            lp = _r_approx(s0 ** np.exp(grid), grid, fat)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                lp = np.log(np.log(fat) / math.log(s0))  # exact inverse of s0 ** exp(lp)
            lp = np.where((lp >= lo) & (lp <= hi), lp, np.nan)
        keep = np.isfinite(lp)
        out[h] = SurvivalAxis(
            horizon=h,
            surv=fat[keep],
            total_points=np.asarray(nomogram.points_from_lp(lp[keep]), dtype=float),
            lp=lp[keep],
            baseline_surv=s0,
        )
    return out


def _undrawable_axis(h: float, s0: float) -> SurvivalAxis:
    """An empty survival axis for a horizon whose baseline survival is 0, 1 or undefined."""
    if s0 == 1.0:
        why = "no event in the training data before this horizon, so S(t) = 1 for every patient"
    elif s0 == 0.0:
        why = "every training patient has had the event by this horizon, so S(t) = 0 for every patient"
    else:
        why = f"baseline survival {s0} is not a probability in (0, 1)"
    note = f"{horizon_label(h)} survival axis not drawn: {why}"
    warnings.warn(f"nomogram: {note}", UserWarning, stacklevel=3)
    empty = np.zeros(0)
    return SurvivalAxis(horizon=h, surv=empty, total_points=empty, lp=empty, baseline_surv=s0, note=note)
