# Configuration: validate the config (filling every schema default) and derive the names
# the rule files share. Rules pass their scripts only the config values they use.
from pathlib import Path

from crlmflow.pipeline.config import validate_config
from crlmflow.pipeline.options import (
    AlternativeModelOptions,
    ImputationOptions,
    PredictionOptions,
    SampleSizeOptions,
    SelectionOptions,
    SplineOptions,
    ValidationOptions,
)
from crlmflow.report.formats import split_set_labels

validate_config(config)

OUT = config["outdir"]
ENV = "../../envs/crlmflow.yaml"
ENDPOINTS = list(config["endpoints"])
SPLIT = config["split"]["method"]
COHORTS = ["development", "external"] if SPLIT == "external" else ["development"]
# Sets that exist: with split "none" everyone trains and validation exhibits are skipped.
SETS = ["train"] if SPLIT == "none" else ["train", "validation"]
# Set-label overrides of the exhibits: an external cohort is named as such.
SET_NAMES = split_set_labels(SPLIT)
SELECTION = SelectionOptions.from_config(config)
VALIDATION = ValidationOptions.from_config(config)
# Splines (beyond the paper): every rule reads the candidates with their spline_knots set;
# with splines off (the default) the candidates are exactly the config's.
config["candidates"] = SplineOptions.from_config(config).apply(config["candidates"])
ALTERNATIVES = AlternativeModelOptions.from_config(config)
SAMPLE_SIZE = SampleSizeOptions.from_config(config)
# Multiple imputation (beyond the paper; off by default): the split also writes the cohort
# with the incomplete patients, which the multiple_imputation rule develops the model on.
IMPUTATION = ImputationOptions.from_config(config)
MI_COHORT = {"incomplete": f"{OUT}/data/analysis_cohort_incomplete.csv"}
# Under multiple imputation the single-model exhibits (Table 2, the bootstrap tables) are
# complete-case and say so, counting the patients from the split summary: an input only then.
MI_NOTE_INPUT = (
    {"mi_split": f"{OUT}/data/split_summary.json"} if IMPUTATION.enabled else {}
)


def mi_note_param(input):
    """Notebook parameter of the complete-case note (none with multiple imputation off)."""
    return {"split_summary": input.mi_split} if IMPUTATION.enabled else {}


PREDICTION = PredictionOptions.from_config(config)


wildcard_constraints:
    cohort="development|external",
    endpoint="|".join(ENDPOINTS),


def cohort_source(cohort):
    """The data block (synthetic or file) of a cohort."""
    return config["data"] if cohort == "development" else config["external"]


def cohort_reading(cohort):
    """How a cohort is read: its source, and its file options only when it is a file."""
    block = cohort_source(cohort)
    return {
        "source": block["source"],
        "file": block["file"] if block["source"] == "file" else {},
    }


def endpoint_spec(wildcards):
    """The config entry (time, event, label) of the job's endpoint."""
    return config["endpoints"][wildcards.endpoint]


def endpoint_index(wildcards):
    """Position of the job's endpoint: a key of its random streams."""
    return ENDPOINTS.index(wildcards.endpoint)


def is_generic(cohort):
    """A generic study declares its columns in the config (no CRLM indices to derive)."""
    block = cohort_source(cohort)
    return block["source"] == "file" and block["file"]["format"] == "generic"


def is_crlm_study():
    """KRAS and the paper's published numbers exist only for the CRLM study."""
    return not is_generic("development")


def is_paper_shaped():
    """The comparison with the paper's published numbers needs its study and both of its
    endpoints (a CRLM study may declare fewer, or others)."""
    return is_crlm_study() and {"os", "rfs"} <= set(ENDPOINTS)


def external_file_name():
    """The external cohort's file name (for messages), or a description of its source."""
    if SPLIT != "external":
        return ""
    block = config["external"]
    if block["source"] == "file":
        return Path(block["file"]["path"]).name
    return "simulated external cohort"


def raw_input(wildcards):
    block = cohort_source(wildcards.cohort)
    if block["source"] == "file":
        return block["file"]["path"]
    return f"{OUT}/data/{wildcards.cohort}/raw_cohort.csv"


# -- values the rules pass to their scripts and notebooks --


def model_settings(wildcards):
    """The config values that define an endpoint's model (hashed into model.json); the
    training data are hashed separately."""
    return {
        "seed": config["seed"],
        "endpoint": endpoint_spec(wildcards),
        "candidates": config["candidates"],
        "exclude_from_multivariable": config["exclude_from_multivariable"],
        "selection": SELECTION.as_dict(),
        "horizons": config["horizons"],
        "cutpoint_minprop": VALIDATION.cutpoint_minprop,
        "cutpoint_permutations": VALIDATION.cutpoint_permutations,
    }


FIG_NO = {ep: 2 + i for i, ep in enumerate(ENDPOINTS)}


def nb_params(**kw):
    """Notebook parameters (scripts/run_notebook.py adds the figure lineage)."""
    return kw


def ep_short(ep):
    return ep.upper()


def ep_files(pattern):
    """{endpoint: path} for a path pattern with {ep}."""
    return {ep: pattern.format(ep=ep) for ep in ENDPOINTS}
