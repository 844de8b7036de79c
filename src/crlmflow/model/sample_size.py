"""Minimum sample size for developing a survival prediction model (Riley et al.).

Riley RD, Snell KIE, Ensor J, et al. Minimum sample size for developing a multivariable
prediction model: Part II — binary and time-to-event outcomes. *Stat Med* 2019;38:1276–96.
Riley RD, Ensor J, Snell KIE, et al. Calculating the sample size required for developing a
clinical prediction model. *BMJ* 2020;368:m441.

For ``p`` candidate parameters, an anticipated Cox–Snell R² (``R2cs``), an overall event
rate ``λ`` per unit time and a mean follow-up ``f``:

(i) small overfitting, expected uniform shrinkage ``S`` ≥ 0.9:
    ``n₁ = p / ((S − 1) ln(1 − R2cs/S))``;
(ii) small optimism in the apparent Nagelkerke R² (≤ δ = 0.05): with the largest possible
    ``R2cs,max = 1 − exp(2 lnL₀/n)``, ``lnL₀ = E ln(E/n) − E`` and ``E/n = λ f``, the
    shrinkage that keeps the optimism below δ is ``S₂ = R2cs / (R2cs + δ R2cs,max)`` and
    ``n₂ = p / ((S₂ − 1) ln(1 − R2cs/S₂))``;
(iii) precise overall risk at the horizon ``t``: with the exponential approximation
    ``F(t) = 1 − exp(−λt)`` and the rate's 95% CI ``λ ± 1.96 √(λ/(n f))``, the margin of
    error of ``F(t)`` at ``n = max(n₁, n₂)`` (what pmsampsize reports), and the smallest ``n``
    that keeps that margin ≤ ``margin`` (0.05 absolute, Riley BMJ 2020).

The arithmetic follows the R package pmsampsize (Ensor, Martin & Riley, v1.1.3), including
its roundings (``R2cs,max`` to 2 decimals, ``S₂`` to 3, ``E`` from a nominal n = 10 000), so
that the numbers agree with its published test values; the minimum n is the largest of
criteria (i)–(iii).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crlmflow.survival.checks import check_survival

__all__ = [
    "SampleSizeResult",
    "heuristic_shrinkage",
    "study_sample_size",
    "max_r2_cs",
    "r2_cs_from_lr",
    "riley_survival_sample_size",
    "study_rate_and_followup",
]

Z95 = 1.959963984540054


def max_r2_cs(rate: float, mean_followup: float, *, nominal_n: int = 10_000) -> float:
    """Largest Cox–Snell R² a survival model can reach, ``1 − exp(2 lnL₀/n)`` (Riley 2019, eq. 23).

    ``lnL₀ = E ln(E/n) − E`` is the null log-likelihood of an exponential model with
    ``E = ⌈λ f n⌉`` events in ``n`` patients (pmsampsize's nominal n = 10 000), rounded to
    2 decimals as pmsampsize does.
    """
    events = math.ceil(rate * mean_followup * nominal_n)
    ln_l0 = events * math.log(events / nominal_n) - events
    return round(1.0 - math.exp(2.0 * ln_l0 / nominal_n), 2)


def r2_cs_from_lr(lr_chisq: float, n: int) -> float:
    """Cox–Snell R² of a fitted model from its likelihood-ratio χ²: ``1 − exp(−LR/n)``."""
    return 1.0 - math.exp(-float(lr_chisq) / float(n))


def _n_for_shrinkage(parameters: int, r2: float, shrinkage: float) -> int:
    """``⌈p / ((S − 1) ln(1 − R2cs/S))⌉`` (Riley 2019, eq. 10)."""
    if r2 >= shrinkage:
        raise ValueError(f"anticipated Cox-Snell R2 {r2:g} must be below the target shrinkage {shrinkage:g}")
    return math.ceil(parameters / ((shrinkage - 1.0) * math.log(1.0 - r2 / shrinkage)))


@dataclass(frozen=True)
class SampleSizeResult:
    """Riley's criteria for one anticipated R²: the required n per criterion and overall."""

    parameters: int
    r2_cs: float
    max_r2_cs: float
    rate: float
    mean_followup: float
    horizon: float
    n_shrinkage: int
    shrinkage_1: float
    n_optimism: int
    shrinkage_2: float
    n_precision: int
    risk_at_horizon: float
    margin_at_n: float
    risk_lower: float
    risk_upper: float
    n_required: int

    @property
    def nagelkerke(self) -> float:
        """Anticipated Nagelkerke R² = R2cs / R2cs,max."""
        return self.r2_cs / self.max_r2_cs

    @property
    def events_required(self) -> float:
        """Expected events at the minimum n: ``n λ f``."""
        return self.n_required * self.rate * self.mean_followup

    @property
    def events_per_parameter(self) -> float:
        return self.events_required / self.parameters

    @property
    def final_shrinkage(self) -> float:
        return max(self.shrinkage_1, self.shrinkage_2)


def _risk_ci(rate: float, horizon: float, person_time: float) -> tuple[float, float, float]:
    """F(t) = 1 − exp(−λt) and its CI from the rate's Poisson CI λ ± 1.96 √(λ/PT)."""
    half = Z95 * math.sqrt(rate / person_time)
    risk = 1.0 - math.exp(-rate * horizon)
    return risk, 1.0 - math.exp(-(rate - half) * horizon), 1.0 - math.exp(-(rate + half) * horizon)


def riley_survival_sample_size(
    parameters: int,
    r2_cs: float,
    rate: float,
    horizon: float,
    mean_followup: float,
    *,
    shrinkage: float = 0.9,
    optimism: float = 0.05,
    margin: float = 0.05,
) -> SampleSizeResult:
    """Minimum sample size for a Cox prediction model, Riley et al. criteria (i)–(iii).

    Parameters
    ----------
    parameters : int
        Candidate predictor parameters (every one considered, selection included).
    r2_cs : float
        Anticipated (optimism-adjusted) Cox–Snell R².
    rate : float
        Overall event rate per unit time (events / person-time).
    horizon : float
        Time point of the overall-risk criterion, in the same unit.
    mean_followup : float
        Mean follow-up per patient, same unit.
    shrinkage, optimism, margin : float
        Target shrinkage (criterion i), largest optimism in Nagelkerke R² (ii), largest
        absolute margin of error of the overall risk at the horizon (iii).

    Returns
    -------
    SampleSizeResult
    """
    if parameters < 1:
        raise ValueError(f"parameters must be at least 1, got {parameters}")
    if not (0 < r2_cs < 1 and rate > 0 and mean_followup > 0 and horizon > 0):
        raise ValueError("r2_cs must lie in (0, 1); rate, horizon and mean follow-up must be positive")
    n1 = _n_for_shrinkage(parameters, r2_cs, shrinkage)
    r2_max = max_r2_cs(rate, mean_followup)
    if r2_max < r2_cs:
        raise ValueError(f"anticipated Cox-Snell R2 {r2_cs:g} exceeds the largest possible, {r2_max:g}")
    s2 = round(r2_cs / (r2_cs + optimism * r2_max), 3)
    n2 = _n_for_shrinkage(parameters, r2_cs, s2)
    n12 = max(n1, n2)
    risk, lower, upper = _risk_ci(rate, horizon, round(mean_followup * n12, 1))
    # smallest n whose upper limit of F(t) lies within `margin` of F(t):
    # exp(−λt)(1 − exp(−δt)) ≤ margin  ⇔  δ ≤ −ln(1 − margin·exp(λt))/t,  δ = 1.96 √(λ/(n f))
    inner = 1.0 - margin * math.exp(rate * horizon)
    if inner <= 0:
        n3 = 1  # any n: the upper limit cannot exceed F(t) + margin
    else:
        delta = -math.log(inner) / horizon
        n3 = math.ceil(rate / (mean_followup * (delta / Z95) ** 2))
    return SampleSizeResult(
        parameters=int(parameters),
        r2_cs=float(r2_cs),
        max_r2_cs=r2_max,
        rate=float(rate),
        mean_followup=float(mean_followup),
        horizon=float(horizon),
        n_shrinkage=n1,
        shrinkage_1=float(shrinkage),
        n_optimism=n2,
        shrinkage_2=s2,
        n_precision=n3,
        risk_at_horizon=risk,
        margin_at_n=upper - risk,
        risk_lower=lower,
        risk_upper=upper,
        n_required=max(n12, n3),
    )


def study_rate_and_followup(time, event) -> tuple[float, float, float]:
    """Overall event rate (events / person-time), mean follow-up and person-time of a cohort."""
    t, e = check_survival(time, event)
    person_time = float(np.sum(t))
    return float(np.sum(e)) / person_time, float(np.mean(t)), person_time


def heuristic_shrinkage(lr_chisq: float, parameters: int) -> float:
    """van Houwelingen & le Cessie's (Stat Med 1990) heuristic shrinkage ``(LR − p)/LR``."""
    return (float(lr_chisq) - parameters) / float(lr_chisq) if lr_chisq > 0 else float("nan")


def study_sample_size(
    time,
    event,
    *,
    parameters: int,
    full_model_lr: float | None,
    horizon: float,
    shrinkage: float = 0.9,
    optimism: float = 0.05,
    margin: float = 0.05,
    r2_cs: float | None = None,
    nagelkerke: float = 0.15,
) -> list[dict]:
    """Riley's minimum sample size for a study's development data, one row per anticipated R².

    The anticipated Cox–Snell R² comes from (a) the full model of every candidate parameter
    fitted on these data, its apparent R² multiplied by the heuristic shrinkage (Riley et al.
    2019, §4.1 and BMJ 2020, step 1 — the optimism-adjusted R² of an existing model);
    (b) the conservative default of a Nagelkerke R² of ``nagelkerke`` (0.15, Riley BMJ 2020,
    when nothing better is known); (c) ``r2_cs`` when the study gives one. Each row carries
    the required n, events and events per parameter per criterion, beside the actual n,
    events and events per parameter; ``not_estimable`` says why a row has no numbers.
    """
    rate, fup, _ = study_rate_and_followup(time, event)
    _, e = check_survival(time, event)
    n, events = int(e.size), int(e.sum())
    r2_max = max_r2_cs(rate, fup)
    sources = []
    if full_model_lr is not None:
        s_vh = heuristic_shrinkage(full_model_lr, parameters)
        r2_app = r2_cs_from_lr(full_model_lr, n)
        sources.append(("full model on these data, apparent R2 x heuristic shrinkage", s_vh * r2_app))
    sources.append((f"conservative default: Nagelkerke R2 = {nagelkerke:g}", nagelkerke * r2_max))
    if r2_cs is not None:
        sources.append(("given in the config (sample_size.r2_cs)", float(r2_cs)))
    rows = []
    for source, r2 in sources:
        row = dict(
            r2_source=source,
            r2_cs=r2,
            max_r2_cs=r2_max,
            parameters=parameters,
            rate=rate,
            mean_followup=fup,
            horizon=horizon,
            actual_n=n,
            actual_events=events,
            actual_events_per_parameter=events / parameters,
        )
        if not r2 > 0:
            rows.append(row | {"not_estimable": "the full model's heuristic shrinkage is <= 0 (LR chi2 <= p)"})
            continue
        res = riley_survival_sample_size(
            parameters, r2, rate, horizon, fup, shrinkage=shrinkage, optimism=optimism, margin=margin
        )
        rows.append(
            row
            | dict(
                nagelkerke=res.nagelkerke,
                n_shrinkage=res.n_shrinkage,
                n_optimism=res.n_optimism,
                shrinkage_optimism=res.shrinkage_2,
                n_precision=res.n_precision,
                risk_at_horizon=res.risk_at_horizon,
                n_required=res.n_required,
                events_required=res.events_required,
                events_per_parameter_required=res.events_per_parameter,
                final_shrinkage=res.final_shrinkage,
                met=n >= res.n_required,
                not_estimable="",
            )
        )
    return rows
