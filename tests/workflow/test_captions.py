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
