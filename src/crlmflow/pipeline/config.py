"""Load and validate the workflow configuration against its JSON schema, filling defaults.

Snakemake's own ``validate`` reports only the first jsonschema error, with a long dump of
the schema; researchers editing a YAML file need every problem, each naming the key path
and what is allowed. This module gives that, and the Snakefile calls it before any job.

The schema (``config.schema.yaml``, shipped with the package) is the one home of every
default: :func:`validate_config` first sets each absent key that has a ``default:``
(jsonschema's extend-with-default pattern, nested objects included), then validates, so
the typed options of :mod:`crlmflow.pipeline.options` never repeat a default.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


class ConfigError(ValueError):
    """The configuration does not follow ``crlmflow/pipeline/config.schema.yaml``."""


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path]
    text = ".".join(parts).replace(".[", "[")
    return text or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    """One line: the key, the value found and what the schema allows."""
    key = _key_path(error)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in error.schema.get("properties", {})]
        hint = f"allowed keys: {', '.join(allowed)}" if allowed else "no extra keys allowed"
        return f"config key '{key}': unknown key(s) {', '.join(map(repr, extra))}; {hint}"
    if error.validator == "enum":
        return (
            f"config key '{key}': {error.instance!r} is not allowed; "
            f"allowed values: {', '.join(map(repr, error.validator_value))}"
        )
    if error.validator == "type":
        allowed = error.validator_value
        allowed = " or ".join(allowed) if isinstance(allowed, list) else allowed
        return f"config key '{key}': {error.instance!r} has the wrong type; expected {allowed}"
    if error.validator == "required":
        return f"config key '{key}': {error.message}"
    return f"config key '{key}': {error.message}"


def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _with_defaults(validator_class):
    """``validator_class`` whose ``properties`` keyword first sets absent keys to their
    schema ``default`` (a copy, so the schema is never shared or mutated)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if validator.is_type(instance, "object"):
            for key, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_DefaultFiller = _with_defaults(jsonschema.Draft202012Validator)


def _schema(schema: dict | str | Path | None) -> dict:
    if schema is None or isinstance(schema, (str, Path)):
        return load_schema(schema or SCHEMA_PATH)
    return schema


def fill_defaults(config: dict, schema: dict | str | Path | None = None) -> dict:
    """Set, in place, every key of ``config`` that is absent and has a schema ``default``;
    returns ``config``. Values of the wrong type are left for validation to report."""
    for _ in _DefaultFiller(_schema(schema)).iter_errors(config):
        pass
    return config


def validate_config(config: dict, schema: dict | str | Path | None = None) -> dict:
    """Fill the schema defaults into ``config`` (in place), then validate it; raise
    ConfigError listing every problem, one line each. Returns ``config``."""
    schema = _schema(schema)
    fill_defaults(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        lines = "\n".join(f"  - {_describe(e)}" for e in errors)
        raise ConfigError(f"invalid configuration ({len(errors)} problem(s)):\n{lines}")
    _check_semantics(config)
    return config


def _check_semantics(config: dict) -> None:
    """Cross-key rules that a JSON schema cannot express."""
    problems = []
    names = [c["name"] for c in config.get("candidates", [])]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"config key 'candidates': duplicate names {dupes}")
    for name in config.get("exclude_from_multivariable", []) or []:
        if name not in names:
            problems.append(
                f"config key 'exclude_from_multivariable': {name!r} is not a candidate; "
                f"allowed values: the candidate names"
            )
    for i, cand in enumerate(config.get("candidates", [])):
        if cand.get("type") == "factor" and cand.get("ref") not in cand.get("levels", []):
            problems.append(
                f"config key 'candidates[{i}].ref': {cand.get('ref')!r} is not one of its levels {cand.get('levels')}"
            )
    data = config.get("data", {})
    if data.get("source") == "file" and not (data.get("file") or {}).get("path"):
        problems.append("config key 'data.file.path': required when data.source is 'file'")
    if config.get("split", {}).get("method") == "external":
        ext = config.get("external") or {}
        if ext.get("source") == "file" and not (ext.get("file") or {}).get("path"):
            problems.append("config key 'external.file.path': required when external.source is 'file'")
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


def config_hash(config: Any) -> str:
    """sha256 of the canonical JSON form of a config (sub)tree."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: Keys that say where results are written, not what the study is.
LOCATION_KEYS = ("outdir",)


def study_config(config: dict) -> dict:
    """The config without the keys that only place the results (``outdir``): the same
    study written to another folder is the same study."""
    return {k: v for k, v in config.items() if k not in LOCATION_KEYS}


def study_hash(config: dict) -> str:
    """:func:`config_hash` of :func:`study_config`: embedded in figures and records."""
    return config_hash(study_config(config))
