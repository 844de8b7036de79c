"""Validate a raw cohort export, apply the eligibility criteria and derive survival times.

Two raw layouts are accepted (``format``):

``"dates"`` (default)
    the hospital export of :data:`crlmflow.data.columns.RAW_COLUMNS`: admission, surgery,
    discharge, recurrence, death and last follow-up dates; times are derived here.
``"times"``
    a research-database layout: the non-date columns of ``RAW_COLUMNS`` plus
    :data:`TIME_COLUMNS` (``os_months``, ``os_event``, ``rfs_months``, ``rfs_event`` and,
    optionally, ``hospital_days``) instead of the six dates.

A user's column mapping (local name -> canonical name, see
:func:`crlmflow.data.reading.apply_column_mapping`) is applied before anything else, so every
message names the canonical column.

Validation (:func:`validate_raw`, implemented in :mod:`crlmflow.data.parsing`): every
problem is collected, then one :class:`~crlmflow.data.errors.InputError` lists them all —
absent or empty required columns, types, levels (case-insensitive), ranges, dates after
the data freeze, duplicate ids and date order. Each configured endpoint must have the
column its events come from, and at least one event among the included patients
(:mod:`crlmflow.data.events`).

A *missing* value (blank, or a configured missing-value code) in a required column is not
an input error: the patient is excluded as ``"missing required data"``. A missing last
follow-up of a patient with a date of death is not missing: the death ends follow-up.
Missing values in optional columns stay ``NA``.

Eligibility (:func:`clean`) in the order of :data:`crlmflow.data.columns.EXCLUSION_REASONS`,
each patient excluded once, with the first reason that applies:

1. ``"metachronous liver metastases"`` — metastasis_timing == "metachronous"
2. ``"extrahepatic metastases"`` — extrahepatic_metastases == 1
3. ``"NED not achieved"`` — ned_achieved == 0
4. ``"no systemic chemotherapy"`` — chemotherapy == "none"
5. ``"missing required data"`` — any required column missing
6. ``"missing predictor: <name>"`` — (``missing_predictors="complete_case"``) the first
   candidate predictor, in the order given, whose value is missing. With
   ``missing_predictors="error"`` such patients raise an InputError instead. With
   ``"multiple_imputation"`` they are kept: a blank in a candidate, or in a required column
   that only feeds a candidate (:data:`PREDICTOR_SOURCES`), is left ``NA`` for imputation
   and counted (flow ``"imputed"`` per column, ``"incomplete_kept"`` patients; quality
   column ``imputed``) instead of excluding the patient as "missing required data".

Derived columns: ``os_months`` = (death, else last follow-up) - surgery, in days / 30.4375,
``os_event`` = death present; ``rfs_months`` = (recurrence, else death, else last
follow-up) - surgery, ``rfs_event`` = recurrence present — with
``death_censors_rfs=False`` a death without recurrence is an RFS event at the death date;
with ``rfs_status=True`` also ``rfs_status`` (0 censored, 1 recurrence, 2 death without
recurrence: the competing-risk coding of R's ``Surv(type = "mstate")``).
With ``followup_cutoff`` (ISO date) events after the cutoff are ignored and follow-up is
censored at the cutoff; the flow records how many events that censored. ``hospital_days`` = discharge - admission (days); ``male`` =
sex == "M"; ``chemo_full_course``/``chemo_neoadjuvant_only``/``chemo_adjuvant_only``
0/1 indicators and ``chemo_group`` (the chemotherapy level as text).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crlmflow.data.columns import DAYS_PER_MONTH, EXCLUSION_REASONS
from crlmflow.data.errors import InputError, Problem, problems_from_mask
from crlmflow.data.events import absent_event_columns, check_events, event_sources, exclusion_bias
from crlmflow.data.missing import DEFAULT_MISSING_CODES
from crlmflow.data.parsing import DATE_COLUMNS, FORMATS, TIME_COLUMNS, Collector, parse_raw, raw_spec  # noqa: F401 - re-exported: the validation half of cleaning
from crlmflow.data.plausibility import plausibility_warnings
from crlmflow.data.quality import QualityLog
from crlmflow.data.reading import apply_column_mapping

#: Columns of the cleaned cohort (input of :func:`crlmflow.data.indices.derive_indices`).
CLEAN_COLUMNS: list[str] = [
    "patient_id",
    "male",
    "age",
    "bmi",
    "hospital_days",
    "r0_resection",
    "rfa",
    "ca19_9",
    "cea",
    "wbc",
    "neut",
    "lymph",
    "hgb",
    "plt",
    "alt",
    "ast",
    "tbil",
    "dbil",
    "alb",
    "d_dimer",
    "chemo_full_course",
    "chemo_neoadjuvant_only",
    "chemo_adjuvant_only",
    "chemo_group",
    "asa",
    "primary_node_positive",
    "metastasis_timing",
    "disease_free_interval_months",
    "n_liver_metastases",
    "largest_metastasis_cm",
    "kras",
    "primary_site",
    "laparoscopic",
    "os_months",
    "os_event",
    "rfs_months",
    "rfs_event",
]

MISSING_PREDICTOR_PREFIX = "missing predictor: "
MISSING_POLICIES = ("complete_case", "error", "multiple_imputation")
#: Required columns that only feed a candidate (itself, or the derived one named): under
#: multiple imputation a blank there is imputed in that candidate, not an exclusion.
PREDICTOR_SOURCES = {
    "male": ("sex",),
    "hospital_days": ("admission_date", "discharge_date"),
    "nlr": ("neut", "lymph"),
    "plr": ("plt", "lymph"),
    "sii": ("plt", "neut", "lymph"),
    "crs_score": (
        "cea",
        "primary_node_positive",
        "disease_free_interval_months",
        "n_liver_metastases",
        "largest_metastasis_cm",
    ),
}
_PER_CHECK_LIMIT = 1000


@dataclass
class CleanResult:
    """cohort: one row per included patient, columns :data:`CLEAN_COLUMNS`;
    exclusions: columns ``patient_id``, ``reason`` (input order);
    flow: ``{"read": n, "excluded": {reason: count}, "included": m}`` plus, when
    a follow-up cut-off applies, ``"censored_at_cutoff"`` and human-readable ``"notes"``;
    quality: the data-quality table (:mod:`crlmflow.data.quality`);
    warnings: plausibility and exclusion warnings (also issued as ``UserWarning``)."""

    cohort: pd.DataFrame
    exclusions: pd.DataFrame
    flow: dict
    quality: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list = field(default_factory=list)


def validate_raw(
    df: pd.DataFrame,
    source: str = "cohort.csv",
    *,
    format: str = "dates",
    followup_cutoff: str | None = None,
    missing_codes=DEFAULT_MISSING_CODES,
    freeze_date: str | None = None,
) -> None:
    """Raise one :class:`InputError` listing every problem of ``df`` (see :mod:`crlmflow.data.parsing`)."""
    _, col = parse_raw(df, source, format, followup_cutoff, missing_codes=missing_codes, freeze_date=freeze_date)
    col.raise_if_any()


def _candidate_names(candidates) -> list[str]:
    out = []
    for c in candidates or []:
        out.append(c["name"] if isinstance(c, dict) else str(c))
    return out


def clean(
    raw: pd.DataFrame,
    *,
    format: str = "dates",
    followup_cutoff: str | None = None,
    death_censors_rfs: bool = True,
    rfs_status: bool = False,
    source: str | None = None,
    column_mapping: dict[str, str] | None = None,
    candidates: Iterable[str | dict] | None = None,
    missing_predictors: str = "complete_case",
    endpoints: Mapping[str, Mapping] | None = None,
    missing_codes=DEFAULT_MISSING_CODES,
    freeze_date: str | None = None,
) -> CleanResult:
    """Validate ``raw``, apply eligibility and derive the analysis variables.

    ``raw``: as read by :func:`crlmflow.data.reading.read_table` (text) or already typed.
    ``candidates``: candidate predictor names (or the config's candidate dicts with a
    ``"name"``) for the missing-value policy; names that :func:`crlmflow.data.indices.derive_indices`
    computes from required columns (nlr, crs_score, ...) need no check.
    ``missing_predictors``: ``"complete_case"`` (exclude, reason ``"missing predictor: <name>"``)
    or ``"error"`` (raise an InputError listing the patients).
    ``endpoints``: the config's endpoints (``{name: {"event": ...}}``); when given, each
    must have its event columns and at least one event among the included patients.
    ``missing_codes``: cells read as missing (:mod:`crlmflow.data.missing`);
    ``freeze_date``: no date may lie after it (default today).
    ``rfs_status``: add the competing-risk status of recurrence, ``rfs_status`` (0 censored,
    1 recurrence, 2 death without recurrence, at ``rfs_months``), whatever
    ``death_censors_rfs`` says; it needs the ``dates`` layout.
    """
    from crlmflow.data.indices import DERIVED_COLUMNS

    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if missing_predictors not in MISSING_POLICIES:
        raise ValueError(f"missing_predictors must be one of {MISSING_POLICIES}, got {missing_predictors!r}")
    source = source or raw.attrs.get("source") or "cohort.csv"
    df = apply_column_mapping(raw, column_mapping, source) if column_mapping else raw
    if rfs_status and format != "dates":
        raise ValueError(
            f"data.rfs_status needs the 'dates' layout (recurrence and death dates), got format {format!r}"
        )
    if format == "times" and followup_cutoff is not None:
        warnings.warn("followup_cutoff is ignored for the 'times' format (no dates to censor)", stacklevel=2)
        followup_cutoff = None

    quality = QualityLog()
    typed, col = parse_raw(
        df, source, format, followup_cutoff, missing_codes=missing_codes, freeze_date=freeze_date, quality=quality
    )
    spec = raw_spec(format)
    sources = event_sources(endpoints or {}, format, death_censors_rfs)
    optional_sources = {
        k: (e, [c for c in cols if not spec.get(c, {}).get("required")]) for k, (e, cols) in sources.items()
    }
    col.add(absent_event_columns(typed, df.columns, optional_sources, source, spec))
    col.raise_if_any()
    n = len(typed)

    reason = pd.Series([None] * n, index=typed.index, dtype=object)

    def exclude(mask: pd.Series, why: str):
        m = mask.fillna(False).astype(bool) & reason.isna()
        reason[m] = why

    exclude(typed["metastasis_timing"] == "metachronous", EXCLUSION_REASONS[0])
    exclude(typed["extrahepatic_metastases"] == 1, EXCLUSION_REASONS[1])
    exclude(typed["ned_achieved"] == 0, EXCLUSION_REASONS[2])
    exclude(typed["chemotherapy"] == "none", EXCLUSION_REASONS[3])
    required = [c for c, s in spec.items() if s["required"]]
    if missing_predictors == "multiple_imputation":
        feeds = {c for n in _candidate_names(candidates) for c in PREDICTOR_SOURCES.get(n, (n,))}
        required = [c for c in required if c not in feeds]
    lacking = typed[required].isna()
    if format == "dates" and "death_date" in typed:
        # Registries often fill the last follow-up only for living patients: a death is follow-up.
        filled = lacking["last_followup_date"] & typed["death_date"].notna()
        lacking.loc[filled, "last_followup_date"] = False
        quality.count("last_followup_date", "filled", filled.sum())
    missing_data = lacking.any(axis=1)
    exclude(missing_data, EXCLUSION_REASONS[4])

    cohort = _derive(typed, format, followup_cutoff, death_censors_rfs, rfs_status)

    # ---- missing-value policy for candidate predictors
    names = _candidate_names(candidates)
    unknown = [c for c in names if c not in cohort.columns and c not in DERIVED_COLUMNS]
    if unknown:
        raise ValueError(
            "unknown candidate predictor(s) "
            + ", ".join(repr(c) for c in unknown)
            + "; expected columns of the cleaned cohort or of derive_indices"
        )
    predictor_reasons: list[str] = []
    imputed: dict[str, int] = {}
    errs = Collector()
    for c in names:
        if c not in cohort.columns:
            continue
        miss = cohort[c].isna() & reason.isna()
        if not miss.any():
            continue
        if missing_predictors == "multiple_imputation":
            imputed[c] = int(miss.sum())
            quality.count(c, "imputed", miss.sum())
            continue
        if missing_predictors == "error":
            probs, k = problems_from_mask(
                df,
                miss,
                file=source,
                column=c,
                ids=typed["patient_id"],
                expected=(
                    f"a value: '{c}' is a candidate predictor and missing_predictors is 'error' "
                    "(use 'complete_case' to exclude such patients)"
                ),
                values=pd.Series("", index=df.index),
                limit=_PER_CHECK_LIMIT,
            )
            errs.add(probs, k)
        else:
            why = MISSING_PREDICTOR_PREFIX + c
            predictor_reasons.append(why)
            exclude(miss, why)
    errs.raise_if_any()

    included, exclusions, flow = account_exclusions(
        typed["patient_id"],
        reason,
        [*EXCLUSION_REASONS, *predictor_reasons],
        source,
        "eligible patient (check the eligibility columns and the column mapping)",
    )
    kept = cohort.loc[included]
    if missing_predictors == "multiple_imputation":
        record_imputed(flow, imputed, kept[[c for c in names if c in kept]].isna().any(axis=1).sum())
    found = check_events(kept, sources, source)
    if found:
        raise InputError(found)
    notes = _events_and_cutoff(
        typed, kept, included, sources, format, followup_cutoff, death_censors_rfs, quality, flow
    )
    for why in exclusion_bias(
        cohort[[e for e, _ in sources.values() if e in cohort]],
        reason.isin([EXCLUSION_REASONS[4], *predictor_reasons]),
        included,
    ):
        quality.warn(None, why, section="file")
    for column, text in plausibility_warnings(typed, spec):
        quality.warn(column, text)
    if notes:
        flow["notes"] = notes
    result_warnings = quality.warnings
    for w in result_warnings:
        warnings.warn(w, UserWarning, stacklevel=2)
    return CleanResult(
        cohort=kept.reset_index(drop=True),
        exclusions=exclusions,
        flow=flow,
        quality=quality.table(),
        warnings=result_warnings,
    )


def _events_and_cutoff(
    typed, kept, included, sources, format, followup_cutoff, death_censors_rfs, quality: QualityLog, flow: dict
) -> list[str]:
    """Events per endpoint, and the events a follow-up cut-off censored, into quality and flow."""
    notes = []
    censored = {}
    if format == "dates" and followup_cutoff is not None:
        cut = pd.Timestamp(followup_cutoff)
        death = typed["death_date"] if "death_date" in typed else pd.Series(pd.NaT, index=typed.index)
        rec = typed["recurrence_date"] if "recurrence_date" in typed else pd.Series(pd.NaT, index=typed.index)
        late_death = (death > cut)[included]
        late_rec = (rec > cut)[included]
        censored = {
            "os_event": int(late_death.sum()),
            "rfs_event": int(
                (late_rec | (late_death & rec.isna()[included])).sum() if not death_censors_rfs else late_rec.sum()
            ),
        }
        flow["censored_at_cutoff"] = {
            "date": f"{cut:%Y-%m-%d}",
            "deaths": int(late_death.sum()),
            "recurrences": int(late_rec.sum()),
        }
        notes.append(
            f"administratively censored at {cut:%Y-%m-%d} (data.followup_cutoff): "
            f"{int(late_death.sum())} deaths and {int(late_rec.sum())} recurrences after that date "
            "are not counted as events"
        )
        if late_death.any() or late_rec.any():
            quality.warn(
                None, notes[-1] + "; if this cut-off is not your study's, set data.followup_cutoff", section="file"
            )
    for name, (event, _) in sources.items():
        if event not in kept:
            continue
        quality.count(name, "events", pd.to_numeric(kept[event], errors="coerce").fillna(0).sum(), section="endpoint")
        if event in censored:
            quality.count(name, "censored_at_cutoff", censored[event], section="endpoint")
    return notes


def account_exclusions(
    ids: pd.Series, reason: pd.Series, reasons: Sequence[str], source: str, expected: str
) -> tuple[pd.Series, pd.DataFrame, dict]:
    """Row accounting: (included mask, exclusion list, flow) with read = included + excluded.

    ``reason`` holds each patient's first exclusion reason (None = included); every reason
    in ``reasons`` is counted, zero counts included. Raises if nobody is left.
    """
    included = reason.isna()
    counts = reason.value_counts()
    excluded = {r: int(counts.get(r, 0)) for r in reasons}
    n = int(len(reason))
    flow = {"read": n, "excluded": excluded, "included": int(included.sum())}
    assert flow["read"] == flow["included"] + sum(excluded.values()), flow
    if flow["included"] == 0:
        parts = ", ".join(f"{r}: {k}" for r, k in excluded.items() if k)
        raise InputError(
            Problem(
                source, None, None, None, f"all {n} patients were excluded ({parts}); expected at least one {expected}"
            )
        )
    exclusions = pd.DataFrame({"patient_id": ids[~included].to_numpy(), "reason": reason[~included].to_numpy()})
    return included, exclusions, flow


def record_imputed(flow: dict, imputed: dict, incomplete: int) -> None:
    """Flow entries of multiple imputation: values to impute per column, patients kept."""
    flow["imputed"] = {c: int(k) for c, k in imputed.items()}
    flow["incomplete_kept"] = int(incomplete)


def clean_times(raw: pd.DataFrame, **kwargs) -> CleanResult:
    """:func:`clean` for the ``times`` layout (os/rfs months and events instead of dates)."""
    return clean(raw, format="times", **kwargs)


def _int_col(s: pd.Series) -> pd.Series:
    """0/1 or whole-number floats -> int64, or nullable Int64 if any value is missing."""
    if s.isna().any():
        return s.round().astype("Int64")
    return s.round().astype("int64")


def _derive(t: pd.DataFrame, format: str, followup_cutoff, death_censors_rfs: bool, rfs_status=False) -> pd.DataFrame:
    out = pd.DataFrame(index=t.index)
    out["patient_id"] = t["patient_id"].astype(object)
    out["male"] = _int_col((t["sex"] == "M").astype(float).where(t["sex"].notna()))
    for c in ("age", "bmi"):
        out[c] = t[c]
    if format == "dates":
        out["hospital_days"] = _days(t["discharge_date"] - t["admission_date"])
    else:
        out["hospital_days"] = t["hospital_days"] if "hospital_days" in t else np.nan
    for c in ("r0_resection", "rfa"):
        out[c] = _int_col(t[c])
    for c in ("ca19_9", "cea", "wbc", "neut", "lymph", "hgb", "plt", "alt", "ast", "tbil", "dbil", "alb", "d_dimer"):
        out[c] = t[c]
    chemo = t["chemotherapy"]
    for level in ("full_course", "neoadjuvant_only", "adjuvant_only"):
        out[f"chemo_{level}"] = _int_col((chemo == level).astype(float).where(chemo.notna()))
    out["chemo_group"] = chemo.astype(object)
    out["asa"] = _int_col(t["asa"])
    out["primary_node_positive"] = _int_col(t["primary_node_positive"])
    out["metastasis_timing"] = t["metastasis_timing"].astype(object)
    out["disease_free_interval_months"] = t["disease_free_interval_months"]
    out["n_liver_metastases"] = _int_col(t["n_liver_metastases"])
    out["largest_metastasis_cm"] = t["largest_metastasis_cm"]
    for c in ("kras", "primary_site"):
        out[c] = t[c].astype(object) if c in t else pd.Series(pd.NA, index=t.index, dtype=object)
    out["laparoscopic"] = (
        _int_col(t["laparoscopic"]) if "laparoscopic" in t else pd.Series(pd.NA, index=t.index, dtype="Int64")
    )

    if format == "dates":
        surgery = t["surgery_date"]
        death = t["death_date"] if "death_date" in t else pd.Series(pd.NaT, index=t.index)
        rec = t["recurrence_date"] if "recurrence_date" in t else pd.Series(pd.NaT, index=t.index)
        lfu = t["last_followup_date"].fillna(death)
        if followup_cutoff is not None:
            cut = pd.Timestamp(followup_cutoff)
            death = death.where(death <= cut)
            rec = rec.where(rec <= cut)
            lfu = lfu.where(lfu.isna() | (lfu <= cut), cut)
        os_end = death.where(death.notna(), lfu)
        os_event = death.notna()
        rfs_end = rec.where(rec.notna(), death.where(death.notna(), lfu))
        rfs_event = rec.notna() if death_censors_rfs else (rec.notna() | death.notna())
        known_os = surgery.notna() & lfu.notna()
        out["os_months"] = _days(os_end - surgery) / DAYS_PER_MONTH
        out["os_event"] = _int_col(os_event.astype(float).where(known_os))
        out["rfs_months"] = _days(rfs_end - surgery) / DAYS_PER_MONTH
        out["rfs_event"] = _int_col(rfs_event.astype(float).where(known_os))
        # competing-risk status at rfs_months: 1 recurrence, 2 death without recurrence
        status = np.where(rec.notna(), 1.0, np.where(death.notna(), 2.0, 0.0))
        out["rfs_status"] = _int_col(pd.Series(status, index=t.index).where(known_os))
    else:
        out["os_months"] = t["os_months"]
        out["os_event"] = _int_col(t["os_event"])
        out["rfs_months"] = t["rfs_months"]
        out["rfs_event"] = _int_col(t["rfs_event"])
    for c in ("age", "bmi", "hospital_days", "os_months", "rfs_months"):
        out[c] = out[c].astype("float64")
    return out[CLEAN_COLUMNS + (["rfs_status"] if rfs_status else [])]


def _days(delta: pd.Series) -> pd.Series:
    return (delta / pd.Timedelta(days=1)).astype("float64")
