"""Variable selection for Cox models: univariable screening, stepAIC, Forward LR.

Method references:
  * Univariable screening by Wald p (joint Wald test for factor terms).
  * ``stepaic_both``: Venables & Ripley (2002), Modern Applied Statistics with S, §6.8 —
    ``MASS::stepAIC(direction = "both")`` including its candidate order, tie-breaking and
    stopping rule; for coxph, AIC = −2·loglik + k·#coef and the residual df uses
    ``nobs(coxph) = number of events``.
  * ``forward_lr``: SPSS "Forward: LR" style (IBM SPSS Statistics Algorithms, COXREG):
    entry by likelihood-ratio (or score) test, removal by likelihood-ratio test.
  * Score tests of adding terms: Therneau & Grambsch (2000) §3.4.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from crlmflow.survival.cox import CoxData, CoxResult, score_test, wald_test_terms
from crlmflow.survival.design import Design, design_matrix, normalise_candidates

__all__ = [
    "CoxProblem",
    "prepare",
    "fit_terms",
    "term_wald",
    "univariable_cox",
    "screen",
    "StepAICResult",
    "stepaic_both",
    "ForwardResult",
    "forward_lr",
    "not_in_model_score_tests",
]


@dataclass
class CoxProblem:
    """A design (all candidates) with its prepared Cox data; fits use term subsets."""

    design: Design
    data: CoxData
    time_col: str = ""
    event_col: str = ""
    _cache: dict = field(default_factory=dict)

    @property
    def terms(self) -> list[str]:
        return list(self.design.groups)

    def columns(self, terms) -> list[str]:
        return [self.design.columns[i] for t in terms for i in self.design.groups[t]]


def prepare(df: pd.DataFrame, candidates, time_col: str, event_col: str, ties: str = "efron") -> CoxProblem:
    """Design matrix of every candidate + sorted Cox data (complete cases expected)."""
    des = design_matrix(df, candidates)
    data = CoxData(df[time_col].to_numpy(float), df[event_col].to_numpy(float), des.X,
                   ties=ties, names=des.columns)
    return CoxProblem(des, data, time_col, event_col)


def fit_terms(problem: CoxProblem, terms, **kw) -> CoxResult:
    """Cox fit on the columns of the given terms (cached per term tuple)."""
    key = (tuple(terms), tuple(sorted(kw.items())))
    res = problem._cache.get(key)
    if res is None:
        res = problem.data.fit(cols=problem.columns(terms), **kw)
        problem._cache[key] = res
    return res


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


def univariable_cox(df: pd.DataFrame, candidates, time_col: str, event_col: str,
                    ties: str = "efron", conf_level: float = 0.95,
                    problem: CoxProblem | None = None) -> pd.DataFrame:
    """One Cox model per candidate (R ``coxph(Surv ~ VAR)``), one row per model column.

    Columns: term, variable, coef, se, z, hr, hr_lower, hr_upper, p (Wald, per column),
    p_term (joint Wald of the variable), p_lr, p_score, loglik, loglik_null, n, events.
    """
    pb = problem or prepare(df, candidates, time_col, event_col, ties)
    zc = stats.norm.ppf(1.0 - (1.0 - conf_level) / 2.0)
    rows = []
    for cand in normalise_candidates(candidates):
        v = cand.name
        fit = fit_terms(pb, [v])
        tw = wald_test_terms(fit, range(fit.coef.size))
        for j, term in enumerate(fit.names):
            b, se = fit.coef[j], fit.se[j]
            rows.append({
                "term": term, "variable": v, "coef": b, "se": se, "z": b / se,
                "hr": np.exp(b), "hr_lower": np.exp(b - zc * se), "hr_upper": np.exp(b + zc * se),
                "p": 2.0 * stats.norm.sf(abs(b / se)), "p_term": tw.p, "chisq_term": tw.chisq,
                "df_term": tw.df, "p_lr": fit.lr_test.p, "p_score": fit.score_test.p,
                "loglik": fit.loglik, "loglik_null": fit.loglik_init,
                "n": fit.n, "events": int(round(fit.events)),
            })
    return pd.DataFrame(rows)


def screen(univ: pd.DataFrame, threshold: float = 0.10, exclude=()) -> list[str]:
    """Variables with term-level univariable Wald p strictly below ``threshold``."""
    per_var = univ.drop_duplicates("variable")
    keep = per_var.loc[per_var["p_term"] < threshold, "variable"]
    return [v for v in keep if v not in set(exclude)]


# -- stepAIC ---------------------------------------------------------------------------


@dataclass
class StepAICResult:
    """``path`` mirrors stepAIC's ``$anova``: step, df, deviance, resid_df, resid_dev, aic."""

    path: pd.DataFrame
    selected: list[str]
    fit: CoxResult | None


def _aic(problem: CoxProblem, terms, k: float) -> tuple[float, int, float]:
    """(AIC, edf, deviance) as MASS's extractAIC/mydeviance for coxph."""
    if not terms:
        ll = problem.data.loglik(np.zeros(0), cols=[])
        return -2.0 * ll, 0, -2.0 * ll
    fit = fit_terms(problem, terms)
    edf = fit.coef.size
    return -2.0 * fit.loglik + k * edf, edf, -2.0 * fit.loglik


