"""The paper's model development across multiply imputed datasets.

Procedure (``data.missing_predictors: multiple_imputation``):

1. Impute the training patients' missing candidates m times by chained equations with the
   outcome in the imputation model (:func:`crlmflow.data.imputation.impute_chained`).
2. In each imputed dataset run the paper's procedure: univariable Cox screening at
   p < ``screen_p``, then stepwise selection (:func:`crlmflow.model.modelling.select_model`).
3. Final terms by the **majority rule**: a candidate enters the final model when it is
   selected in at least half of the imputed datasets (Wood, White & Royston, Stat Med
   2008;27:3227–3246), :func:`crlmflow.model.pooling.majority_terms`.
4. Fit the final terms in every imputed dataset and pool the coefficients by **Rubin's
   rules** (:func:`crlmflow.model.pooling.rubin_pool`); the baseline cumulative hazard at
   the pooled coefficients is estimated in each imputed dataset and averaged.
5. Apparent Harrell's C and calibration slope of the pooled model: computed in each
   imputed dataset and averaged (Marshall et al., BMC Med Res Methodol 2009;9:57).
6. Optimism correction — by default a documented cheaper approximation: Harrell's bootstrap with the
   whole procedure repeated (:func:`crlmflow.validation.optimism.run_replicates`) *within
   each imputed dataset* ("MI-boot"/"impute then bootstrap"), the optimism averaged over
   imputations and subtracted from the pooled apparent C (and slope). Wahl et al. (BMC Med Res
   Methodol 2016;16:144) found this order can be somewhat *over-optimistic* compared with
   bootstrapping first and imputing each bootstrap sample (Schomaker & Heumann, Biometrics
   2018;74:1–11), which costs m × B imputations and is offered as
   ``bootstrap_order="bootstrap_then_impute"`` (:func:`_optimism_bootstrap_then_impute`);
   the outputs say which order was used.

Each imputation's bootstrap replicate b draws from ``stream(seed, "optimism_bootstrap",
endpoint, b)`` (the same resampled rows in every imputed dataset: common random numbers,
so the between-imputation spread of the optimism is not inflated by resampling noise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crlmflow.data.imputation import impute_chained, imputed_counts, n_imputations
from crlmflow.model.modelling import select_model
from crlmflow.model.pooling import majority_terms, pool_mean, rubin_pool, selection_table
from crlmflow.survival.cox import CoxData, baseline_hazard, cumhaz_at
from crlmflow.survival.design import design_matrix, normalise_candidates
from crlmflow.survival.selection import prepare, univariable_cox
from crlmflow.validation.concordance import concordance_index
from crlmflow.validation.optimism import (
    apparent_performance,
    bootstrap_indices,
    run_replicates,
    summarise_optimism,
)

__all__ = ["BOOTSTRAP_ORDER", "BOOTSTRAP_ORDERS", "MultipleImputationModel", "fit_with_multiple_imputation"]

#: How the optimism correction combines the bootstrap and the imputations (stated in outputs).
BOOTSTRAP_ORDERS = {
    "impute_then_bootstrap": (
        "impute then bootstrap: Harrell's optimism bootstrap (selection repeated) within each "
        "imputed dataset, optimism averaged over imputations (Wahl et al. 2016; may be slightly "
        "optimistic vs bootstrap-then-impute, Schomaker & Heumann 2018)"
    ),
    "bootstrap_then_impute": (
        "bootstrap then impute: each bootstrap sample of the incomplete training data imputed m "
        "times and the whole procedure repeated (selection per imputation, majority rule, Rubin's "
        "rules); optimism = pooled model's mean performance on the sample's imputations minus on "
        "the original imputations, averaged over replicates (Schomaker & Heumann 2018)"
    ),
}
BOOTSTRAP_ORDER = BOOTSTRAP_ORDERS["impute_then_bootstrap"]


@dataclass
class MultipleImputationModel:
    """Result of :func:`fit_with_multiple_imputation`.

    Attributes
    ----------
    m : int
        Number of imputations.
    terms : list of str
        Final candidates (majority rule).
    selection : DataFrame
        Per candidate: times_selected, proportion, in_final, imputations.
    pooled : DataFrame
        Per design column of the final terms: Rubin-pooled ``estimate`` (log HR), ``se``,
        ``df``, ``fmi``, ``p``, 95% ``lower``/``upper``, and ``hr``, ``hr_lower``, ``hr_upper``.
    performance : DataFrame
        Per measure (``c_index``, ``slope``): apparent (pooled), optimism (mean over
        imputations), corrected, between-imputation SDs, replicates, and the bootstrap order.
    per_imputation : DataFrame
        Per imputation: the terms its own selection chose, apparent C and slope of the
        pooled model, and the optimism of C and slope.
    imputed : DataFrame
        Values imputed per candidate (counts and percent of the training patients).
    baseline_times, baseline_cumhaz : ndarray
        Averaged baseline cumulative hazard (covariates 0) at the pooled coefficients.
    """

    m: int
    terms: list[str]
    selection: pd.DataFrame
    pooled: pd.DataFrame
    performance: pd.DataFrame
    per_imputation: pd.DataFrame
    imputed: pd.DataFrame
    candidates: list = field(default_factory=list)
    baseline_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    baseline_cumhaz: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def coef(self) -> np.ndarray:
        return self.pooled["estimate"].to_numpy(float)

    def linear_predictor(self, df: pd.DataFrame) -> np.ndarray:
        """Uncentred Xβ of the pooled model for complete rows (a truth or external cohort)."""
        if not self.terms:
            return np.zeros(len(df))
        chosen = [c for c in normalise_candidates(self.candidates) if c.name in self.terms]
        des = design_matrix(df, chosen)
        X = des.X[:, [des.columns.index(c) for c in self.pooled.index]]
        return X @ self.coef

    def survival(self, df: pd.DataFrame, horizons) -> np.ndarray:
        """S(t | x) = exp(−H̄0(t)·exp(xβ̄)), rows × horizons, for complete rows."""
        idx = np.searchsorted(self.baseline_times, np.asarray(horizons, float), side="right") - 1
        H = np.where(idx < 0, 0.0, self.baseline_cumhaz[np.maximum(idx, 0)])
        return np.exp(-np.outer(np.exp(self.linear_predictor(df)), H))

    def risk(self, df: pd.DataFrame, t: float) -> np.ndarray:
        """1 − S(t | x) of the pooled model for complete rows."""
        return 1.0 - self.survival(df, [float(t)])[:, 0]

    def terms_table(self) -> pd.DataFrame:
        """One row per design column of every candidate: ``term, variable, screened``
        (selected in at least one imputed dataset), ``selected`` (majority rule), and the
        pooled ``coef, se, hr, hr_lower, hr_upper, p`` (NaN outside the final model) — the
        layout of the simulation study's ``ArmFit.terms``."""
        share = self.selection.set_index("variable")["proportion"]
        rows = []
        for c in normalise_candidates(self.candidates):
            for term in c.term_names():
                pooled = self.pooled.loc[term] if term in self.pooled.index else None
                rows.append(
                    {
                        "term": term,
                        "variable": c.name,
                        "screened": bool(share.get(c.name, 0.0) > 0),
                        "selected": c.name in self.terms,
                        "coef": np.nan if pooled is None else pooled["estimate"],
                        "se": np.nan if pooled is None else pooled["se"],
                        "hr": np.nan if pooled is None else pooled["hr"],
                        "hr_lower": np.nan if pooled is None else pooled["hr_lower"],
                        "hr_upper": np.nan if pooled is None else pooled["hr_upper"],
                        "p": np.nan if pooled is None else pooled["p"],
                    }
                )
        return pd.DataFrame(rows)


