"""Typed option objects built once from the validated, default-filled config."""

import copy

import pytest
import yaml

from crlmflow.pipeline.config import validate_config
from crlmflow.pipeline.options import (
    ImputationOptions,
    PredictionOptions,
    SelectionOptions,
    SplineOptions,
    ValidationOptions,
)


@pytest.fixture(scope="module")
def default_config(repo_root):
    return yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))


def test_options_from_a_minimal_config_take_the_schema_defaults(default_config):
    cfg = {
        "endpoints": default_config["endpoints"],
        "candidates": default_config["candidates"],
        "data": {"followup_cutoff": None},
    }
    validate_config(cfg)
    # the paper's procedure by default: SPSS COXREG Forward (LR), score entry, LR removal
    assert SelectionOptions.from_config(cfg) == SelectionOptions(
        screen_p=0.10, method="forward_lr", entry_p=0.05, removal_p=0.10, entry_test="score"
    )
    v = ValidationOptions.from_config(cfg)
    assert (v.bootstrap_B, v.bootstrap_chunks, v.calibration_B) == (1000, 10, 200)


def test_options_read_the_configured_values_and_round_trip_as_params(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["selection"] = {"method": "forward_lr", "forward_lr": {"entry_p": 0.01}}
    validate_config(cfg)
    sel = SelectionOptions.from_config(cfg)
    assert (sel.method, sel.entry_p, sel.removal_p, sel.screen_p) == ("forward_lr", 0.01, 0.10, 0.10)
    # a rule passes the plain dict (Snakemake compares params by repr); scripts rebuild it
    assert SelectionOptions(**sel.as_dict()) == sel
    with pytest.raises(AttributeError):
        sel.method = "stepaic_both"


@pytest.mark.parametrize(
    "B,chunks,expected",
    [
        (10, 4, [(0, 2), (2, 5), (5, 7), (7, 10)]),
        (3, 10, [(0, 1), (1, 2), (2, 3)]),
        (0, 10, []),
    ],
)
def test_bootstrap_chunks_cover_every_replicate_once(B, chunks, expected):
    v = ValidationOptions(
        bootstrap_B=B,
        bootstrap_chunks=chunks,
        calibration_groups=4,
        calibration_B=0,
        calibration_correction="selection_aware",
        cutpoint_minprop=0.1,
        cutpoint_permutations=0,
        cutpoint_bootstrap_B=0,
        min_events_at_horizon=10,
        min_at_risk_at_horizon=10,
        dca_threshold_min=0.01,
        dca_threshold_max=0.99,
        dca_threshold_step=0.01,
        dca_decision="",
    )
    assert [v.chunk_range(i) for i in range(v.n_chunks)] == expected
    assert v.optimism_computed == (B > 0)
    with pytest.raises(ValueError, match="bootstrap chunk"):
        v.chunk_range(v.n_chunks)


def test_default_study_config_uses_the_papers_forward_lr_procedure(default_config):
    cfg = copy.deepcopy(default_config)
    validate_config(cfg)
    sel = SelectionOptions.from_config(cfg)
    assert (sel.method, sel.entry_test, sel.entry_p, sel.removal_p) == ("forward_lr", "score", 0.05, 0.10)


def test_entry_test_is_validated(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["selection"]["forward_lr"]["entry_test"] = "wald"
    with pytest.raises(Exception, match="entry_test"):
        validate_config(cfg)


def test_dca_thresholds_are_exact_decimals_within_the_range(default_config):
    cfg = {
        "endpoints": default_config["endpoints"],
        "candidates": default_config["candidates"],
        "data": {"followup_cutoff": None},
        "validation": {"dca_threshold_min": 0.05, "dca_threshold_max": 0.5},
    }
    validate_config(cfg)
    v = ValidationOptions.from_config(cfg)
    th = v.dca_thresholds
    assert th[0] == 0.05 and th[-1] == 0.5 and len(th) == 46
    assert th[1] == 0.06


def _with_splines(default_config, **splines):
    cfg = copy.deepcopy(default_config)
    cfg["splines"] = splines
    return validate_config(cfg)


def test_splines_off_leaves_the_candidates_untouched(default_config):
    cfg = validate_config(copy.deepcopy(default_config))
    assert cfg["splines"] == {"knots": None, "variables": "all"}
    assert SplineOptions.from_config(cfg).apply(cfg["candidates"]) == cfg["candidates"]


def test_splines_for_all_skip_scores_and_respect_a_candidates_own_choice(default_config):
    cfg = _with_splines(default_config, knots=4)
    for c in cfg["candidates"]:
        if c["name"] == "bmi":
            c["spline_knots"] = 0
        if c["name"] == "age":
            c["spline_knots"] = 5
    out = {c["name"]: c for c in SplineOptions.from_config(cfg).apply(cfg["candidates"])}
    assert out["ca19_9"]["spline_knots"] == 4 and out["ca19_9"]["spline_auto"] is True
    assert "spline_knots" not in out["bmi"] and "spline_knots" not in out["crs_score"]  # own 0; a score
    assert out["age"]["spline_knots"] == 5 and "spline_auto" not in out["age"]
    kinds = {c["name"]: c["type"] for c in cfg["candidates"]}
    assert all(kinds[n] == "numeric" for n, c in out.items() if "spline_knots" in c)


def test_listed_spline_variables_must_be_numeric_candidates(default_config):
    cfg = _with_splines(default_config, knots=3, variables=["age", "tbil"])
    out = {c["name"]: c for c in SplineOptions.from_config(cfg).apply(cfg["candidates"])}
    assert {n for n, c in out.items() if c.get("spline_knots")} == {"age", "tbil"}
    assert "spline_auto" not in out["age"]
    bad = _with_splines(default_config, knots=3, variables=["male"])
    with pytest.raises(ValueError, match="'male' is not a numeric candidate"):
        SplineOptions.from_config(bad).apply(bad["candidates"])


def test_spline_knots_outside_rms_defaults_are_a_config_error(default_config):
    with pytest.raises(Exception, match="knots"):
        _with_splines(default_config, knots=8)


def test_beyond_paper_options_default_to_the_papers_run(default_config):
    from crlmflow.pipeline.options import AlternativeModelOptions, SampleSizeOptions

    cfg = copy.deepcopy(default_config)
    validate_config(cfg)
    alt = AlternativeModelOptions.from_config(cfg)
    assert alt.methods == () and (alt.cv_folds, alt.penalty_rule) == (10, "min")
    assert AlternativeModelOptions(**alt.as_dict()) == alt
    ss = SampleSizeOptions.from_config(cfg)
    assert (ss.shrinkage, ss.optimism, ss.margin, ss.nagelkerke, ss.r2_cs) == (0.9, 0.05, 0.05, 0.15, None)
    assert ss.horizon == max(cfg["horizons"])  # null: the last horizon
    cfg2 = copy.deepcopy(default_config)
    cfg2["alternative_models"] = {"methods": ["lasso", "shrunk_stepwise"], "penalty_rule": "1se"}
    cfg2["sample_size"] = {"horizon": 24}
    validate_config(cfg2)
    assert AlternativeModelOptions.from_config(cfg2).methods == ("lasso", "shrunk_stepwise")
    assert SampleSizeOptions.from_config(cfg2).horizon == 24.0
    bad = copy.deepcopy(default_config)
    bad["alternative_models"] = {"methods": ["bayesian"]}
    with pytest.raises(Exception, match="alternative_models"):
        validate_config(bad)


def test_optimism_extra_measures_options(default_config):
    cfg = copy.deepcopy(default_config)
    validate_config(cfg)
    v = ValidationOptions.from_config(cfg)
    assert v.optimism_more_measures and v.optimism_thresholds == [0.1, 0.2, 0.3]
    cfg["validation"].update(optimism_more_measures=False)
    assert ValidationOptions.from_config(cfg).optimism_thresholds is None
    cfg["validation"].update(optimism_more_measures=True, optimism_nb_thresholds=[])
    assert ValidationOptions.from_config(cfg).optimism_thresholds == []
    cfg["validation"]["optimism_nb_thresholds"] = [1.5]
    with pytest.raises(Exception, match="optimism_nb_thresholds|1.5"):
        validate_config(cfg)


def test_imputation_options_off_by_default_and_bootstrap_falls_back_to_validation(default_config):
    base = copy.deepcopy(default_config)
    validate_config(base)
    off = ImputationOptions.from_config(base)
    assert not off.enabled and off.m is None and off.majority == 0.5
    assert off.bootstrap_B == base["validation"]["bootstrap_B"]
    cfg = copy.deepcopy(default_config)
    cfg["data"]["missing_predictors"] = "multiple_imputation"
    cfg["data"]["imputation"] = {"m": 5, "bootstrap_B": 0}
    validate_config(cfg)
    on = ImputationOptions.from_config(cfg)
    assert on.enabled and on.m == 5 and on.bootstrap_B == 0 and on.max_iter == 10
    assert off.bootstrap_order == on.bootstrap_order == "impute_then_bootstrap"
    assert ImputationOptions(**on.as_dict()) == on
    cfg["data"]["imputation"] = {"m": 1}
    with pytest.raises(Exception, match="m"):
        validate_config(cfg)


def test_prediction_conf_type_defaults_to_rs_log_and_takes_log_log_only(default_config):
    cfg = copy.deepcopy(default_config)
    validate_config(cfg)
    assert PredictionOptions.from_config(cfg) == PredictionOptions(conf_type="log")  # R survfit's default
    cfg = copy.deepcopy(default_config)
    cfg["prediction"] = {"conf_type": "log-log"}
    validate_config(cfg)
    opts = PredictionOptions.from_config(cfg)
    assert opts.conf_type == "log-log" and PredictionOptions(**opts.as_dict()) == opts
    cfg["prediction"] = {"conf_type": "plain"}
    with pytest.raises(Exception, match="conf_type"):
        validate_config(cfg)
