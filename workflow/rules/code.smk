# Code as inputs: every rule declares its script (or notebook) and, as `code`, the package
# modules that script or notebook imports, found by crlmflow.pipeline.codedeps. Editing a
# module thus reruns exactly the rules whose code runs it (and what depends on their outputs).
from crlmflow.pipeline.codedeps import code_dependencies

RUN_NOTEBOOK = "scripts/run_notebook.py"


def code_of(*sources):
    """Package modules run by the given scripts/notebooks (paths relative to the workflow)."""
    return code_dependencies(*sources, root=workflow.basedir)


def notebook_code(notebook):
    """Package modules run by an exhibit notebook and by the script that executes it."""
    return code_of(notebook, RUN_NOTEBOOK)