def _select(data: pd.DataFrame, candidates, time_col, event_col, selection: dict) -> list[str]:
    problem = prepare(data, candidates, time_col, event_col)
    univ = univariable_cox(data, candidates, time_col, event_col, problem=problem)
    return select_model(problem, univ, **selection).selected


def _final_fits(datasets, candidates, time_col, event_col, terms):
    """Per imputed dataset: the final terms' Cox fit, its design columns and Cox data."""
    out = []
    for d in datasets:
        problem = prepare(d, candidates, time_col, event_col)
        fit = problem.fit(terms, on_separation="ignore")
        out.append((problem, fit))
    return out


def _averaged_baseline(fits, coef) -> tuple[np.ndarray, np.ndarray]:
    """Baseline cumulative hazard at the pooled β in each imputed dataset, averaged on the
    union of event times (the event times are the same in every dataset: the outcome is
    never imputed)."""
    curves = []
    for problem, fit in fits:
        at = problem.data.fit(cols=list(fit.cols), init=coef, max_iter=0, on_separation="ignore")
        curves.append(baseline_hazard(problem.data, at))
    times = np.unique(np.concatenate([c.time for c in curves]))
    H = np.mean([cumhaz_at(c, times) for c in curves], axis=0)
    return times, H


def _pool_final(datasets, candidates, time_col, event_col, terms, df_complete=True):
    """Rubin-pooled final model over the imputed datasets: (pooled table, baseline times,
    averaged baseline cumulative hazard, apparent C and calibration slope per dataset)."""
    m = len(datasets)
    if not terms:
        pooled = rubin_pool(np.zeros((max(m, 2), 0)), np.zeros((max(m, 2), 0)))
        bt, bH, c_app, s_app = np.zeros(0), np.zeros(0), [0.5] * m, [np.nan] * m
    else:
        fits = _final_fits(datasets, candidates, time_col, event_col, terms)
        cols = list(fits[0][1].names)
        nu = float(fits[0][0].data.event.sum()) - len(cols) if df_complete else None
        pooled = rubin_pool([f.coef for _, f in fits], [np.diag(f.var) for _, f in fits], df_complete=nu, names=cols)
        beta = pooled["estimate"].to_numpy(float)
        bt, bH = _averaged_baseline(fits, beta)
        lps = [p.data.X_raw[:, list(f.cols)] @ beta for p, f in fits]
        c_app = [concordance_index(p.data.time, p.data.event, lp).c_index for (p, _), lp in zip(fits, lps)]
        s_app = [_slope(p.data.time, p.data.event, lp) for (p, _), lp in zip(fits, lps)]
    for col, src in (("hr", "estimate"), ("hr_lower", "lower"), ("hr_upper", "upper")):
        pooled[col] = np.exp(pooled[src])
    return pooled, bt, bH, c_app, s_app


