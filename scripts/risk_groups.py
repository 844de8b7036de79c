"""Rule risk_groups: maximally selected log-rank cut-off of total points, applied to both sets."""

import pandas as pd

from crlmflow.data.cohort import read_cohort_csv
from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.model.riskgroups import risk_groups
from crlmflow.pipeline.provenance import figure_lineage
from crlmflow.pipeline.snakeio import logged
from crlmflow.pipeline.streams import stream
from crlmflow.report.plots import plot_cutpoint, save_figure
from crlmflow.report.plots.km import KM_COLORS

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    cohort = read_cohort_csv(snakemake.input.cohort)
    points = pd.read_csv(snakemake.input.points, dtype={"patient_id": str})
    data = cohort.merge(points[["patient_id", "total_points"]], on="patient_id", validate="one_to_one")
    # the endpoint's position in the config keys its permutation stream, as for the bootstrap
    endpoint_index = list(snakemake.config["endpoints"]).index(snakemake.wildcards.endpoint)
    result, groups, fig_inputs = risk_groups(
        data,
        p.endpoint["time"],
        p.endpoint["event"],
        minprop=p.minprop,
        n_perm=p.n_perm,
        seed=p.seed,
        rng=stream(p.seed, "cutpoint_permutation", endpoint_index),
        bootstrap_B=p.bootstrap_B,
        endpoint_index=endpoint_index,
    )
    atomic_write_json(snakemake.output.cutpoint, result)
    atomic_write_csv(groups, snakemake.output.groups)
    fig = plot_cutpoint(
        fig_inputs["cutpoint"],
        fig_inputs["marker"],
        xlabel="Total points",
        p_value=None,  # the score was fitted to these patients: no honest p to print
        # the paper's Supplementary Figures 3 (OS) and 4 (RFS), in the config's endpoint order
        title=f"Supplementary Figure {3 + endpoint_index}\nOptimal cut-off: {p.endpoint['label']}",
        cut_digits=0,
        cut_unit="points",
        group_colors=(KM_COLORS[1], KM_COLORS[0]),  # Figure 4's low- and high-risk colours
    )
    save_figure(fig, snakemake.output.figure_pdf[: -len(".pdf")], metadata=figure_lineage(snakemake))
    log.info(
        "%s cut-off %.4g points; sizes %s", snakemake.wildcards.endpoint, result["total_points"], result["group_sizes"]
    )
