"""Typed views of the validated configuration: one frozen object per config section.

:func:`crlmflow.pipeline.config.validate_config` fills every schema ``default:`` into the
config, so these objects read keys directly and never repeat a default. The Snakefile
builds each object once; a rule passes it to its script as a plain dict (``as_dict()``,
so that Snakemake can compare params between runs and rerun a job whose options changed)
and the script rebuilds the typed object with ``Options(**params.x)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = [
    "AlternativeModelOptions",
    "ImputationOptions",
    "PredictionOptions",
    "SampleSizeOptions",
    "SelectionOptions",
    "SplineOptions",
    "ValidationOptions",
]


@dataclass(frozen=True)
class SelectionOptions:
    """Variable selection of the multivariable Cox model (config section ``selection``).

    Attributes
    ----------
    screen_p : float
        Univariable Wald p below which a candidate enters multivariable selection.
    method : {"stepaic_both", "forward_lr"}
        ``MASS::stepAIC(direction = "both")`` from the full model, or SPSS Forward LR.
    entry_p, removal_p : float
        Forward LR entry and removal thresholds (``selection.forward_lr``); unused by
        ``stepaic_both``.
    entry_test : {"score", "lr"}
        Forward LR entry statistic: ``score`` as SPSS's FSTEP(LR), or likelihood ratio.
    """

    screen_p: float
    method: str
    entry_p: float
    removal_p: float
    entry_test: str

    @classmethod
    def from_config(cls, config: dict) -> SelectionOptions:
        """From a config validated (and default-filled) by ``validate_config``."""
        sel = config["selection"]
        return cls(
            screen_p=float(sel["screen_p"]),
            method=str(sel["method"]),
            entry_p=float(sel["forward_lr"]["entry_p"]),
            removal_p=float(sel["forward_lr"]["removal_p"]),
            entry_test=str(sel["forward_lr"]["entry_test"]),
        )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SplineOptions:
    """Restricted cubic splines for continuous candidates (config section ``splines``).

    Attributes
    ----------
    knots : int or None
        Knots of each spline (3–7, Harrell's default quantiles); None = linear, as the paper.
    variables : "all" or tuple of str
        Candidates that get a spline: every numeric candidate without an ``allowed`` list
        (a score stays linear; so does one with at most knots + 2 distinct training
        values, see ``crlmflow.survival.design.resolve_knots``), or the named ones.
    """

    knots: int | None
    variables: str | tuple

    @classmethod
    def from_config(cls, config: dict) -> SplineOptions:
        sp = config["splines"]
        var = sp["variables"]
        return cls(knots=sp["knots"], variables=var if isinstance(var, str) else tuple(var))

    def apply(self, candidates: list[dict]) -> list[dict]:
        """Candidates with ``spline_knots`` set where a spline applies (a candidate's own
        ``spline_knots`` wins; 0 keeps it linear).  Without any spline the specs come back
        unchanged, so the paper's default run is untouched."""
        by_name = {c["name"]: c for c in candidates}
        if self.variables != "all":
            for v in self.variables:
                if v not in by_name or by_name[v]["type"] != "numeric":
                    raise ValueError(f"splines.variables: {v!r} is not a numeric candidate")
        out = []
        for c in candidates:
            own = c.get("spline_knots")
            if own is not None and own and c["type"] != "numeric":
                raise ValueError(f"candidate {c['name']!r}: spline_knots needs type numeric, not {c['type']}")
            wanted = self.variables == "all" and c["type"] == "numeric" and not c.get("allowed")
            wanted = wanted or (self.variables != "all" and c["name"] in self.variables)
            nk = own if own is not None else (self.knots if self.knots and wanted else 0)
            spec = {k: v for k, v in c.items() if k != "spline_knots"}
            if nk:
                spec["spline_knots"] = int(nk)
                if own is None and self.variables == "all":
                    spec["spline_auto"] = True  # few distinct values: stays linear
            out.append(spec)
        return out


@dataclass(frozen=True)
class ValidationOptions:
    """Internal validation settings (config section ``validation``).

    Attributes
    ----------
    bootstrap_B : int
        Bootstrap replicates of Harrell's optimism correction and of the C-index CI;
        0 skips both (the exhibits then say the optimism correction was not computed).
    bootstrap_chunks : int
        Number of independent jobs the optimism replicates are split into.
    calibration_groups : int
        Quantile groups of grouped Kaplan–Meier calibration.
    calibration_B : int
        Bootstrap replicates of the bias-corrected calibration curve (``rms::calibrate``):
        the optimism bootstrap's first ``calibration_B`` resamples.
    calibration_correction : {"selection_aware", "final_terms"}
        Repeat screening and stepwise selection in each calibration replicate, or refit the
        final model's terms only as ``rms::calibrate(bw = FALSE)``.
    cutpoint_minprop : float
        Smallest group share of the maximally selected log-rank cut-off.
    cutpoint_permutations : int
        Permutations of the search-corrected p of the cut-off.
    cutpoint_bootstrap_B : int
        Bootstrap replicates of the cut-off's percentile interval (0 skips it).
    min_events_at_horizon, min_at_risk_at_horizon : int
        Below this many events by a horizon, or patients at risk at it, the horizon's
        measures are reported as not estimable.
    dca_threshold_min, dca_threshold_max, dca_threshold_step : float
        Risk thresholds of the decision curves.
    dca_decision : str
        The decision the decision curves inform (stated beside them).
    optimism_more_measures : bool
        Also optimism-correct AUC(t), ICI/E50/E90 and net benefit in the same replicates.
    optimism_nb_thresholds : list of float
        Risk thresholds of the optimism-corrected net benefit.
    """

    bootstrap_B: int
    bootstrap_chunks: int
    calibration_groups: int
    calibration_B: int
    calibration_correction: str
    cutpoint_minprop: float
    cutpoint_permutations: int
    cutpoint_bootstrap_B: int
    min_events_at_horizon: int
    min_at_risk_at_horizon: int
    dca_threshold_min: float
    dca_threshold_max: float
    dca_threshold_step: float
    dca_decision: str
    optimism_more_measures: bool = True
    optimism_nb_thresholds: tuple = (0.1, 0.2, 0.3)

    @classmethod
    def from_config(cls, config: dict) -> ValidationOptions:
        """From a config validated (and default-filled) by ``validate_config``."""
        v = config["validation"]
        return cls(
            bootstrap_B=int(v["bootstrap_B"]),
            bootstrap_chunks=int(v["bootstrap_chunks"]),
            calibration_groups=int(v["calibration_groups"]),
            calibration_B=int(v["calibration_B"]),
            calibration_correction=str(v["calibration_correction"]),
            cutpoint_minprop=float(v["cutpoint_minprop"]),
            cutpoint_permutations=int(v["cutpoint_permutations"]),
            cutpoint_bootstrap_B=int(v["cutpoint_bootstrap_B"]),
            min_events_at_horizon=int(v["min_events_at_horizon"]),
            min_at_risk_at_horizon=int(v["min_at_risk_at_horizon"]),
            dca_threshold_min=float(v["dca_threshold_min"]),
            dca_threshold_max=float(v["dca_threshold_max"]),
            dca_threshold_step=float(v["dca_threshold_step"]),
            dca_decision=str(v["dca_decision"]),
            optimism_more_measures=bool(v["optimism_more_measures"]),
            optimism_nb_thresholds=tuple(float(x) for x in v["optimism_nb_thresholds"]),
        )

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def dca_thresholds(self) -> list[float]:
        """The decision curves' thresholds, min to max by step (rounded to 1e-10 so that
        0.01 steps are exact decimals)."""
        if self.dca_threshold_max < self.dca_threshold_min:
            raise ValueError(
                f"validation.dca_threshold_max ({self.dca_threshold_max}) is below "
                f"dca_threshold_min ({self.dca_threshold_min})"
            )
        n = int(np.floor((self.dca_threshold_max - self.dca_threshold_min) / self.dca_threshold_step + 1e-9))
        return [round(self.dca_threshold_min + k * self.dca_threshold_step, 10) for k in range(n + 1)]

    @property
    def optimism_thresholds(self) -> list[float] | None:
        """Net-benefit thresholds of the replicates' extra measures; None: no extra measures."""
        return list(self.optimism_nb_thresholds) if self.optimism_more_measures else None

    @property
    def optimism_computed(self) -> bool:
        """Whether the optimism bootstrap runs (``bootstrap_B > 0``)."""
        return self.bootstrap_B > 0

    @property
    def calibration_in_bootstrap(self) -> bool:
        """Whether the optimism bootstrap's jobs also compute the selection-aware calibration
        replicates (they already select a model in each of them): the correction is
        ``selection_aware`` and its replicates are among the bootstrap's
        (``0 < calibration_B <= bootstrap_B``).  Otherwise ``validate_model`` runs the
        same replicates itself (``calibration_bootstrap.calibrate_selection_aware``)."""
        return self.calibration_correction == "selection_aware" and 0 < self.calibration_B <= self.bootstrap_B

    @property
    def n_chunks(self) -> int:
        """Bootstrap jobs: ``bootstrap_chunks``, but never more than there are replicates
        (0 when the bootstrap is off)."""
        return min(self.bootstrap_chunks, self.bootstrap_B)

    def chunk_range(self, i: int) -> tuple[int, int]:
        """Replicates ``[first, last)`` of chunk ``i``.

        Replicate ``b`` draws from its own random stream whatever chunk runs it, so any
        chunking gives the same replicates; the bounds ``i*B//n, (i+1)*B//n`` split
        ``0..B-1`` into ``n`` contiguous runs differing in length by at most one.
        """
        n = self.n_chunks
        if not 0 <= i < n:
            raise ValueError(
                f"bootstrap chunk {i} does not exist: expected 0..{n - 1} "
                f"(bootstrap_B = {self.bootstrap_B}, bootstrap_chunks = {self.bootstrap_chunks})"
            )
        return i * self.bootstrap_B // n, (i + 1) * self.bootstrap_B // n


@dataclass(frozen=True)
class AlternativeModelOptions:
    """Models beyond the paper (config section ``alternative_models``).

    Attributes
    ----------
    methods : tuple of str
        Any of ``full``, ``lasso``, ``elastic_net``, ``ridge``, ``shrunk_stepwise``
        (none by default: the paper's run is unchanged).
    cv_folds, n_alphas : int
        Folds of the penalty's cross-validated partial likelihood; penalties on the grid.
    penalty_rule : {"min", "1se"}
        The penalty minimising the CV deviance, or the largest within one SE of it.
    elastic_net_l1_ratio : float
        The elastic net's L1 share.
    """

    methods: tuple
    cv_folds: int
    n_alphas: int
    penalty_rule: str
    elastic_net_l1_ratio: float

    def __post_init__(self):
        # a script rebuilds the options from the rule's plain-dict params (a list)
        object.__setattr__(self, "methods", tuple(self.methods))

    @classmethod
    def from_config(cls, config: dict) -> AlternativeModelOptions:
        a = config["alternative_models"]
        return cls(
            methods=tuple(a["methods"]),
            cv_folds=int(a["cv_folds"]),
            n_alphas=int(a["n_alphas"]),
            penalty_rule=str(a["penalty_rule"]),
            elastic_net_l1_ratio=float(a["elastic_net_l1_ratio"]),
        )

    def as_dict(self) -> dict:
        d = asdict(self)
        d["methods"] = list(self.methods)
        return d


@dataclass(frozen=True)
class SampleSizeOptions:
    """Riley et al.'s minimum sample size (config section ``sample_size``); ``horizon`` is
    resolved to the last of the config's horizons when the config leaves it null."""

    shrinkage: float
    optimism: float
    margin: float
    horizon: float
    r2_cs: float | None
    nagelkerke: float

    @classmethod
    def from_config(cls, config: dict) -> SampleSizeOptions:
        s = config["sample_size"]
        return cls(
            shrinkage=float(s["shrinkage"]),
            optimism=float(s["optimism"]),
            margin=float(s["margin"]),
            horizon=float(s["horizon"] if s["horizon"] is not None else max(config["horizons"])),
            r2_cs=None if s["r2_cs"] is None else float(s["r2_cs"]),
            nagelkerke=float(s["nagelkerke"]),
        )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ImputationOptions:
    """Multiple imputation of missing candidates (``data.missing_predictors`` and
    ``data.imputation``).

    Attributes
    ----------
    enabled : bool
        ``data.missing_predictors == "multiple_imputation"``.
    m : int or None
        Imputations; None: from the fraction of incomplete training patients
        (:func:`crlmflow.data.imputation.n_imputations`).
    max_iter : int
        Cycles of the chained equations.
    majority : float
        Share of imputations in which a candidate must be selected (majority rule).
    bootstrap_B : int
        Optimism-bootstrap replicates (``data.imputation.bootstrap_B``, or
        ``validation.bootstrap_B`` when that is null).
    bootstrap_order : {"impute_then_bootstrap", "bootstrap_then_impute"}
        Order of the optimism bootstrap and the imputations.
    """

    enabled: bool
    m: int | None
    max_iter: int
    majority: float
    bootstrap_B: int
    bootstrap_order: str = "impute_then_bootstrap"

    @classmethod
    def from_config(cls, config: dict) -> ImputationOptions:
        imp = config["data"]["imputation"]
        boot = imp["bootstrap_B"]
        return cls(
            enabled=config["data"]["missing_predictors"] == "multiple_imputation",
            m=None if imp["m"] is None else int(imp["m"]),
            max_iter=int(imp["max_iter"]),
            majority=float(imp["majority"]),
            bootstrap_B=int(config["validation"]["bootstrap_B"] if boot is None else boot),
            bootstrap_order=str(imp["bootstrap_order"]),
        )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PredictionOptions:
    """A new patient's predicted survival (config section ``prediction``): ``conf_type`` of
    its confidence limits, R ``survfit(coxph, newdata)``'s "log" or "log-log"."""

    conf_type: str

    @classmethod
    def from_config(cls, config: dict) -> PredictionOptions:
        return cls(conf_type=str(config["prediction"]["conf_type"]))

    def as_dict(self) -> dict:
        return asdict(self)