def _optimism(d, candidates, time_col, event_col, selection, B, seed, endpoint_index) -> tuple[float, float]:
    """Optimism of C and of the calibration slope of the whole procedure in one imputed dataset."""
    if B <= 0:
        return np.nan, np.nan
    reps = run_replicates(
        d, candidates, time_col, event_col, [], range(B), seed=seed, endpoint_index=endpoint_index, **selection
    )
    app = apparent_performance(d, candidates, time_col, event_col, [], **selection)
    opt = summarise_optimism(app, reps, measures=["c_index", "slope"])["optimism"]
    return float(opt["c_index"]), float(opt["slope"])


def _evaluate(datasets, candidates, time_col, event_col, terms, pooled) -> tuple[list, list]:
    """C and calibration slope of a fixed pooled model in each of ``datasets``."""
    if not terms:
        return [0.5] * len(datasets), [np.nan] * len(datasets)
    chosen = [c for c in normalise_candidates(candidates) if c.name in terms]
    beta = pooled["estimate"].to_numpy(float)
    cs, slopes = [], []
    for d in datasets:
        des = design_matrix(d, chosen)
        lp = des.X[:, [des.columns.index(c) for c in pooled.index]] @ beta
        t, e = d[time_col].to_numpy(float), d[event_col].to_numpy(float)
        cs.append(concordance_index(t, e, lp).c_index)
        slopes.append(_slope(t, e, lp))
    return cs, slopes


