"""From a configured cohort file to the analysis cohort with its train/validation sets.

Glue between the config and the data modules (``io``, ``cleaning``, ``split``), shared by
the scripts of the data rules and by the tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from crlmflow.data.cleaning import CleanResult, clean
from crlmflow.data.errors import InputError, Problem
from crlmflow.data.generic import clean_generic
from crlmflow.data.missing import check_codes
from crlmflow.data.reading import apply_column_mapping, read_table
from crlmflow.data.recoding import apply_recoding
from crlmflow.data.split import TRAIN, VALIDATION, train_validation_split
from crlmflow.data.units import check_units, convert_units, explain_converted

# Text columns of the analysis cohort; every other column is numeric.
_TEXT_COLUMNS = {
    "patient_id": str,
    "chemo_group": str,
    "kras": str,
    "primary_site": str,
    "set": str,
    "cohort": str,
    "metastasis_timing": str,
}


def clean_cohort_file(path, *, config_key: str = "data.file", **kwargs) -> CleanResult:
    """:func:`_clean_cohort_file` with every message naming the cohort's own config block
    (``config_key``: ``data.file`` or ``external.file``, so that an external cohort's user
    is told to edit ``external.file.columns``, not ``data.file.columns``)."""
    try:
        return _clean_cohort_file(path, **kwargs)
    except InputError as err:
        raise _name_block(err, config_key) from None


def _clean_cohort_file(
    path,
    *,
    file_options: dict,
    source: str,
    data_options: dict,
    candidates: list,
    endpoints: dict | None = None,
    keep=(),
    units_key: str = "data.file.units",
    candidates_required: bool = True,
) -> CleanResult:
    """Read a raw cohort (CSV or .xlsx), map its columns, convert declared units, validate and clean it.

    ``format`` ``dates``/``times`` follow the CRLM column contract; ``generic`` validates
    only the identifier, the endpoints' columns and the candidates declared in the config
    (with ``candidates_required=False``, for an external cohort, only those of its file).
    ``file_options["units"]`` (canonical column -> unit of the file, see
    :mod:`crlmflow.data.units`) is applied after the column mapping and before validation;
    ``units_key`` is the config key named in messages about it.
    ``file_options["missing_codes"]`` (default :data:`crlmflow.data.missing.DEFAULT_MISSING_CODES`)
    and ``file_options["freeze_date"]`` (default today) are the file's missing-value codes
    and data freeze. The result's ``quality`` table counts the converted cells too.
    """
    is_file = source == "file"
    fmt = file_options.get("format", "dates") if is_file else "dates"
    name = Path(path).name
    units = (file_options.get("units") or None) if is_file else None
    check_units(units, units_key)  # a config error: report it before reading the file
    codes = check_codes(
        file_options.get("missing_codes") if is_file else None, units_key.replace(".units", ".missing_codes")
    )
    freeze = file_options.get("freeze_date") if is_file else None
    raw = read_table(path, sheet=file_options.get("sheet") if is_file else None, missing_codes=())
    mapping = (file_options.get("columns") or None) if is_file else None
    mapped = apply_column_mapping(raw, mapping, name)
    converted = convert_units(mapped, units, name, key=units_key)
    # the config's value maps and bins (messages say data.file; clean_cohort_file renames)
    converted = apply_recoding(converted, file_options.get("recode"), file_options.get("bins"), name)
    try:
        if fmt == "generic":
            result = clean_generic(
                converted,
                endpoints=endpoints,
                candidates=candidates,
                source=name,
                keep=[k for k in keep if k],
                missing_codes=codes,
                missing_predictors=data_options.get("missing_predictors", "complete_case"),
                candidates_required=candidates_required,
            )
        else:
            result = clean(
                converted,
                format=fmt,
                followup_cutoff=data_options.get("followup_cutoff") if fmt == "dates" else None,
                death_censors_rfs=data_options.get("death_censors_rfs", True),
                rfs_status=data_options.get("rfs_status", False),
                source=name,
                column_mapping=None,  # applied above, before the unit conversion
                candidates=candidates,
                missing_predictors=data_options.get("missing_predictors", "complete_case"),
                endpoints=endpoints,
                missing_codes=codes,
                freeze_date=freeze,
            )
    except InputError as err:
        explained = explain_converted(err, mapped, converted, units_key)
        if explained is err:
            raise
        raise explained from None
    counts = converted.attrs.get("converted_cells") or {}
    if counts and not result.quality.empty:
        q = result.quality
        for c, k in counts.items():
            q.loc[(q["section"] == "column") & (q["name"] == c), "converted"] = k
    return result


def _name_block(err: InputError, config_key: str) -> InputError:
    """The error with its hints naming the config block of this cohort's file: the checks
    are shared by both cohorts and write ``data.file.<key>``."""
    if config_key == "data.file":
        return err
    problems = [
        dataclasses.replace(p, expected=str(p.expected).replace("data.file.", f"{config_key}."))
        if p.expected is not None
        else p
        for p in err.problems
    ]
    return InputError(problems, total=err.total, max_lines=err.max_lines)


def check_external_predictors(cohort: pd.DataFrame, predictors: Sequence[str], source: str) -> None:
    """Raise an :class:`InputError` naming the external file ``source`` and the key
    ``external.file.columns`` when a predictor of the frozen model has no value in any
    external patient: the file lacks the column (an external cohort may lack the
    candidates the model does not use; complete-case cleaning leaves no partly missing one)."""
    ext = cohort[cohort["cohort"] == "external"] if "cohort" in cohort else cohort.iloc[:0]
    if ext.empty:
        return
    lacking = [p for p in predictors if p not in ext or ext[p].isna().all()]
    if lacking:
        raise InputError(
            [
                Problem(
                    source,
                    None,
                    p,
                    None,
                    f"column '{p}': a predictor of the frozen model, so the external cohort must "
                    "record it (map its local name with external.file.columns, or recode it with "
                    "external.file.recode / external.file.bins)",
                )
                for p in lacking
            ]
        )


def read_cohort_csv(path) -> pd.DataFrame:
    """Read a cohort CSV written by the workflow, with identifiers kept as text."""
    header = pd.read_csv(path, nrows=0).columns
    dtypes = {c: t for c, t in _TEXT_COLUMNS.items() if c in header}
    return pd.read_csv(path, dtype=dtypes, keep_default_na=True)


def assign_sets(
    cohorts: dict[str, pd.DataFrame], split: dict, seed: int, event_columns: Sequence[str] = ()
) -> tuple[pd.DataFrame, dict]:
    """Label every patient ``train`` or ``validation`` by the configured split method.

    The summary counts the events of each of ``event_columns`` (the configured endpoints'
    event columns, whatever their names) by set.

    ``random``: the paper's seeded, stratified split of the development cohort;
    ``none``: every development patient trains (validation by bootstrap only);
    ``external``: the development cohort trains, the external cohort validates.
    """
    method = split["method"]
    dev = cohorts["development"].copy()
    dev.insert(1, "cohort", "development")
    if method == "random":
        dev.insert(
            2,
            "set",
            train_validation_split(
                dev, train_fraction=split["train_fraction"], seed=seed, stratify=split.get("stratify")
            ).to_numpy(),
        )
        combined = dev
    elif method == "none":
        dev.insert(2, "set", TRAIN)
        combined = dev
    elif method == "external":
        ext = cohorts["external"].copy()
        ext.insert(1, "cohort", "external")
        dev.insert(2, "set", TRAIN)
        ext.insert(2, "set", VALIDATION)
        clash = sorted(set(dev["patient_id"].astype(str)) & set(ext["patient_id"].astype(str)))
        if clash:
            # Every per-patient output (predictions, points, risk groups) is keyed by the
            # identifier, so a shared one would mix two patients; rewriting it silently would
            # hide that the files may hold the same patient twice.
            shown = ", ".join(clash[:10]) + (f" and {len(clash) - 10} more" if len(clash) > 10 else "")
            raise ValueError(
                f"{len(clash)} patient_id value(s) occur in both the development and the external "
                f"cohort: {shown}. Identifiers must be unique across the two cohorts: if they are "
                "different patients, give one centre's identifiers a prefix in its file (e.g. "
                "'EXT-'); if they are the same patients, remove them from the external cohort."
            )
        combined = pd.concat([dev, ext], ignore_index=True)
    else:
        raise ValueError(f"unknown split method {method!r}")
    summary = {
        "method": method,
        "seed": seed,
        "train_fraction": split.get("train_fraction") if method == "random" else None,
        "stratify": split.get("stratify") if method == "random" else None,
        "n": {s: int((combined["set"] == s).sum()) for s in (TRAIN, VALIDATION)},
    }
    for col in event_columns:
        if col in combined:
            summary[f"{col}_by_set"] = {
                s: int(combined.loc[combined["set"] == s, col].sum()) for s in (TRAIN, VALIDATION)
            }
    return combined, summary


def complete_case_subset(combined: pd.DataFrame, candidates: Sequence[str]) -> tuple[pd.DataFrame, dict]:
    """The patients with every candidate recorded, and their count by set.

    Under ``data.missing_predictors: multiple_imputation`` the analysis cohort keeps the
    incomplete patients for the imputed analysis; the paper's single-model outputs
    (nomogram, calculator, validation exhibits) are fitted on these complete cases, and
    the summary says how many patients that leaves out of each set.
    """
    names = [c for c in candidates if c in combined]
    complete = combined[names].notna().all(axis=1)
    sets = combined["set"] if "set" in combined else pd.Series(TRAIN, index=combined.index)
    summary = {
        "candidates_checked": len(names),
        "n": {s: int((complete & (sets == s)).sum()) for s in (TRAIN, VALIDATION)},
        "incomplete_by_set": {s: int((~complete & (sets == s)).sum()) for s in (TRAIN, VALIDATION)},
    }
    return combined[complete].reset_index(drop=True), summary
