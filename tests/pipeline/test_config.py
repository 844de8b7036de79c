"""Config validation: wrong keys, types and values fail at once, naming the key."""

import copy
import re
from pathlib import Path

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


# -- schema defaults --


def _defaults(schema, root, prefix=""):
    """(key path, default) of every leaf key with a schema default ($refs followed)."""
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}{key}"
        target = sub
        if "$ref" in sub:
            target = root
            for part in sub["$ref"].lstrip("#/").split("/"):
                target = target[part]
        if "properties" in target:
            yield from _defaults(target, root, path + ".")
        elif "default" in sub:
            yield path, sub["default"]


def _get(config, path):
    for part in path.split("."):
        if not isinstance(config, dict) or part not in config:
            return KeyError
        config = config[part]
    return config


def test_schema_ships_with_the_package_not_the_workflow(repo_root):
    from crlmflow.pipeline import config as config_module

    assert config_module.SCHEMA_PATH == Path(config_module.__file__).with_name("config.schema.yaml")
    assert config_module.SCHEMA_PATH.is_file()
    assert "workflow/schemas" not in Path(config_module.__file__).read_text(encoding="utf-8")
    assert not (repo_root / "workflow" / "schemas").exists()


def test_validation_fills_every_default_without_touching_the_schema(default_config):
    from crlmflow.pipeline.config import load_schema

    schema = load_schema()
    before = copy.deepcopy(schema)
    cfg = {
        "endpoints": default_config["endpoints"],
        "candidates": default_config["candidates"],
        "selection": {"method": "forward_lr"},
        "data": {"synthetic": {"n_eligible": 50}, "followup_cutoff": None},
    }
    validate_config(cfg, schema)
    defaults = dict(_defaults(schema, schema))
    assert len(defaults) > 30
    for path, value in defaults.items():
        if not path.startswith("data.synthetic.n_eligible") and not path.startswith("selection.method"):
            assert _get(cfg, path) == value, path
    assert cfg["selection"]["method"] == "forward_lr" and cfg["data"]["synthetic"]["n_eligible"] == 50
    # filled values are copies: editing one config changes neither the schema nor the next config
    cfg["selection"]["forward_lr"]["entry_p"] = 0.2
    cfg["data"]["file"]["columns"]["x"] = "y"
    other = {
        "endpoints": default_config["endpoints"],
        "candidates": default_config["candidates"],
        "data": {"followup_cutoff": None},
    }
    validate_config(other, schema)
    assert other["selection"]["forward_lr"]["entry_p"] == 0.05 and other["data"]["file"]["columns"] == {}
    assert schema == before


def test_a_default_never_hides_a_wrong_value(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["selection"] = "stepaic_both"
    with pytest.raises(ConfigError, match="'selection'.*wrong type; expected object"):
        validate_config(cfg)


def test_default_config_sets_every_key_to_its_schema_default(default_config):
    """config/config.yaml shows the defaults; it departs only where config/README.md says so."""
    from crlmflow.pipeline.config import load_schema

    schema = load_schema()
    differ = {
        path
        for path, value in _defaults(schema, schema)
        if _get(default_config, path) is not KeyError and _get(default_config, path) != value
    }
    assert differ == {"exclude_from_multivariable", "km.group"}
    # split.stratify has no schema default: it derives from the study's first endpoint
    assert default_config["split"]["stratify"] == next(iter(default_config["endpoints"].values()))["event"]


def test_config_readme_states_every_schema_default(repo_root):
    from crlmflow.pipeline.config import load_schema

    schema = load_schema()
    rows = {}
    for line in (repo_root / "config" / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split(" | ")]
        if line.startswith("| `") and len(cells) >= 4:
            for key in re.findall(r"`([\w.\[\]]+)`", cells[0]):
                rows[key] = cells[2]
    wrong = {}
    for path, value in _defaults(schema, schema):
        cell = rows.get(path)
        if cell is None or not cell.startswith("`") or yaml.safe_load(cell.strip("`")) != value:
            wrong[path] = (cell, value)
    assert not wrong, f"config/README.md default column disagrees with the schema: {wrong}"


def test_followup_cutoff_is_study_specific_and_required(default_config):
    """The paper's administrative cut-off must never apply to a user's data by default."""
    cfg = copy.deepcopy(default_config)
    del cfg["data"]["followup_cutoff"]
    with pytest.raises(ConfigError, match="followup_cutoff"):
        validate_config(cfg)
