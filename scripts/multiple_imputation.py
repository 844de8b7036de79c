"""Rule multiple_imputation: the paper's procedure across m imputed training sets
(majority rule, Rubin's rules, pooled C with the optimism bootstrap within imputations)."""

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv
from crlmflow.model.imputed import fit_with_multiple_imputation
from crlmflow.pipeline.options import ImputationOptions, SelectionOptions
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    opts = ImputationOptions(**p.imputation)
    sel = SelectionOptions(**p.selection)
    cohort = read_cohort_csv(snakemake.input.cohort)
    train = cohort[cohort["set"] == "train"].reset_index(drop=True)
    res = fit_with_multiple_imputation(
        train,
        p.candidates,
        p.endpoint["time"],
        p.endpoint["event"],
        seed=p.seed,
        endpoint_index=p.endpoint_index,
        m=opts.m,
        max_iter=opts.max_iter,
        screen_p=sel.screen_p,
        exclude=p.exclude,
        method=sel.method,
        entry_p=sel.entry_p,
        removal_p=sel.removal_p,
        entry_test=sel.entry_test,
        bootstrap_B=opts.bootstrap_B,
        threshold=opts.majority,
        bootstrap_order=opts.bootstrap_order,
    )
    pooled = res.pooled.rename_axis("term").reset_index()
    atomic_write_csv(pooled, snakemake.output.pooled)
    atomic_write_csv(res.selection, snakemake.output.selection)
    atomic_write_csv(res.performance, snakemake.output.performance)
    atomic_write_csv(res.per_imputation, snakemake.output.per_imputation)
    atomic_write_csv(res.imputed, snakemake.output.imputed)
    log.info("m = %d imputations; final terms (majority rule): %s", res.m, res.terms)
