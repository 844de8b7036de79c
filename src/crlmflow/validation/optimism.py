"""Harrell's bootstrap optimism correction with the *whole* modelling procedure repeated in
every replicate (univariable screening at p < screen_p, then stepAIC / Forward-LR).

Method (Harrell, Lee & Mark, Stat Med 1996; Steyerberg, Clinical Prediction Models, ch. 17):
for replicate b draw n patients with replacement, re-run the procedure on that sample, and
evaluate the refitted model on the bootstrap sample ("training") and on the original data
("test").  optimism = mean(training - test); corrected = apparent - optimism.

Conventions (documented because R differs in places):

* Harrell's C is in the *risk* convention (higher lp = shorter survival), as
  ``survival::concordance(coxph)``; Dxy = 2C - 1 is then positive for a useful model.  This
  equals rms ``validate.cph``'s Dxy, which is ``dxy.cens(lp, Surv, type = "hazard")`` =
  minus Somers' Dxy between lp and survival time.
* rms ``validate``'s ``index.orig`` refits the model with ``coxphFit(eps = 1e-4,
  iter.max = 10)``; those loosely converged coefficients can reorder one or two pairs of lp,
  so Dxy moves by ~1e-4.  ``apparent_performance(..., fit_tol=1e-4, fit_max_iter=10)``
  reproduces R's ``index.orig`` Dxy and R2 exactly; the default is a fully converged fit.
* Calibration slope: coefficient of a Cox model of the outcome on the refit's lp in the
  evaluation data.  On the bootstrap sample it is 1 by construction (the lp is that sample's
  MLE), so ``slope_training`` is 1.0 without a fit.  Replicates that select nothing (null
  model: constant lp) have C = 0.5, Dxy = 0, R2 = 0, slope NaN (left out of the slope mean:
  rms would count 1 / 1 there), and the Brier score of the bootstrap sample's Kaplan-Meier
  estimate.
* R2 is rms's: (1 - exp(-LR/n)) / (1 - exp(2 loglik0 / n)), LR of the fit (training) or of
  the slope fit (test), n = number of patients.
* Brier score at each horizon: IPCW Brier with reverse-KM censoring weights, as
  ``crlmflow.validation.roc.brier_score`` (riskRegression::Score); on the bootstrap sample
  with frequency weights (identical to ``brier_score`` on the duplicated rows).
* Predicted survival S(t | x) = exp(-H0(t) exp(lp)) with the Efron-type baseline hazard of
  the (weighted) fitting sample, as ``modelling.predict``.

Speed: a resample is integer frequency weights on one ``CoxData`` (sorted once); the Cox models
of a selection step (27 univariable screens, every "- term"/"+ term" of a stepAIC step, every
entry / removal model of Forward-LR) are fitted together by batched Newton-Raphson (``CoxData.fit``'s
algorithm; compiled whole fits on small samples), warm-started from the parent model.  Harrell's C
of a replicate, on the bootstrap sample and the original rows: ``WeightedConcordance`` (one sweep
in time per weight vector); linear predictors by ``linear_predictor`` (equal rows give equal
predictions: tied patients stay tied).

Reproducibility: replicate b of endpoint k draws from ``stream(seed, "optimism_bootstrap", k, b)`` only
(``crlmflow.pipeline.streams``), so any chunking of the replicates and any number of processes give identical results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crlmflow.model.modelling import select_model
from crlmflow.pipeline.streams import stream
from crlmflow.report.formats import horizon_key
from crlmflow.survival.cox import baseline_hazard, baseline_survival_at
from crlmflow.survival.design import normalise_candidates
from crlmflow.survival.linpred import linear_predictor
from crlmflow.survival.selection import CoxProblem, check_method, prepare, screen_terms, select_terms, univariable_cox
from crlmflow.validation._km import km_at
from crlmflow.validation.batch_cox import FIT_MAX_ITER, FIT_TOL, BatchedCox
from crlmflow.validation.concordance import WeightedConcordance, concordance_index
from crlmflow.validation.optimism_measures import evaluation_sample, replicate_measures
from crlmflow.validation.replicate_models import ReplicateModels
from crlmflow.validation.roc import brier_score
from crlmflow.validation.weighted import BrierFrame

__all__ = [
    "bootstrap_indices",
    "ReplicateEngine",
    "run_replicates",
    "run_replicates_parallel",
    "apparent_performance",
    "summarise_optimism",
    "selection_frequency",
]


def bootstrap_indices(n: int, seed: int, endpoint_index: int, b: int) -> np.ndarray:
    """Row indices (with repeats) of replicate b: n draws from the named stream
    ``stream(seed, "optimism_bootstrap", endpoint_index, b)``, which depends on nothing else."""
    return stream(seed, "optimism_bootstrap", endpoint_index, b).integers(0, n, size=n)


@dataclass
class ReplicateEngine:
    """Everything prepared once per (training data, endpoint): sorted Cox data, centred
    design, comparable pairs, Brier structures.  ``run(b)`` returns one replicate's row."""

    train_df: pd.DataFrame
    candidates: list
    time_col: str
    event_col: str
    horizons: list
    seed: int = 0
    endpoint_index: int = 0
    screen_p: float = 0.10
    exclude: tuple = ()
    method: str = "stepaic_both"
    entry_p: float = 0.05
    removal_p: float = 0.10
    entry_test: str = "lr"
    nb_thresholds: tuple | None = None  # not None: also AUC/ICI/E50/E90/NB (optimism_measures)
    # a calibration_bootstrap.SelectionAwareCalibration that replicates b < calibration_B add to
    calibration: object | None = field(default=None, repr=False)
    calibration_B: int = 0
    problem: CoxProblem = field(init=False, repr=False)

    def __post_init__(self):
        check_method(self.method)
        self.horizons = list(self.horizons)
        self.exclude = tuple(self.exclude)
        self.problem = prepare(self.train_df, self.candidates, self.time_col, self.event_col)
        pb = self.problem
        d = self.data = pb.data
        self.n = d.n
        self.cand_names = [c.name for c in normalise_candidates(self.candidates)]
        self.groups = {v: list(pb.design.groups[v]) for v in self.cand_names}
        self.ncol = {v: len(g) for v, g in self.groups.items()}
        self.X_raw = d.X_raw  # data order
        Xs = d.X_raw[d.order]
        self.Xmean = Xs.mean(axis=0)  # common centring of every replicate's columns
        self.XcT_sorted = np.ascontiguousarray((Xs - self.Xmean).T)
        self.binary = np.array([np.isin(self.X_raw[:, j], (0.0, 1.0)).all() for j in range(Xs.shape[1])])
        self.time = self.train_df[self.time_col].to_numpy(float)
        self.event = self.train_df[self.event_col].to_numpy(float)
        self.brier = BrierFrame(self.time, self.event, self.horizons)
        self.G_test = self.brier.weights_G(np.ones(self.n))
        self.batch_test = BatchedCox(d)
        self.hnames = [horizon_key(h) for h in self.horizons]
        measures = self.nb_thresholds is not None  # the original rows' sorts, once for every replicate
        self.test_sample = evaluation_sample(self.time, self.event, self.horizons) if measures else None
        self.univ_start = None
        rm0 = ReplicateModels(self, np.ones(self.n))
        qmax = max(self.ncol.values())
        start = np.zeros((len(self.cand_names), qmax))
        rm0.univariable_p()
        for m, v in enumerate(self.cand_names):
            f = rm0.cache.get(frozenset((v,)))
            if f is not None and f.converged and np.all(np.isfinite(f.coef[v])):
                start[m, : self.ncol[v]] = f.coef[v]
        self.univ_start = start

    # -- one replicate ----------------------------------------------------------------------
    def weights(self, b: int) -> np.ndarray:
        idx = bootstrap_indices(self.n, self.seed, self.endpoint_index, b)
        return np.bincount(idx, minlength=self.n).astype(float)

    def select(self, w: np.ndarray):
        """(screened-pool, selected terms, models) of the procedure on weights w."""
        rm = ReplicateModels(self, w)
        pool = screen_terms(rm.univariable_p(), self.screen_p, self.exclude)
        if not pool:
            return pool, [], rm
        res = select_terms(
            rm, pool, self.method, entry_p=self.entry_p, removal_p=self.removal_p, entry_test=self.entry_test
        )
        return pool, list(res.selected), rm

    def replicate_survival(self, w: np.ndarray, selected, rm: ReplicateModels) -> tuple[np.ndarray, bool]:
        """(S, nothing selected): the replicate model's predicted survival at the horizons for
        every original row (n x horizons); a replicate that selected nothing predicts the
        resample's Kaplan–Meier estimate for everyone (as ``evaluate``)."""
        if not selected:
            return np.broadcast_to(self.brier.weights_G(w)[2][None, :], (self.n, len(self.horizons))), True
        return self.model_predictions(w, selected, rm)[1], False

    def run(self, b: int) -> dict:
        w = self.weights(b)
        pool, selected, rm = self.select(w)
        row = {
            "b": int(b),
            "n_pool": len(pool),
            "n_selected": len(selected),
            "pool": ";".join(pool),
            "selected": ";".join(selected),
        }
        for v in self.cand_names:
            row[f"sel_{v}"] = int(v in selected)
        row.update(self.evaluate(w, selected, rm))
        row.update({} if self.nb_thresholds is None else replicate_measures(self, w, selected, rm, self.nb_thresholds))
        # the replicate's coefficients, 0 for terms not selected (Heinze et al. 2018), for
        # the stability measures of crlmflow.validation.stability
        coef = dict.fromkeys(self.problem.design.columns, 0.0)
        if selected:
            fit = rm.fit(tuple(selected))
            for v in selected:
                for j, col in enumerate(self.groups[v]):
                    coef[self.problem.design.columns[col]] = float(fit.coef[v][j])
        row.update({f"coef_{k}": c for k, c in coef.items()})
        row["n_fits"] = rm.n_fits
        row["all_converged"] = rm.all_converged
        row["n_separated"] = len(rm.separated)  # candidates not screened: separation (NaN p)
        if self.calibration is not None and b < self.calibration_B:
            # the selection-aware calibration bootstrap reads its replicates off these
            self.calibration.add(b, w, *self.replicate_survival(w, selected, rm))
        return row

    def evaluate(self, w: np.ndarray, selected, rm: ReplicateModels) -> dict:
        out, n = {}, self.n
        if selected:
            fit = rm.fit_many([tuple(selected)])[0]
            cols = [j for t in selected for j in self.groups[t]]
            beta = fit.vector(selected)
            lp = linear_predictor(self.X_raw[:, cols], beta)  # data order, uncentred
            S = self._survival(rm, beta, lp) if self.horizons else None  # for the Brier score only
            ll_fit = fit.loglik
        else:
            lp, S = np.zeros(n), None
            ll_fit = rm.batch.loglik_null
        # --- Harrell's C (training: weighted bootstrap sample; test: original rows)
        c_tr, c_te = WeightedConcordance(self.time, self.event, lp).c_index(np.vstack([w, np.ones(n)]))
        out["c_index_training"], out["c_index_test"] = c_tr, c_te
        out["dxy_training"], out["dxy_test"] = 2 * c_tr - 1, 2 * c_te - 1
        # --- calibration slope and R2
        ll0_tr = rm.batch.loglik_null
        out["r2_training"] = _r2(2.0 * (ll_fit - ll0_tr), -2.0 * ll0_tr, w.sum())
        if selected and np.ptp(lp) > 0:
            out["slope_training"] = 1.0
            XT = (lp[self.data.order] - lp.mean())[None, None, :]
            beta, ll, _, _, _ = self.batch_test.newton(XT, np.zeros((1, 1), bool), np.ones((1, 1)))
            out["slope_test"] = float(beta[0, 0])
            ll0 = self.batch_test.loglik_null
            out["r2_test"] = _r2(2.0 * (float(ll[0]) - ll0), -2.0 * ll0, n)
        else:
            out["slope_training"] = out["slope_test"] = float("nan")
            out["r2_test"] = 0.0
        if not self.horizons:  # no Brier score asked for (the simulation study's bootstrap)
            return out
        # --- Brier at the horizons
        G_tr = self.brier.weights_G(w)
        if S is None:  # null model: the bootstrap sample's Kaplan-Meier estimate for everyone
            S = np.broadcast_to(G_tr[2][None, :], (n, len(self.horizons)))
        b_tr = self.brier.brier(S, w, G_tr)
        b_te = self.brier.brier(S, None, self.G_test)
        # IPA = 1 - Brier / Brier of the evaluation data's own Kaplan-Meier (Kattan & Gerds
        # 2018), as riskRegression::Score and the apparent value compute it
        null_tr = self.brier.brier(np.broadcast_to(G_tr[2][None, :], (n, len(self.horizons))), w, G_tr)
        null_te = self.brier.brier(np.broadcast_to(self.G_test[2][None, :], (n, len(self.horizons))), None, self.G_test)
        for j, h in enumerate(self.hnames):
            out[f"brier_{h}_training"] = float(b_tr[j])
            out[f"brier_{h}_test"] = float(b_te[j])
            out[f"ipa_{h}_training"] = float(1.0 - b_tr[j] / null_tr[j]) if null_tr[j] > 0 else float("nan")
            out[f"ipa_{h}_test"] = float(1.0 - b_te[j] / null_te[j]) if null_te[j] > 0 else float("nan")
        return out

    def _survival(self, rm: ReplicateModels, beta, lp) -> np.ndarray:
        """S_i(h) = exp(-H0(h) exp(lp_i)) with the Efron-type baseline of the weighted sample
        (baseline_hazard(ctype=2) of ``cox.py``)."""
        rs = rm.data.risk_sets
        center = float(np.mean(lp))
        eta = lp[rm.sub][rs.order] - center
        r = rs.weights * np.exp(eta)
        Csum = np.cumsum(r)
        R = Csum[rs.risk_end]
        D = Csum[rs.block_end] - Csum[rs.block_start] + r[rs.block_start]
        g = rs.term_group
        inc = np.zeros(rs.n_groups)
        if g.size:
            inc = np.bincount(g, weights=rs.term_weight / (R[g] - rs.term_frac * D[g]), minlength=rs.n_groups)
        keep = rs.deaths[::-1] > 0
        times = rs.event_times[::-1][keep]
        H = np.cumsum(inc[::-1][keep])
        idx = np.searchsorted(times, np.asarray(self.horizons, float), side="right") - 1
        H0 = np.where(idx < 0, 0.0, H[np.maximum(idx, 0)])
        return np.exp(-np.outer(np.exp(lp - center), H0))

    def model_predictions(self, w: np.ndarray, selected, rm: ReplicateModels):
        """(lp, S at the horizons) of the replicate's (non-null) model on the original rows."""
        beta = rm.fit(tuple(selected)).vector(selected)
        lp = linear_predictor(self.X_raw[:, [j for v in selected for j in self.groups[v]]], beta)
        return lp, self._survival(rm, beta, lp)


