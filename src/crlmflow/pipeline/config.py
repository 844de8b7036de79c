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
        missing = next((k for k in error.validator_value if k not in error.instance), "?")
        where = missing if key == "<top level>" else f"{key}.{missing}"
        about = ((error.schema.get("properties") or {}).get(missing) or {}).get("description")
        about = f" ({about})" if about else ""
        return (
            f"config key '{where}': missing; it has no default because it is study-specific{about}. "
            "Set it in your config, or name the config you build on with 'extends:' (see config/README.md)"
        )
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
    _derive_stratify(config)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        lines = "\n".join(f"  - {_describe(e)}" for e in errors)
        raise ConfigError(f"invalid configuration ({len(errors)} problem(s)):\n{lines}")
    _check_semantics(config)
    return config


def _derive_stratify(config: dict) -> None:
    """``split.stratify`` left out: the event column of the first configured endpoint (the
    outcome the random split keeps balanced, as caret::createDataPartition on the outcome);
    an explicit ``null`` keeps the split unstratified. Derived from the study's own
    endpoints, so no other study's column name is a default."""
    split, endpoints = config.get("split"), config.get("endpoints")
    if isinstance(split, dict) and "stratify" not in split and isinstance(endpoints, dict) and endpoints:
        first = next(iter(endpoints.values()))
        split["stratify"] = first.get("event") if isinstance(first, dict) else None


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
    stratify = (config.get("split") or {}).get("stratify")
    columns = {c for ep in (config.get("endpoints") or {}).values() for c in (ep.get("time"), ep.get("event"))}
    if (
        (config.get("split") or {}).get("method", "random") == "random"
        and stratify not in {None}
        and stratify not in columns | set(names)
    ):
        problems.append(
            f"config key 'split.stratify': {stratify!r} is neither an endpoint column nor a candidate; "
            f"allowed values: null (no stratification), {', '.join(sorted(columns | set(names)))}"
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


# -- study configs: a file is complete in itself or names what it extends --

EXTENDS_KEY = "extends"


def _subschema(node: dict, key: str, root: dict) -> dict | None:
    """The schema of ``key`` inside an object schema ``node`` ($refs followed); None when
    the schema says nothing of it."""
    sub = (node.get("properties") or {}).get(key)
    if sub is None:
        extra = node.get("additionalProperties")
        sub = extra if isinstance(extra, dict) else None
    while isinstance(sub, dict) and "$ref" in sub:
        target = root
        for part in sub["$ref"].lstrip("#/").split("/"):
            target = target[part]
        sub = {**target, **{k: v for k, v in sub.items() if k != "$ref"}}
    return sub


def _allows_null(sub: dict | None) -> bool:
    kind = (sub or {}).get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def merge_configs(base: dict, override: dict, schema: dict | None = None) -> dict:
    """``override`` laid over ``base``, recursively for mappings; lists and scalars replace.

    ``null`` is a value where the schema allows one (``followup_cutoff: null`` = no
    cut-off); anywhere else it removes the key from what is extended, so
    ``endpoints: {os: null}`` drops the ``os`` endpoint and ``simulation_study: null``
    falls back to the schema defaults. Neither argument is modified.
    """
    root = _schema(schema)

    def merge(b: dict, o: dict, node: dict | None) -> dict:
        out = copy.deepcopy(b)
        for key, value in o.items():
            sub = _subschema(node, key, root) if node else None
            if value is None and not _allows_null(sub):
                out.pop(key, None)
            elif isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = merge(out[key], value, sub)
            else:
                out[key] = copy.deepcopy(value)
        return out

    return merge(base, override, root)


def load_study_config(path: str | Path, schema: dict | None = None, _seen: tuple = ()) -> dict:
    """Read a study config; when it has ``extends: <file>`` (relative to this file), lay it
    over that config (itself read the same way). Keys no file sets are left out, for
    :func:`validate_config` to fill from the schema defaults; the paper's study
    (``config/config.yaml``) is read like any other and never fills a user's keys unless
    named in ``extends``."""
    path = Path(path)
    if path.resolve() in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path.resolve()))
        raise ConfigError(f"config {path}: 'extends' forms a cycle: {chain}")
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    with open(path, encoding="utf-8") as fh:
        own = yaml.safe_load(fh) or {}
    if not isinstance(own, dict):
        raise ConfigError(f"config {path}: expected a mapping of keys at the top level, found {type(own).__name__}")
    parent = own.pop(EXTENDS_KEY, None)
    if parent is None:
        return _drop_nulls(own, _schema(schema))
    if not isinstance(parent, str):
        raise ConfigError(f"config {path}: key 'extends' must be a file name, found {parent!r}")
    parent_path = path.parent / parent
    if not parent_path.is_file():
        raise ConfigError(
            f"config {path}: 'extends: {parent}' names {parent_path}, which does not exist "
            "(the path is relative to the extending config file)"
        )
    base = load_study_config(parent_path, schema, (*_seen, path.resolve()))
    return merge_configs(base, own, schema)


def _drop_nulls(config: dict, schema: dict) -> dict:
    """A config that extends nothing: ``null`` where the schema allows no null means
    'not set' (the schema default applies), as it does in an extending config."""
    return merge_configs({}, config, schema)


def resolve_config(
    config: dict,
    configfiles: list[str | Path],
    overrides: dict | None = None,
    default: str | Path = "config/config.yaml",
    schema: dict | None = None,
) -> dict:
    """Replace, in place, Snakemake's merged ``config`` by the study the user named.

    ``configfiles`` (``--configfile``) are read with :func:`load_study_config` and laid
    over one another in order; with none, ``default`` (the paper's study) is the study.
    ``overrides`` (``--config key=value``) come last. Snakemake itself would merge every
    ``--configfile`` into the workflow's ``configfile:``, which made a user's study
    silently inherit the paper's endpoints and values; the Snakefile therefore has no
    ``configfile:`` directive and calls this instead.
    """
    files = list(configfiles) or [default]
    study: dict = {}
    for f in files:
        study = merge_configs(study, load_study_config(f, schema), schema)
    study = merge_configs(study, dict(overrides or {}), schema)
    config.clear()
    config.update(study)
    return config


#: Keys that say where results are written, not what the study is.
LOCATION_KEYS = ("outdir",)


def study_config(config: dict) -> dict:
    """The config without the keys that only place the results (``outdir``): the same
    study written to another folder is the same study."""
    return {k: v for k, v in config.items() if k not in LOCATION_KEYS}


def study_hash(config: dict) -> str:
    """:func:`config_hash` of :func:`study_config`: embedded in figures and records."""
    return config_hash(study_config(config))
