"""Rule split: seeded 7:3 train/validation split (or none, or an external cohort)."""

from crlmflow.data.cohort import assign_sets, complete_case_subset, read_cohort_csv
from crlmflow.data.io import atomic_write_csv, atomic_write_json
from crlmflow.data.landmark import landmark_cohort
from crlmflow.pipeline.snakeio import logged

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    cohorts = {name: read_cohort_csv(path) for name, path in zip(snakemake.params.cohorts, snakemake.input.cohorts)}
    landmarks = {}
    split = snakemake.params.split
    if split.get("landmark") is not None:
        # predict from the landmark: the patients event-free and followed at it, time from it
        for name in list(cohorts):
            cohorts[name], landmarks[name] = landmark_cohort(cohorts[name], split["landmark"], split["endpoints"])
    combined, summary = assign_sets(
        cohorts, split, seed=snakemake.params.seed, event_columns=snakemake.params.event_columns
    )
    if landmarks:
        summary["landmark"] = landmarks
    if split.get("complete_case"):
        # multiple imputation: everyone for the imputed analysis, complete cases for the
        # paper's single-model chain (counted in the summary, shown in the flow chart)
        atomic_write_csv(combined, snakemake.output.incomplete)
        combined, summary["complete_case"] = complete_case_subset(combined, split["complete_case"])
    atomic_write_csv(combined, snakemake.output.cohort)
    atomic_write_json(snakemake.output.summary, summary)
    log.info("split %s", summary)
