"""``python -m crlmflow new-exhibit NAME``: a new table or figure, ready to run.

Writes the four files an exhibit needs, following the workflow's conventions, and one
``include:`` line in the ``Snakefile``:

* ``workflow/rules/exhibit_<name>.smk`` — the rule: the analysis cohort (or other files)
  as input, the notebook and the package code it runs (``notebook_code``), outputs shown
  in the report by ``table_outputs``/``figure_outputs``, params for the notebook, and
  ``OUTPUTS.add(...)`` so the default target, the provenance manifest and the RO-Crate
  include it;
* ``notebooks/<name>.ipynb`` — a ``parameters`` cell (inputs, ``out_base`` or
  ``fig_base``, ``lineage = {}`` for figures: the runner fills it and ``save_figure``
  embeds it), then cells that only load results and tabulate or draw (aggregates only, no
  patient rows);
* ``workflow/report/<name>.rst`` — the caption of the report.

No existing file is edited beyond the ``include:`` line. Exhibits run through
``scripts/run_notebook.py``, so no new script is needed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["new_exhibit"]

_RULE = """# Exhibit {name} (created by `python -m crlmflow new-exhibit`): {what} from the
# analysis cohort. Edit the notebook; add inputs here and pass them as params.


rule exhibit_{name}:
    input:
        notebook="notebooks/{name}.ipynb",
        cohort=f"{{OUT}}/data/analysis_cohort.csv",
        runner=RUN_NOTEBOOK,
        code=notebook_code("notebooks/{name}.ipynb"),
    output:
        **{outputs}(
            f"{{OUT}}/{folder}/{name}",
            "{name}",
            BEYOND,
            "{name}",
        ),
        notebook=f"{{OUT}}/notebooks/{name}.ipynb",
    log:
        f"{{OUT}}/logs/exhibit_{name}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            cohort=input.cohort,
            endpoints=config["endpoints"],
            sets=SETS,
            {base}=output.{first}[: -len(".{first}")],
        ),
    script:
        "../../scripts/run_notebook.py"


OUTPUTS.add(rules.exhibit_{name}.output)
"""

_TABLE_CODE = """import pandas as pd
from IPython.display import Markdown, display

from crlmflow.report.exhibits import to_markdown, write_table

cohort = pd.read_csv(cohort)
rows = []
for ep, spec in endpoints.items():
    for s in sets:
        part = cohort[cohort["set"] == s]
        rows.append({"Endpoint": spec["label"], "Set": s, "Patients": len(part), "Events": int(part[spec["event"]].sum())})
table = pd.DataFrame(rows)
notes = ["Counts of patients and events per endpoint and set."]
write_table(table, out_base, title="Patients and events", footnotes=notes)
display(Markdown(to_markdown(table, footnotes=notes)))"""

_FIGURE_CODE = """import matplotlib.pyplot as plt
import pandas as pd

from crlmflow.report.plots.style import save_figure

cohort = pd.read_csv(cohort)
fig, axes = plt.subplots(1, len(endpoints), figsize=(4 * len(endpoints), 3), squeeze=False)
for ax, (ep, spec) in zip(axes[0], endpoints.items()):
    for s in sets:
        ax.hist(cohort.loc[cohort["set"] == s, spec["time"]].dropna(), bins=20, alpha=0.5, label=s)
    ax.set_title(spec["label"])
    ax.set_xlabel(spec["time"])
    ax.legend()
save_figure(fig, fig_base, metadata=lineage)"""


def _cell(kind: str, source: str, tags: list[str] | None = None) -> dict:
    cell = {"cell_type": kind, "metadata": {"tags": tags} if tags else {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _notebook(name: str, kind: str) -> dict:
    base = "fig_base" if kind == "figure" else "out_base"
    folder = "figures" if kind == "figure" else "tables"
    params = (
        f'cohort = "results/data/analysis_cohort.csv"\n'
        f'endpoints = {{"os": {{"time": "os_months", "event": "os_event", "label": "Overall survival"}}}}\n'
        f'sets = ["train", "validation"]\n'
        f'{base} = "results/{folder}/{name}"' + ("\nlineage = {}" if kind == "figure" else "")
    )
    cells = [
        _cell("markdown", f"# {name}\n\nA supplementary {kind} made from the analysis cohort."),
        _cell("code", params, ["parameters"]),
        _cell("code", _FIGURE_CODE if kind == "figure" else _TABLE_CODE),
    ]
    meta = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}


def new_exhibit(name: str, kind: str = "table", root: str | Path = ".") -> list[Path]:
    """Create exhibit ``name`` (a ``table`` or a ``figure``) in the workflow at ``root``;
    returns the files written or edited. Refuses to overwrite anything."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"exhibit name {name!r}: expected lower-case letters, digits and '_', starting with a letter")
    if kind not in ("table", "figure"):
        raise ValueError(f"exhibit kind {kind!r}: expected 'table' or 'figure'")
    root = Path(root)
    rule_file = root / "workflow" / "rules" / f"exhibit_{name}.smk"
    notebook = root / "notebooks" / f"{name}.ipynb"
    caption = root / "workflow" / "report" / f"{name}.rst"
    existing = [str(p) for p in (rule_file, notebook, caption) if p.exists()]
    if existing:
        raise FileExistsError(f"exhibit {name!r}: {', '.join(existing)} already exist(s); choose another name")
    snakefile = root / "Snakefile"
    text = snakefile.read_text(encoding="utf-8")
    includes = list(re.finditer(r'(?m)^include: "workflow/rules/[^"]+"\n', text))
    if not includes:
        raise ValueError(f"{snakefile}: no 'include:' line found; expected the rule files to be included there")
    first = "png" if kind == "figure" else "csv"
    rule_file.write_text(
        _RULE.format(
            name=name,
            what=f"a {kind}",
            outputs="figure_outputs" if kind == "figure" else "table_outputs",
            folder="figures" if kind == "figure" else "tables",
            base="fig_base" if kind == "figure" else "out_base",
            first=first,
        ),
        encoding="utf-8",
    )
    notebook.write_text(json.dumps(_notebook(name, kind), indent=1) + "\n", encoding="utf-8")
    caption.write_text(
        f"Supplementary {kind} {name}: made by notebooks/{name}.ipynb from the analysis cohort.\n", encoding="utf-8"
    )
    end = includes[-1].end()
    snakefile.write_text(text[:end] + f'include: "workflow/rules/exhibit_{name}.smk"\n' + text[end:], encoding="utf-8")
    return [rule_file, notebook, caption, snakefile]