def _optimism_bootstrap_then_impute(
    data, datasets, candidates, time_col, event_col, sel, *, B, m, seed, endpoint_index, max_iter, threshold
) -> np.ndarray:
    """Schomaker & Heumann's (2018) order: per replicate b (rows from the optimism-bootstrap
    stream), impute the bootstrap sample m times (stream ``mi_bootstrap_imputation``), repeat
    selection, the majority rule and Rubin's rules, and take the pooled model's mean C and
    slope on the sample's imputations (training) minus on the original imputations (test).
    Returns one row (optimism of C, of the slope) per replicate."""
    names = [c.name for c in normalise_candidates(candidates)]
    rows = []
    for b in range(B):
        boot = data.iloc[bootstrap_indices(len(data), seed, endpoint_index, b)].reset_index(drop=True)
        imps = impute_chained(
            boot,
            candidates,
            time_col,
            event_col,
            m,
            seed=seed,
            endpoint_index=endpoint_index,
            max_iter=max_iter,
            purpose="mi_bootstrap_imputation",
            keys=(b,),
        )
        terms = majority_terms([_select(d, candidates, time_col, event_col, sel) for d in imps], names, threshold)
        pooled, _, _, c_tr, s_tr = _pool_final(imps, candidates, time_col, event_col, terms, False)
        c_te, s_te = _evaluate(datasets, candidates, time_col, event_col, terms, pooled)
        with np.errstate(invalid="ignore"):
            rows.append((np.mean(c_tr) - np.mean(c_te), np.nanmean(s_tr) - np.nanmean(s_te) if terms else np.nan))
    return np.array(rows, float).reshape(-1, 2)


def _slope(time, event, lp) -> float:
    """Calibration slope: the coefficient of a Cox model of the outcome on the linear predictor."""
    if np.ptp(lp) == 0:
        return float("nan")
    return float(CoxData(time, event, lp[:, None], ties="efron").fit(on_separation="ignore").coef[0])


def _optimism_all(
    data, datasets, candidates, time_col, event_col, sel, order, *, B, m, seed, endpoint_index, max_iter, threshold
):
    """Optimism of (C, slope): per unit averaged (replicates or imputations), and per imputation."""
    if order == "bootstrap_then_impute" and B > 0:
        reps = _optimism_bootstrap_then_impute(
            data,
            datasets,
            candidates,
            time_col,
            event_col,
            sel,
            B=B,
            m=m,
            seed=seed,
            endpoint_index=endpoint_index,
            max_iter=max_iter,
            threshold=threshold,
        )
        return reps, np.full((m, 2), np.nan)  # no optimism per imputation in this order
    opt = np.array([_optimism(d, candidates, time_col, event_col, sel, B, seed, endpoint_index) for d in datasets])
    return opt, opt


def _per_imputation(chosen, c_app, s_app, opt) -> pd.DataFrame:
    """Per imputation: its own selection, the pooled model's C and slope, their optimism."""
    return pd.DataFrame(
        {
            "imputation": np.arange(1, len(chosen) + 1),
            "selected": [";".join(s) for s in chosen],
            "c_index_pooled_model": c_app,
            "slope_pooled_model": s_app,
            "optimism_c_index": opt[:, 0],
            "optimism_slope": opt[:, 1],
        }
    )


def _performance(measures: dict, m: int, B: int, order: str) -> pd.DataFrame:
    """Rows per measure: apparent averaged over imputations, optimism averaged over
    imputations (impute then bootstrap) or replicates (bootstrap then impute), corrected."""
    rows = []
    for name, (apparent, optimism) in measures.items():
        app, op = pool_mean(apparent), pool_mean(optimism)
        rows.append(
            {
                "measure": name,
                "apparent": app["pooled"],
                "apparent_between_sd": app["between_sd"],
                "optimism": op["pooled"],
                "optimism_between_sd": op["between_sd"],
                "corrected": app["pooled"] - op["pooled"],
                "imputations": m,
                "bootstrap_B": int(B),
                "bootstrap_order": BOOTSTRAP_ORDERS[order] if B > 0 else "not computed (bootstrap_B = 0)",
            }
        )
    return pd.DataFrame(rows)