def _r2(lr: float, ll0m2: float, n: float) -> float:
    """rms R2: (1 - exp(-LR/n)) / (1 - exp(-(-2 loglik0)/n))."""
    return float((1.0 - math.exp(-lr / n)) / (1.0 - math.exp(-ll0m2 / n)))


def run_replicates(
    train_df: pd.DataFrame,
    candidates,
    time_col: str,
    event_col: str,
    horizons,
    replicates,
    *,
    seed: int,
    endpoint_index: int = 0,
    screen_p: float = 0.10,
    exclude=(),
    method: str = "stepaic_both",
    entry_p: float = 0.05,
    removal_p: float = 0.10,
    entry_test: str = "lr",
    nb_thresholds=None,
    calibration=None,
    calibration_B: int = 0,
) -> pd.DataFrame:
    """One row per replicate b in ``replicates`` (any subset / order of 0..B-1).

    ``calibration`` (a ``calibration_bootstrap.SelectionAwareCalibration``): replicates
    b < ``calibration_B`` also add their calibration optimism to it.

    Columns: b, n_pool, n_selected, pool, selected (";"-joined, selection order), sel_<var>
    (0/1 per candidate), {c_index, dxy, slope, r2, brier_<h>}_{training, test}, n_fits,
    all_converged (every Newton fit of the replicate met the tolerance), n_separated
    (unscreened candidates: separation); nb_thresholds not None: optimism_measures columns.
    """
    with _one_blas_thread():
        eng = ReplicateEngine(
            train_df,
            list(candidates),
            time_col,
            event_col,
            list(horizons),
            seed=seed,
            endpoint_index=endpoint_index,
            screen_p=screen_p,
            exclude=tuple(exclude),
            method=method,
            entry_p=entry_p,
            removal_p=removal_p,
            entry_test=entry_test,
            nb_thresholds=None if nb_thresholds is None else tuple(nb_thresholds),
            calibration=calibration,
            calibration_B=int(calibration_B),
        )
        return pd.DataFrame([eng.run(b) for b in replicates])


