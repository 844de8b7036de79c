"""Config validation: wrong keys, types and values fail at once, naming the key."""

import copy

import pytest
import yaml

from crlmflow.pipeline.config import ConfigError, config_hash, validate_config


@pytest.fixture(scope="module")
def default_config(repo_root):
    with open(repo_root / "config" / "config.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_default_config_is_valid(default_config):
    validate_config(copy.deepcopy(default_config))


def test_unknown_key_names_key_and_allowed(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["selection"]["methd"] = "stepaic_both"
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert "'selection'" in msg and "'methd'" in msg and "allowed keys" in msg and "method" in msg


def test_wrong_enum_value_lists_allowed(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["selection"]["method"] = "backward"
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert "selection.method" in msg and "'backward'" in msg
    assert "'stepaic_both'" in msg and "'forward_lr'" in msg


def test_wrong_type_names_expected_type(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["data"]["synthetic"]["n_eligible"] = "many"
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert "data.synthetic.n_eligible" in str(err.value) and "integer" in str(err.value)


def test_every_problem_is_listed(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["horizons"] = [-1]
    cfg["split"]["method"] = "kfold"
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert "horizons[0]" in msg and "split.method" in msg


def test_semantic_checks(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["exclude_from_multivariable"] = ["not_a_candidate"]
    with pytest.raises(ConfigError, match="not_a_candidate"):
        validate_config(cfg)
    cfg = copy.deepcopy(default_config)
    cfg["data"]["source"] = "file"
    with pytest.raises(ConfigError, match="data.file.path"):
        validate_config(cfg)


def test_config_hash_is_order_independent():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def _schema_keys(schema, prefix=""):
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(sub, dict) and sub.get("type") == "object":
            yield from _schema_keys(sub, path + ".")


def test_config_readme_documents_every_key_and_column(repo_root):
    from crlmflow.data.columns import RAW_COLUMNS
    from crlmflow.pipeline.config import load_schema

    text = (repo_root / "config" / "README.md").read_text(encoding="utf-8")
    schema = load_schema()
    missing = [k for k in _schema_keys(schema) if f"`{k}" not in text and f".{k.split('.')[-1]}`" not in text]
    assert not missing, f"config/README.md does not document: {missing}"
    assert not [c for c in RAW_COLUMNS if f"`{c}`" not in text]
