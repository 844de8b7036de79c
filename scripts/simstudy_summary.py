"""Rule simstudy_summary: gather the batches; the paper's procedure's selection, bias, coverage
and C-error tables, and the method comparison of every arm."""

import pandas as pd

from crlmflow.data.io import atomic_write_csv, atomic_write_text
from crlmflow.pipeline.snakeio import logged
from crlmflow.simulation.arms import arms_named
from crlmflow.simulation.methods import methods_markdown, summarise_methods, summarise_methods_predictors
from crlmflow.simulation.performance import report_markdown, summarise
from crlmflow.simulation.study import PAPER_ARM

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    parts = [pd.read_csv(f, keep_default_na=True) for f in snakemake.input.batches]
    reps = pd.concat(parts, ignore_index=True)
    order = {a: i for i, a in enumerate(p.settings["arms"])}
    reps = reps.assign(_arm=reps["arm"].map(order))
    reps = reps.sort_values(["rep", "_arm"], kind="stable", ignore_index=True).drop(columns="_arm")
    found = sorted(reps["rep"].unique().tolist())
    if found != list(range(p.settings["replicates"])):
        raise RuntimeError(f"expected replicates 0..{p.settings['replicates'] - 1}, found {len(found)}")
    reference = pd.read_csv(snakemake.input.reference)
    paper = reps[reps["arm"] == PAPER_ARM]
    out = snakemake.output
    atomic_write_csv(reps, out.replicates)
    md = ""
    if len(paper):
        tables = summarise(paper, reference)
        atomic_write_csv(tables["predictors"], out.predictors)
        atomic_write_csv(tables["models"], out.models)
        atomic_write_csv(tables["c_index"], out.c_index)
        md = report_markdown(tables, p.settings)
    else:  # the paper's arm not run: its tables say so instead of being silently empty
        for f in (out.predictors, out.models, out.c_index):
            atomic_write_csv(pd.DataFrame({"note": [f"arm {PAPER_ARM!r} not in simulation_study.arms"]}), f)
    methods = summarise_methods(reps, reference, p.settings["target_mcse"])
    atomic_write_csv(methods, out.methods)
    atomic_write_csv(summarise_methods_predictors(reps, reference), out.methods_predictors)
    labels = {a.name: a.label for a in arms_named(p.settings["arms"])}
    scenario = p.settings.get("scenario")  # absent for the default mechanism
    head = (
        f"Scenario **{scenario['name']}**: true-model override {scenario['effects']}, n_eligible {scenario['n_eligible']}.\n\n"
        if scenario
        else ""
    )
    atomic_write_text(out.md, head + md + "\n" + methods_markdown(methods, labels, p.settings))
    log.info("%d replicates of %d arms summarised", len(found), reps["arm"].nunique())
