"""Study config files: complete in themselves or naming what they extend; never silently
filled with the paper's study."""

import copy

import pytest
import yaml

from crlmflow.pipeline.config import (
    ConfigError,
    load_schema,
    load_study_config,
    merge_configs,
    resolve_config,
    validate_config,
)

MINIMAL = {
    "endpoints": {"dfs": {"time": "t_dfs", "event": "d_dfs", "label": "Disease-free survival"}},
    "candidates": [{"name": "age", "type": "numeric", "range": [18, 100]}],
    "data": {"followup_cutoff": None},
}


def _write(path, cfg):
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def test_extending_config_drops_an_endpoint_and_keeps_the_rest(tmp_path, repo_root):
    own = _write(
        tmp_path / "rfs_only.yaml",
        {
            "extends": str(repo_root / "config" / "config.yaml"),
            "outdir": "results/rfs_only",
            "split": {"stratify": "rfs_event"},
            "endpoints": {"os": None},
        },
    )
    cfg = validate_config(load_study_config(own))
    assert list(cfg["endpoints"]) == ["rfs"]
    assert cfg["split"] == {"method": "random", "train_fraction": 0.7, "stratify": "rfs_event"}
    # everything not overridden is the extended study's own value
    with open(repo_root / "config" / "config.yaml", encoding="utf-8") as fh:
        paper = yaml.safe_load(fh)
    assert cfg["candidates"] == validate_config(paper)["candidates"] and cfg["data"]["followup_cutoff"] == "2023-04-30"
    assert cfg["outdir"] == "results/rfs_only" and "extends" not in cfg


def test_extends_is_relative_to_the_extending_file(tmp_path):
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "base.yaml", MINIMAL)
    own = _write(tmp_path / "sub" / "own.yaml", {"extends": "../base.yaml", "horizons": [6, 12]})
    cfg = load_study_config(own)
    assert cfg["endpoints"] == MINIMAL["endpoints"] and cfg["horizons"] == [6, 12]


def test_dropping_the_stratification_endpoint_is_reported(tmp_path, repo_root):
    own = _write(tmp_path / "c.yaml", {"extends": str(repo_root / "config" / "config.yaml"), "endpoints": {"os": None}})
    with pytest.raises(ConfigError, match=r"split.stratify': 'os_event' is neither an endpoint column"):
        validate_config(load_study_config(own))


def test_complete_config_gets_schema_defaults_not_the_papers(tmp_path):
    cfg = validate_config(load_study_config(_write(tmp_path / "c.yaml", MINIMAL)))
    assert list(cfg["endpoints"]) == ["dfs"]
    # the paper sets these; a complete config that leaves them out gets the schema default
    assert cfg["km"]["group"] is None
    # the stratification derives from the study's own endpoint, never the paper's os_event
    assert cfg["split"]["stratify"] == MINIMAL["endpoints"]["dfs"]["event"]
    unstratified = validate_config(
        load_study_config(_write(tmp_path / "n.yaml", {**MINIMAL, "split": {"stratify": None}}))
    )
    assert unstratified["split"]["stratify"] is None
    assert cfg["exclude_from_multivariable"] == []
    assert cfg["simulation_study"]["replicates"] == 200 and cfg["validation"]["bootstrap_B"] == 1000
    assert cfg["data"]["followup_cutoff"] is None


def test_null_is_a_value_where_allowed_and_removes_elsewhere():
    base = {
        "data": {"followup_cutoff": "2023-04-30", "synthetic": {"n_eligible": 50}},
        "simulation_study": {"replicates": 3},
    }
    out = merge_configs(base, {"data": {"followup_cutoff": None, "synthetic": None}, "simulation_study": None})
    assert out == {"data": {"followup_cutoff": None}}
    assert base["simulation_study"] == {"replicates": 3}  # inputs untouched


def test_lists_replace_rather_than_append():
    out = merge_configs({"horizons": [12, 36, 60]}, {"horizons": [24]})
    assert out["horizons"] == [24]


@pytest.mark.parametrize(
    "drop, named",
    [("endpoints", "'endpoints'"), ("candidates", "'candidates'"), ("data", "'data.followup_cutoff'")],
)
def test_missing_required_key_is_named(drop, named):
    cfg = copy.deepcopy(MINIMAL)
    del cfg[drop]
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert f"config key {named}: missing; it has no default because it is study-specific" in msg
    assert "extends:" in msg


def test_missing_parent_and_cycles_are_reported(tmp_path):
    own = _write(tmp_path / "a.yaml", {"extends": "nowhere.yaml"})
    with pytest.raises(
        ConfigError, match=r"a.yaml: 'extends: nowhere.yaml' names .*nowhere.yaml, which does not exist"
    ):
        load_study_config(own)
    _write(tmp_path / "b.yaml", {"extends": "c.yaml"})
    _write(tmp_path / "c.yaml", {"extends": "b.yaml"})
    with pytest.raises(ConfigError, match="forms a cycle"):
        load_study_config(tmp_path / "b.yaml")


def test_resolve_replaces_snakemakes_merge(tmp_path, repo_root):
    # what Snakemake would have merged: the paper's study with the user's file on top
    merged = {"endpoints": {"os": {}, "dfs": {}}, "outdir": "x"}
    own = _write(tmp_path / "own.yaml", MINIMAL)
    resolve_config(merged, [own], overrides={"outdir": "results/own"})
    assert list(merged["endpoints"]) == ["dfs"] and merged["outdir"] == "results/own"
    # no --configfile: the paper's study, like any other file
    paper: dict = {}
    resolve_config(paper, [], default=repo_root / "config" / "config.yaml")
    assert list(paper["endpoints"]) == ["os", "rfs"]


def test_schema_is_not_modified_by_merging():
    schema = load_schema()
    before = copy.deepcopy(schema)
    merge_configs({"endpoints": {"os": {}}}, {"endpoints": {"os": None}}, schema)
    assert schema == before
