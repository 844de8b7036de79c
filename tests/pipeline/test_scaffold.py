"""new-exhibit writes a rule, a notebook with a parameters cell and a caption, and one
include line; it refuses bad names and never overwrites (the end-to-end run of what it
writes is tests/workflow/test_scaffold.py)."""

import ast
import json

import pytest

from crlmflow.pipeline.scaffold import new_exhibit

SNAKEFILE = 'configfile: "config/config.yaml"\n\n\ninclude: "workflow/rules/config.smk"\ninclude: "workflow/rules/exhibits.smk"\n\n\nrule all:\n    input: []\n'


@pytest.fixture
def workflow(tmp_path):
    for d in ("workflow/rules", "workflow/report", "notebooks"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "Snakefile").write_text(SNAKEFILE, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("kind", ["table", "figure"])
def test_writes_the_exhibit_and_one_include_line(workflow, kind):
    files = new_exhibit("by_site", kind, workflow)
    assert [f.relative_to(workflow).as_posix() for f in files] == [
        "workflow/rules/exhibit_by_site.smk",
        "notebooks/by_site.ipynb",
        "workflow/report/by_site.rst",
        "Snakefile",
    ]
    snakefile = (workflow / "Snakefile").read_text(encoding="utf-8")
    assert snakefile == SNAKEFILE.replace(
        'exhibits.smk"\n', 'exhibits.smk"\ninclude: "workflow/rules/exhibit_by_site.smk"\n'
    )
    rule = (workflow / "workflow/rules/exhibit_by_site.smk").read_text(encoding="utf-8")
    assert "rule exhibit_by_site:" in rule and "OUTPUTS.add(rules.exhibit_by_site.output)" in rule
    assert ("figure_outputs(" if kind == "figure" else "table_outputs(") in rule
    nb = json.loads((workflow / "notebooks/by_site.ipynb").read_text(encoding="utf-8"))
    params = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1
    tree = ast.parse(params[0]["source"])
    names = {t.id for node in tree.body for t in node.targets}
    assert all(isinstance(node, ast.Assign) for node in tree.body)
    assert names >= ({"fig_base", "lineage"} if kind == "figure" else {"out_base"}) | {"cohort", "endpoints", "sets"}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            compile(cell["source"], "cell", "exec")


def test_refuses_bad_names_and_existing_files(workflow):
    with pytest.raises(ValueError, match="lower-case"):
        new_exhibit("By Site", "table", workflow)
    with pytest.raises(ValueError, match="'table' or 'figure'"):
        new_exhibit("by_site", "plot", workflow)
    new_exhibit("by_site", "table", workflow)
    before = (workflow / "Snakefile").read_text(encoding="utf-8")
    with pytest.raises(FileExistsError, match="already exist"):
        new_exhibit("by_site", "figure", workflow)
    assert (workflow / "Snakefile").read_text(encoding="utf-8") == before