def stepaic_both(problem: CoxProblem, terms, k: float = 2.0, steps: int = 1000) -> StepAICResult:
    """``MASS::stepAIC(coxph(full), direction = "both", k)`` starting from the full model.

    Each step compares <none>, every "- term" (in model order) and every "+ term" from
    the full scope not in the model; the smallest AIC wins with R's stable ``order``
    (earlier rows win exact ties); stop if <none> wins or the AIC does not drop by 1e-7.
    """
    scope = list(terms)
    cur = list(terms)
    n_ev = problem.data.n_events
    aic, edf, dev = _aic(problem, cur, k)
    path = [{"step": "", "df": np.nan, "deviance": np.nan, "resid_df": n_ev - edf,
             "resid_dev": dev, "aic": aic}]
    for _ in range(steps):
        cands = [("", cur, aic)]
        for t in cur:
            new = [x for x in cur if x != t]
            cands.append((f"- {t}", new, _aic(problem, new, k)[0]))
        for t in scope:
            if t not in cur:
                new = cur + [t]
                cands.append((f"+ {t}", new, _aic(problem, new, k)[0]))
        # np.argsort(kind="stable") == R's order(): ties keep the earlier row
        best = int(np.argsort(np.array([c[2] for c in cands]), kind="stable")[0])
        if best == 0:
            break
        change, new_terms, _ = cands[best]
        new_aic, new_edf, new_dev = _aic(problem, new_terms, k)
        if new_aic >= aic + 1e-7:
            break
        path.append({"step": change, "df": (n_ev - new_edf) - path[-1]["resid_df"],
                     "deviance": abs(new_dev - path[-1]["resid_dev"]),
                     "resid_df": n_ev - new_edf, "resid_dev": new_dev, "aic": new_aic})
        cur, aic = new_terms, new_aic
    fit = fit_terms(problem, cur) if cur else None
    return StepAICResult(pd.DataFrame(path), cur, fit)


# -- forward selection -----------------------------------------------------------------


@dataclass
class ForwardResult:
    """``steps``: step, action (enter/remove), variable, test, chisq, df, p."""

    entry_test: str
    entry_p: float
    removal_p: float
    pool: list[str]
    steps: pd.DataFrame
    selected: list[str]
    fit: CoxResult | None


def _loglik(problem: CoxProblem, terms) -> tuple[float, int]:
    if not terms:
        return problem.data.loglik(np.zeros(0), cols=[]), 0
    f = fit_terms(problem, terms)
    return f.loglik, f.coef.size


def _lr(problem: CoxProblem, big, small) -> tuple[float, int, float]:
    llb, kb = _loglik(problem, big)
    lls, ks = _loglik(problem, small)
    chisq = 2.0 * (llb - lls)
    return chisq, kb - ks, _chisq_p(chisq, kb - ks)


def _score_add(problem: CoxProblem, base_terms, v) -> tuple[float, int, float]:
    base = fit_terms(problem, base_terms) if base_terms else None
    t = score_test(problem.data, base, problem.columns([v]))
    return t.chisq, t.df, t.p


def forward_lr(problem: CoxProblem, pool, entry_p: float = 0.05, removal_p: float = 0.10,
               entry_test: str = "lr", max_steps: int = 100) -> ForwardResult:
    """Forward stepwise: enter the smallest entry p (< entry_p, LR or score test vs the
    current model), then repeatedly remove the largest LR removal p while > removal_p;
    stop when nothing enters or a term set repeats (cycle guard)."""
    if entry_test not in ("lr", "score"):
        raise ValueError("entry_test must be 'lr' or 'score'")
    pool = list(pool)
    cur: list[str] = []
    steps: list[dict] = []
    seen: set[tuple] = set()
    for _ in range(max_steps):
        outside = [v for v in pool if v not in cur]
        if not outside:
            break
        tests = [(_score_add(problem, cur, v) if entry_test == "score"
                  else _lr(problem, cur + [v], cur)) for v in outside]
        ps = np.array([t[2] for t in tests])
        if np.all(np.isnan(ps)) or np.nanmin(ps) >= entry_p:
            break
        j = int(np.nanargmin(ps))  # first minimum, as R's which.min
        cur = cur + [outside[j]]
        steps.append({"step": len(steps) + 1, "action": "enter", "variable": outside[j],
                      "test": entry_test, "chisq": tests[j][0], "df": tests[j][1], "p": ps[j]})
        while len(cur) >= 2:
            rem = [_lr(problem, cur, [x for x in cur if x != v]) for v in cur]
            rp = np.array([r[2] for r in rem])
            if rp.max() <= removal_p:
                break
            j = int(np.argmax(rp))
            steps.append({"step": len(steps) + 1, "action": "remove", "variable": cur[j],
                          "test": "lr", "chisq": rem[j][0], "df": rem[j][1], "p": rp[j]})
            cur = cur[:j] + cur[j + 1:]
        key = tuple(sorted(cur))
        if key in seen:
            break
        seen.add(key)
    cols = ["step", "action", "variable", "test", "chisq", "df", "p"]
    fit = fit_terms(problem, cur) if cur else None
    return ForwardResult(entry_test, entry_p, removal_p, pool, pd.DataFrame(steps, columns=cols), cur, fit)


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
        chisq, df, p = _score_add(problem, final_terms, v)
        rows.append({"variable": v, "chisq": chisq, "df": df, "p": p})
    return pd.DataFrame(rows, columns=["variable", "chisq", "df", "p"])