def _one_blas_thread():
    """The matrices here are tiny: a multi-threaded BLAS only adds overhead (and contention
    when replicates already run in parallel processes)."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1)
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()


def _run_task(args):
    kwargs, reps = args
    return run_replicates(replicates=reps, **kwargs)


def run_replicates_parallel(
    jobs: list[dict], B: int, cores: int = 1, chunk_size: int | None = None
) -> list[pd.DataFrame]:
    """Run replicates 0..B-1 of several endpoints over ``cores`` processes.

    ``jobs``: keyword arguments of ``run_replicates`` (without ``replicates``) per endpoint,
    each with its own ``endpoint_index``.  Results are identical for any cores / chunk_size.
    """
    chunk = chunk_size or max(1, math.ceil(B / max(1, 2 * cores)))
    tasks = [(job, list(range(s, min(B, s + chunk)))) for job in jobs for s in range(0, B, chunk)]
    if cores <= 1:
        parts = [_run_task(t) for t in tasks]
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        with ctx.Pool(cores) as pool:
            parts = pool.map(_run_task, tasks, chunksize=1)
    out = []
    for j, _ in enumerate(jobs):
        mine = [p for (job, _), p in zip(tasks, parts) if job is jobs[j]]
        out.append(pd.concat(mine, ignore_index=True).sort_values("b", ignore_index=True))
    return out


# ---------------------------------------------------------------------------------------
# apparent performance and the summaries
# ---------------------------------------------------------------------------------------


def apparent_performance(
    train_df: pd.DataFrame,
    candidates,
    time_col: str,
    event_col: str,
    horizons,
    *,
    screen_p: float = 0.10,
    exclude=(),
    method: str = "stepaic_both",
    entry_p: float = 0.05,
    removal_p: float = 0.10,
    entry_test: str = "lr",
    terms=None,
    fit_tol: float = FIT_TOL,
    fit_max_iter: int = FIT_MAX_ITER,
) -> dict:
    """Performance of the original model on its own training data (the unoptimised path:
    ``univariable_cox`` + ``select_model``, ``concordance_index``, ``roc.brier_score``).

    ``terms`` fixes the model (skip selection).  ``fit_tol=1e-4, fit_max_iter=10`` refit as
    rms ``validate``'s index.orig does.  Returns c_index, dxy, slope (1), r2, brier_<h>,
    selected (list), lp (array, data order, uncentred).
    """
    pb = prepare(train_df, candidates, time_col, event_col)
    if terms is None:
        univ = univariable_cox(train_df, candidates, time_col, event_col, problem=pb)
        terms = select_model(
            pb,
            univ,
            screen_p=screen_p,
            exclude=exclude,
            method=method,
            entry_p=entry_p,
            removal_p=removal_p,
            entry_test=entry_test,
        ).selected
    terms = list(terms)
    time = train_df[time_col].to_numpy(float)
    event = train_df[event_col].to_numpy(float)
    n = len(train_df)
    d = pb.data
    ll0 = d.loglik(np.zeros(0), cols=[])
    out: dict = {"selected": terms}
    if terms:
        fit = d.fit(cols=pb.columns(terms), tol=fit_tol, max_iter=fit_max_iter, on_separation="ignore")
        lp = linear_predictor(d.X_raw[:, list(fit.cols)], fit.coef)
        S = baseline_survival_at(baseline_hazard(d, fit), horizons, lp=lp)
        out["c_index"] = concordance_index(time, event, lp).c_index
        out["slope"] = 1.0
        out["r2"] = _r2(2.0 * (fit.loglik - ll0), -2.0 * ll0, n)
    else:
        lp = np.zeros(n)
        km = np.array([km_at(time, event, h).surv for h in horizons])
        S = np.broadcast_to(km[None, :], (n, len(horizons)))
        out["c_index"] = 0.5
        out["slope"] = float("nan")
        out["r2"] = 0.0
    out["dxy"] = 2.0 * out["c_index"] - 1.0
    for j, h in enumerate(horizons):
        br = brier_score(time, event, S[:, j], h)
        out[f"brier_{horizon_key(h)}"] = br.brier
        out[f"ipa_{horizon_key(h)}"] = br.ipa
    out["lp"] = lp
    out["surv"] = np.asarray(S)  # n x horizons, for optimism_measures.evaluation_measures
    return out


MEASURES = ("c_index", "dxy", "slope", "r2")


def summarise_optimism(apparent: dict, replicates: pd.DataFrame, measures=None) -> pd.DataFrame:
    """Rows per measure (c_index, dxy, slope, r2, brier_<h>..., ipa_<h>...); columns apparent,
    training_mean, test_mean, optimism = mean(training - test), corrected = apparent -
    optimism, n_replicates (replicates where both are defined; a null model's slope is NaN),
    n_replicates_nothing_selected (replicates whose procedure selected no variable).

    No bootstrap interval is given for a corrected value: its sampling distribution needs a
    second level of resampling around the whole optimism bootstrap (Noma et al. 2021), not
    the spread of the replicates' optimism.  ``measures``: these instead of the default ones."""
    if measures is None:
        measures = [m for m in MEASURES if f"{m}_training" in replicates] + sorted(
            (
                c[: -len("_training")]
                for c in replicates.columns
                if c.startswith(("brier_", "ipa_")) and c.endswith("_training")
            ),
            key=lambda s: (s.split("_")[0] != "brier", float(s.split("_")[1])),
        )
    # replicates in which the procedure selected nothing: their model is the null model
    n_null = int((replicates["n_selected"] == 0).sum()) if "n_selected" in replicates else 0
    rows = []
    for m in measures:
        tr = replicates[f"{m}_training"].to_numpy(float)
        te = replicates[f"{m}_test"].to_numpy(float)
        ok = np.isfinite(tr) & np.isfinite(te)
        app = float(apparent.get(m, np.nan))
        opt = float(np.mean(tr[ok] - te[ok])) if ok.any() else float("nan")
        rows.append(
            {
                "measure": m,
                "apparent": app,
                "training_mean": float(np.mean(tr[ok])) if ok.any() else float("nan"),
                "test_mean": float(np.mean(te[ok])) if ok.any() else float("nan"),
                "optimism": opt,
                "corrected": app - opt,
                "n_replicates": int(ok.sum()),
                "n_replicates_nothing_selected": n_null,
            }
        )
    return pd.DataFrame(rows).set_index("measure")


def selection_frequency(replicates: pd.DataFrame, candidates) -> pd.DataFrame:
    """Stability table: variable, times_selected, proportion (over all replicates)."""
    names = [c.name for c in normalise_candidates(candidates)]
    B = len(replicates)
    sets = [set(s.split(";")) if isinstance(s, str) and s else set() for s in replicates["selected"]]
    k = [int(sum(v in s for s in sets)) for v in names]
    return pd.DataFrame({"variable": names, "times_selected": k, "proportion": [x / B if B else np.nan for x in k]})