def fit_with_multiple_imputation(
    train: pd.DataFrame,
    candidates,
    time_col: str,
    event_col: str,
    *,
    seed: int,
    endpoint_index: int = 0,
    m: int | None = None,
    max_iter: int = 10,
    screen_p: float = 0.10,
    exclude=(),
    method: str = "stepaic_both",
    entry_p: float = 0.05,
    removal_p: float = 0.10,
    entry_test: str = "lr",
    bootstrap_B: int = 0,
    threshold: float = 0.5,
    df_complete: bool = True,
    bootstrap_order: str = "impute_then_bootstrap",
) -> MultipleImputationModel:
    """Develop the paper's model on incomplete training data by multiple imputation.

    Parameters
    ----------
    train : DataFrame
        Training patients; candidate columns may hold NaN, ``time_col``/``event_col`` not.
    candidates : list of dict
        The config's candidates.
    seed, endpoint_index : int
        Study seed and endpoint index of the named streams (imputations, bootstrap).
    m : int, optional
        Imputations; None: :func:`crlmflow.data.imputation.n_imputations` of the fraction
        of incomplete training patients.
    screen_p, exclude, method, entry_p, removal_p, entry_test :
        The paper's selection settings (``selection`` config section).
    bootstrap_B : int
        Optimism bootstrap replicates per imputed dataset (0: no optimism correction).
    threshold : float
        Majority-rule share (0.5: selected in at least half of the imputations).
    df_complete : bool
        Use Barnard–Rubin degrees of freedom with ν_com = events − parameters.
    bootstrap_order : {"impute_then_bootstrap", "bootstrap_then_impute"}
        Order of the optimism bootstrap and the imputations (:data:`BOOTSTRAP_ORDERS`).

    Returns
    -------
    MultipleImputationModel
    """
    if bootstrap_order not in BOOTSTRAP_ORDERS:
        raise ValueError(f"bootstrap_order must be one of {list(BOOTSTRAP_ORDERS)}, got {bootstrap_order!r}")
    cands = normalise_candidates(candidates)
    if any(c.is_spline for c in cands):
        raise ValueError(
            "multiple imputation with spline candidates is not supported: the knots would differ "
            "between imputed datasets (set splines.knots to null, or use complete_case)"
        )
    names = [c.name for c in cands]
    frac = float(train[names].isna().any(axis=1).mean()) if len(train) else 0.0
    m = n_imputations(frac) if m is None else int(m)
    sel = dict(
        screen_p=screen_p,
        exclude=tuple(exclude),
        method=method,
        entry_p=entry_p,
        removal_p=removal_p,
        entry_test=entry_test,
    )
    data = train.reset_index(drop=True)
    datasets = impute_chained(
        data, candidates, time_col, event_col, m, seed=seed, endpoint_index=endpoint_index, max_iter=max_iter
    )
    chosen = [_select(d, candidates, time_col, event_col, sel) for d in datasets]
    table = selection_table(chosen, names, threshold)
    terms = majority_terms(chosen, names, threshold)
    pooled, bt, bH, c_app, s_app = _pool_final(datasets, candidates, time_col, event_col, terms, df_complete)
    boot = dict(B=bootstrap_B, m=m, seed=seed, endpoint_index=endpoint_index, max_iter=max_iter, threshold=threshold)
    reps, opt = _optimism_all(data, datasets, candidates, time_col, event_col, sel, bootstrap_order, **boot)
    measures = {"c_index": (c_app, reps[:, 0]), "slope": (s_app, reps[:, 1])}
    performance = _performance(measures, m, bootstrap_B, bootstrap_order)
    per_imp = _per_imputation(chosen, c_app, s_app, opt)
    return MultipleImputationModel(
        m, terms, table, pooled, performance, per_imp, imputed_counts(data, candidates), list(candidates), bt, bH
    )
