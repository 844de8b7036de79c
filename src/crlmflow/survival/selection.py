"""Variable selection for Cox models: univariable screening, stepAIC, Forward LR.

Method references:
  * Univariable screening by Wald p (joint Wald test for factor terms).
  * ``stepaic_both``: Venables & Ripley (2002), Modern Applied Statistics with S, §6.8 —
    ``MASS::stepAIC(direction = "both")`` including its candidate order, tie-breaking and
    stopping rule; for coxph, AIC = −2·loglik + k·#coef and the residual df uses
    ``nobs(coxph) = number of events``.
  * ``forward_lr``: SPSS COXREG "Forward: LR" (``METHOD = FSTEP(LR)``; IBM SPSS Statistics
    Algorithms, COXREG, and the COXREG METHOD subcommand): a covariate enters on the
    significance of its score statistic (``entry_test="score"``, SPSS's rule; ``"lr"``
    enters by likelihood ratio instead), a covariate in the model is removed on the
    likelihood-ratio test (the "LR" of FSTEP(LR); SPSS's other choices are Wald and
    conditional).
  * Score tests of adding terms: Therneau & Grambsch (2000) §3.4.

Both stepwise procedures are written once, against the small :class:`SelectionModels`
interface (log-likelihood and size of a term set, a batch prefetch of one step's models,
the score test of adding a term).  :class:`CoxProblem` implements it with one R-faithful
fit per term set; the optimism bootstrap implements it with batched, warm-started fits
on a resample (``crlmflow.validation.replicate_models``), so the same code selects in
every replicate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import special

from crlmflow.survival.cox import CoxData, SeparationError, score_test, wald_test_terms
from crlmflow.survival.cox_result import CoxResult
from crlmflow.survival.design import Design, design_matrix, normalise_candidates, resolve_knots
from crlmflow.survival.separation import not_estimable_rows

__all__ = [
    "CoxProblem",
    "prepare",
    "fit_terms",
    "term_wald",
    "univariable_cox",
    "screen",
    "screen_terms",
    "SelectionModels",
    "METHODS",
    "AIC_TOL",
    "check_method",
    "select_terms",
    "StepAICResult",
    "stepaic_both",
    "ForwardResult",
    "forward_lr",
    "not_in_model_score_tests",
]


@dataclass
class CoxProblem:
    """A design (all candidates) with its prepared Cox data; fits use term subsets.

    Implements :class:`SelectionModels` with one fit per term set from β = 0 (as R's
    ``coxph``), cached by term tuple.
    """

    design: Design
    data: CoxData
    time_col: str = ""
    event_col: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def terms(self) -> list[str]:
        return list(self.design.groups)

    @property
    def n_events(self) -> float:
        return self.data.n_events

    def columns(self, terms) -> list[str]:
        return [self.design.columns[i] for t in terms for i in self.design.groups[t]]

    def fit(self, terms, **kw) -> CoxResult:
        """Cox fit on the columns of ``terms`` (``CoxData.fit`` keywords; cached)."""
        key = (tuple(terms), tuple(sorted(kw.items())))
        res = self._cache.get(key)
        if res is None:
            res = self.data.fit(cols=self.columns(terms), **kw)
            self._cache[key] = res
        return res

    def loglik(self, terms) -> float:
        if not terms:
            return self.data.loglik(np.zeros(0), cols=[])
        return self.fit(terms).loglik

    def n_params(self, terms) -> int:
        return int(sum(len(self.design.groups[t]) for t in terms))

    def prefetch(self, term_sets, parent=()) -> None:
        """Nothing to do: every model is fitted on demand from β = 0, so results do not
        depend on the order of fits (R parity)."""

    def score_add(self, base, term) -> tuple[float, int, float]:
        """Score test of adding ``term`` to the fitted ``base`` (Therneau & Grambsch §3.4)."""
        fit = self.fit(base) if base else None
        t = score_test(self.data, fit, self.columns([term]))
        return t.chisq, t.df, t.p

    def score_add_many(self, base, terms) -> list[tuple[float, int, float]]:
        """``score_add(base, t)`` for each of ``terms``, in order."""
        return [self.score_add(base, t) for t in terms]


def prepare(df: pd.DataFrame, candidates, time_col: str, event_col: str, ties: str = "efron") -> CoxProblem:
    """Design matrix of every candidate + sorted Cox data (complete cases expected).

    Spline candidates get their knots placed on ``df`` (``resolve_knots``): ``df`` is the
    training data, and the problem's ``design.candidates`` carry the knots from then on.
    """
    des = design_matrix(df, resolve_knots(df, candidates))
    data = CoxData(df[time_col].to_numpy(float), df[event_col].to_numpy(float), des.X, ties=ties, names=des.columns)
    return CoxProblem(des, data, time_col, event_col)


def fit_terms(problem: CoxProblem, terms, **kw) -> CoxResult:
    """Cox fit on the columns of the given terms (cached per term tuple): ``problem.fit``."""
    return problem.fit(terms, **kw)


def term_wald(problem: CoxProblem, fit: CoxResult, terms) -> pd.DataFrame:
    """Joint Wald test per term (df = number of its columns)."""
    rows, pos = [], 0
    for t in terms:
        k = len(problem.design.groups[t])
        tst = wald_test_terms(fit, range(pos, pos + k))
        rows.append({"term": t, "chisq": tst.chisq, "df": tst.df, "p": tst.p})
        pos += k
    return pd.DataFrame(rows)


def _chisq_p(chisq: float, df: int) -> float:
    return float(special.chdtrc(df, chisq))


def univariable_cox(
    df: pd.DataFrame,
    candidates,
    time_col: str,
    event_col: str,
    ties: str = "efron",
    conf_level: float = 0.95,
    problem: CoxProblem | None = None,
) -> pd.DataFrame:
    """One Cox model per candidate (R ``coxph(Surv ~ VAR)``), one row per model column.

    Columns: term, variable, coef, se, z, hr, hr_lower, hr_upper, p (Wald, per column),
    p_term (joint Wald of the variable), p_lr, p_score, loglik, loglik_null, n, events,
    separated (bool) and separation (the reason, "" if estimable).

    A candidate whose partial likelihood is monotone (e.g. a binary with no events in one
    level: the MLE is infinite, R's coxph warns and reports a huge coefficient) is not
    estimable: its rows carry NaN estimates and p-values (so it never passes the screen),
    ``separated = True`` and the reason with the event counts per level; a
    ``SeparationWarning`` names the candidate and the endpoint.
    """
    pb = problem or prepare(df, candidates, time_col, event_col, ties)
    zc = special.ndtri(1.0 - (1.0 - conf_level) / 2.0)
    rows = []
    for cand in normalise_candidates(candidates):
        v = cand.name
        try:
            fit = fit_terms(pb, [v])
        except SeparationError as exc:
            rows += not_estimable_rows(pb, v, str(exc))
            continue
        tw = wald_test_terms(fit, range(fit.coef.size))
        for j, term in enumerate(fit.names):
            b, se = fit.coef[j], fit.se[j]
            rows.append(
                {
                    "term": term,
                    "variable": v,
                    "coef": b,
                    "se": se,
                    "z": b / se,
                    "hr": np.exp(b),
                    "hr_lower": np.exp(b - zc * se),
                    "hr_upper": np.exp(b + zc * se),
                    "p": 2.0 * special.ndtr(-abs(b / se)),
                    "p_term": tw.p,
                    "chisq_term": tw.chisq,
                    "df_term": tw.df,
                    "p_lr": fit.lr_test.p,
                    "p_score": fit.score_test.p,
                    "loglik": fit.loglik,
                    "loglik_null": fit.loglik_init,
                    "n": fit.n,
                    "events": int(round(fit.events)),
                    "separated": False,
                    "separation": "",
                }
            )
    return pd.DataFrame(rows)


def screen(univ: pd.DataFrame, threshold: float = 0.10, exclude=()) -> list[str]:
    """Variables with term-level univariable Wald p strictly below ``threshold``."""
    per_var = univ.drop_duplicates("variable")
    return screen_terms(dict(zip(per_var["variable"], per_var["p_term"])), threshold, exclude)


def screen_terms(p_values: Mapping[str, float], threshold: float = 0.10, exclude=()) -> list[str]:
    """Terms (in the mapping's order) with p strictly below ``threshold``, not in ``exclude``.

    A NaN p (e.g. a separated column) never passes.
    """
    ex = set(exclude)
    return [v for v, p in p_values.items() if p < threshold and v not in ex]


# -- the interface both selection procedures run on --------------------------------------


class SelectionModels(Protocol):
    """Cox models of term subsets of one data set, as the stepwise procedures need them.

    Implemented by :class:`CoxProblem` (one fit per term set, from β = 0, as R) and by the
    optimism bootstrap's batched replicate models
    (:class:`crlmflow.validation.replicate_models.ReplicateModels`).
    """

    @property
    def n_events(self) -> float:
        """Number of (weighted) events: ``nobs(coxph)``, the residual df of stepAIC's path."""

    def loglik(self, terms: Sequence[str]) -> float:
        """Maximised log partial likelihood of the model with ``terms`` (β-free if empty)."""

    def n_params(self, terms: Sequence[str]) -> int:
        """Number of coefficients of ``terms`` (a factor counts its dummy columns)."""

    def prefetch(self, term_sets: Sequence[Sequence[str]], parent: Sequence[str] = ()) -> None:
        """Fit the models of one selection step, possibly together and warm-started from
        the already fitted ``parent`` model; results are identical to fitting on demand."""

    def score_add(self, base: Sequence[str], term: str) -> tuple[float, int, float]:
        """(chisq, df, p) of the score test of adding ``term`` to the fitted ``base`` model."""

    def score_add_many(self, base: Sequence[str], terms: Sequence[str]) -> list[tuple[float, int, float]]:
        """``score_add(base, t)`` for each of ``terms`` (possibly from one evaluation at
        (β̂_base, 0) of the model with every term added; identical statistics).  Optional:
        ``forward_lr`` calls ``score_add`` per term where it is missing."""

    def fit(self, terms: Sequence[str]) -> Any:
        """The fitted model of ``terms`` (the procedure returns it for the selected set)."""


METHODS = ("stepaic_both", "forward_lr")
AIC_TOL = 1e-7  # stepAIC stops unless the AIC drops by more than this (MASS: 1e-7)


def check_method(method: str) -> str:
    """Return ``method`` if it is a known selection procedure, else raise ValueError."""
    if method not in METHODS:
        raise ValueError(f"unknown selection method {method!r}; allowed: {', '.join(METHODS)}")
    return method


def select_terms(
    models: SelectionModels,
    pool,
    method: str = "stepaic_both",
    *,
    entry_p: float = 0.05,
    removal_p: float = 0.10,
    entry_test: str = "lr",
):
    """Run the stepwise procedure ``method`` on the screened ``pool``.

    ``entry_test`` is the Forward entry statistic: ``"score"`` is SPSS COXREG's
    ``METHOD = FSTEP(LR)`` ("Forward: LR": score test for entry, likelihood ratio for
    removal); ``"lr"`` enters by likelihood ratio as well. Unused by ``stepaic_both``.

    Returns a :class:`StepAICResult` or :class:`ForwardResult`; both carry ``selected``,
    ``path`` and ``fit``.
    """
    if check_method(method) == "stepaic_both":
        return stepaic_both(models, pool)
    return forward_lr(models, pool, entry_p=entry_p, removal_p=removal_p, entry_test=entry_test)


# -- stepAIC ---------------------------------------------------------------------------


@dataclass
class StepAICResult:
    """``path`` mirrors stepAIC's ``$anova``: step, df, deviance, resid_df, resid_dev, aic."""

    path: pd.DataFrame
    selected: list[str]
    fit: Any


def _aic(models: SelectionModels, terms, k: float) -> tuple[float, int, float]:
    """(AIC, edf, deviance) as MASS's extractAIC/mydeviance for coxph."""
    dev = -2.0 * models.loglik(terms)
    edf = models.n_params(terms)
    return dev + k * edf, edf, dev


def stepaic_both(models: SelectionModels, terms, k: float = 2.0, steps: int = 1000) -> StepAICResult:
    """``MASS::stepAIC(coxph(full), direction = "both", k)`` starting from the full model.

    Each step compares <none>, every "- term" (in model order) and every "+ term" from
    the full scope not in the model; the smallest AIC wins with R's stable ``order``
    (earlier rows win exact ties); stop if <none> wins or the AIC does not drop by
    ``AIC_TOL``.  Reference: Venables & Ripley (2002), MASS, §6.8.
    """
    scope = list(terms)
    cur = list(terms)
    n_ev = models.n_events
    models.prefetch([cur])
    aic, edf, dev = _aic(models, cur, k)
    path = [{"step": "", "df": np.nan, "deviance": np.nan, "resid_df": n_ev - edf, "resid_dev": dev, "aic": aic}]
    for _ in range(steps):
        drops = [[x for x in cur if x != t] for t in cur]
        adds = [cur + [t] for t in scope if t not in cur]
        models.prefetch(drops + adds, parent=cur)
        cands = [("", cur, aic)]
        cands += [(f"- {t}", new, _aic(models, new, k)[0]) for t, new in zip(cur, drops)]
        cands += [(f"+ {new[-1]}", new, _aic(models, new, k)[0]) for new in adds]
        # np.argsort(kind="stable") == R's order(): ties keep the earlier row
        best = int(np.argsort(np.array([c[2] for c in cands]), kind="stable")[0])
        if best == 0:
            break
        change, new_terms, new_aic = cands[best]
        if new_aic >= aic + AIC_TOL:
            break
        _, new_edf, new_dev = _aic(models, new_terms, k)
        path.append(
            {
                "step": change,
                "df": (n_ev - new_edf) - path[-1]["resid_df"],
                "deviance": abs(new_dev - path[-1]["resid_dev"]),
                "resid_df": n_ev - new_edf,
                "resid_dev": new_dev,
                "aic": new_aic,
            }
        )
        cur, aic = new_terms, new_aic
    return StepAICResult(pd.DataFrame(path), cur, models.fit(cur) if cur else None)


# -- forward selection -----------------------------------------------------------------


@dataclass
class ForwardResult:
    """``steps``: step, action (enter/remove), variable, test, chisq, df, p (a DataFrame
    built from ``step_rows`` when first read: the bootstrap runs thousands of selections
    and reads only ``selected``)."""

    entry_test: str
    entry_p: float
    removal_p: float
    pool: list[str]
    step_rows: list[dict]
    selected: list[str]
    fit: Any

    @property
    def steps(self) -> pd.DataFrame:
        return pd.DataFrame(self.step_rows, columns=["step", "action", "variable", "test", "chisq", "df", "p"])

    @property
    def path(self) -> pd.DataFrame:
        """The steps table (the name :class:`StepAICResult` uses for its path)."""
        return self.steps


def _lr(models: SelectionModels, big, small) -> tuple[float, int, float]:
    chisq = 2.0 * (models.loglik(big) - models.loglik(small))
    df = models.n_params(big) - models.n_params(small)
    return chisq, df, _chisq_p(chisq, df)


def forward_lr(
    models: SelectionModels,
    pool,
    entry_p: float = 0.05,
    removal_p: float = 0.10,
    entry_test: str = "lr",
    max_steps: int = 100,
) -> ForwardResult:
    """Forward stepwise (SPSS COXREG "Forward: LR"; IBM SPSS Statistics Algorithms).

    Enter the smallest entry p (< entry_p, LR or score test vs the current model), then
    repeatedly remove the largest LR removal p while > removal_p; stop when nothing
    enters or a term set repeats (cycle guard).
    """
    if entry_test not in ("lr", "score"):
        raise ValueError(f"entry_test must be 'lr' or 'score', got {entry_test!r}")
    pool = list(pool)
    cur: list[str] = []
    steps: list[dict] = []
    seen: set[tuple] = set()
    for _ in range(max_steps):
        outside = [v for v in pool if v not in cur]
        if not outside:
            break
        if entry_test == "score":
            many = getattr(models, "score_add_many", None)  # optional: one evaluation for all
            tests = many(cur, outside) if many else [models.score_add(cur, v) for v in outside]
        else:
            models.prefetch([cur + [v] for v in outside], parent=cur)
            tests = [_lr(models, cur + [v], cur) for v in outside]
        ps = np.array([t[2] for t in tests])
        if np.all(np.isnan(ps)) or np.nanmin(ps) >= entry_p:
            break
        j = int(np.nanargmin(ps))  # first minimum, as R's which.min
        models.prefetch([cur + [outside[j]]], parent=cur)
        cur = cur + [outside[j]]
        steps.append(
            {
                "step": len(steps) + 1,
                "action": "enter",
                "variable": outside[j],
                "test": entry_test,
                "chisq": tests[j][0],
                "df": tests[j][1],
                "p": ps[j],
            }
        )
        while len(cur) >= 2:
            subs = [[x for x in cur if x != v] for v in cur]
            models.prefetch(subs, parent=cur)
            rem = [_lr(models, cur, s) for s in subs]
            rp = np.array([r[2] for r in rem])
            if rp.max() <= removal_p:
                break
            j = int(np.argmax(rp))
            steps.append(
                {
                    "step": len(steps) + 1,
                    "action": "remove",
                    "variable": cur[j],
                    "test": "lr",
                    "chisq": rem[j][0],
                    "df": rem[j][1],
                    "p": rp[j],
                }
            )
            cur = cur[:j] + cur[j + 1 :]
        key = tuple(sorted(cur))
        if key in seen:
            break
        seen.add(key)
    fit = models.fit(cur) if cur else None
    return ForwardResult(entry_test, entry_p, removal_p, pool, steps, cur, fit)


def not_in_model_score_tests(problem: CoxProblem, final_terms, candidates=None) -> pd.DataFrame:
    """Score test of adding each candidate not in ``final_terms`` to the final model.

    = R ``coxph(Surv ~ final + v, init = c(beta_hat, 0), iter.max = 0)$score``, df = #columns of v.
    Columns: variable, chisq, df, p.
    """
    names = problem.terms if candidates is None else [c.name for c in normalise_candidates(candidates)]
    final_terms = list(final_terms)
    rows = []
    for v in names:
        if v in final_terms:
            continue
        chisq, df, p = problem.score_add(final_terms, v)
        rows.append({"variable": v, "chisq": chisq, "df": df, "p": p})
    return pd.DataFrame(rows, columns=["variable", "chisq", "df", "p"])
