"""Report captions (workflow/report/*.rst), rendered as `snakemake --report` renders them
(Jinja2 with the job's `snakemake` object, then docutils): an external cohort is named as
such, never "validation set" or "held-out patients"."""

from __future__ import annotations

from types import SimpleNamespace

import jinja2
import pytest
import yaml
from docutils.core import publish_parts

from crlmflow.pipeline.config import validate_config

FORBIDDEN = ("validation set", "held-out", "held out")


def _render(repo_root, name: str, method: str) -> str:
    text = (repo_root / "workflow" / "report" / f"{name}.rst").read_text(encoding="utf-8")
    # the paper's study with every schema default filled, as a job sees its config
    config = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))
    validate_config(config)
    config["split"]["method"] = method
    job = SimpleNamespace(wildcards=SimpleNamespace(endpoint="rfs"), config=config)
    rst = jinja2.Environment().from_string(text).render(snakemake=job)
    publish_parts(rst, writer="html", settings_overrides={"halt_level": 2})  # valid rst
    return " ".join(rst.split())


def test_no_caption_calls_an_external_cohort_a_validation_set(repo_root):
    for path in sorted((repo_root / "workflow" / "report").glob("*.rst")):
        if path.stem.startswith("simulation_study"):
            continue  # the simulation study always splits its simulated cohorts at random
        text = _render(repo_root, path.stem, "external").lower()
        assert not [w for w in FORBIDDEN if w in text], path.name


@pytest.mark.parametrize(
    "name", ["figure_model", "figure4_km", "suppl_calibration", "performance", "table1", "figure1_flowchart"]
)
def test_captions_name_the_set_their_split_has(repo_root, name):
    external = _render(repo_root, name, "external")
    assert "external cohort" in external.lower(), name
    random = _render(repo_root, name, "random")
    assert "external cohort" not in random.lower() and "validation" in random.lower(), name


COMPLETE_CASE = [
    "table2",
    "table3",
    "univariable",
    "multivariable",
    "figure_model",
    "figure_model_nia",
    "figure4_km",
    "suppl_calibration",
    "performance",
    "optimism",
    "selection_frequency",
    "performance_comparison",
    "selection_stability",
    "cutpoint",
    "ph_test",
    "suppl_ph",
    "nomogram_app",
    "external_validation",
]


def _render_missing(repo_root, name: str, policy: str) -> str:
    text = (repo_root / "workflow" / "report" / f"{name}.rst").read_text(encoding="utf-8")
    config = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))
    validate_config(config)
    config["data"]["missing_predictors"] = policy
    job = SimpleNamespace(wildcards=SimpleNamespace(endpoint="os"), config=config)
    rst = jinja2.Environment().from_string(text).render(snakemake=job)
    publish_parts(rst, writer="html", settings_overrides={"halt_level": 2})  # valid rst
    return " ".join(rst.split())


@pytest.mark.parametrize("name", COMPLETE_CASE)
def test_under_multiple_imputation_single_model_captions_say_complete_case(repo_root, name):
    mi = _render_missing(repo_root, name, "multiple_imputation")
    assert "Complete-case analysis" in mi and "tables/mi_pooled_model" in mi, name
    assert "Complete-case" not in _render_missing(repo_root, name, "complete_case"), name


def test_pooled_model_caption_names_the_majority_share_and_rubins_rules(repo_root):
    text = _render_missing(repo_root, "mi_pooled_model", "multiple_imputation")
    assert "at least 50% of them" in text and "Rubin's rules" in text and "Barnard" in text
