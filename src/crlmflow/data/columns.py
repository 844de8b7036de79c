"""The column contract between the raw hospital export and the analysis-ready cohort.

The synthetic generator (``simulate``) writes exactly ``RAW_COLUMNS``; cleaning
(``cleaning``) validates a raw file against them. The data dictionary in
``config/README.md`` documents the same table for users who bring their own cohort.

Each entry: ``dtype`` is one of ``str``, ``int``, ``float``, ``date`` (ISO ``YYYY-MM-DD``),
``binary`` (0/1) or ``category``; ``unit``; ``required`` (a missing value excludes the
patient as "missing required data" rather than failing); ``range`` (inclusive plausible
bounds for numbers; a value outside is an input error) or ``levels`` (allowed categories);
``role`` says how it enters the analysis.
"""

from __future__ import annotations

RAW_COLUMNS: dict[str, dict] = {
    "patient_id": dict(dtype="str", unit="", required=True, role="identifier, unique"),
    "sex": dict(dtype="category", levels=["F", "M"], unit="", required=True, role="candidate (male)"),
    "age": dict(dtype="float", unit="years", range=(18, 100), required=True, role="candidate"),
    "bmi": dict(dtype="float", unit="kg/m^2", range=(10, 60), required=True, role="candidate"),
    "admission_date": dict(dtype="date", unit="", required=True, role="hospital days"),
    "surgery_date": dict(dtype="date", unit="", required=True, role="time origin of OS and RFS"),
    "discharge_date": dict(dtype="date", unit="", required=True, role="hospital days"),
    "recurrence_date": dict(dtype="date", unit="", required=False, role="RFS event (empty = no recurrence)"),
    "death_date": dict(dtype="date", unit="", required=False, role="OS event (empty = alive)"),
    "last_followup_date": dict(dtype="date", unit="", required=True, role="censoring date"),
    "ca19_9": dict(dtype="float", unit="U/mL", range=(0, 100000), required=True, role="candidate"),
    "cea": dict(dtype="float", unit="ng/mL", range=(0, 100000), required=True, role="candidate; CRS item CEA > 200"),
    "wbc": dict(dtype="float", unit="10^9/L", range=(0.1, 100), required=True, role="candidate"),
    "neut": dict(dtype="float", unit="10^9/L", range=(0.01, 100), required=True, role="candidate; NLR, SII"),
    "lymph": dict(dtype="float", unit="10^9/L", range=(0.01, 50), required=True, role="candidate; NLR, PLR, SII"),
    "hgb": dict(dtype="float", unit="g/L", range=(30, 250), required=True, role="candidate"),
    "plt": dict(dtype="float", unit="10^9/L", range=(5, 2000), required=True, role="candidate; PLR, SII"),
    "alt": dict(dtype="float", unit="U/L", range=(0, 5000), required=True, role="candidate"),
    "ast": dict(dtype="float", unit="U/L", range=(0, 5000), required=True, role="candidate"),
    "tbil": dict(dtype="float", unit="umol/L", range=(0, 1000), required=True, role="candidate"),
    "dbil": dict(dtype="float", unit="umol/L", range=(0, 1000), required=True, role="candidate"),
    "alb": dict(dtype="float", unit="g/L", range=(10, 70), required=True, role="candidate"),
    "d_dimer": dict(dtype="float", unit="mg/L", range=(0, 100), required=True, role="candidate"),
    "r0_resection": dict(dtype="binary", unit="", required=True, role="candidate"),
    "rfa": dict(dtype="binary", unit="", required=True, role="candidate (intra-operative RFA)"),
    "chemotherapy": dict(
        dtype="category",
        levels=["full_course", "neoadjuvant_only", "adjuvant_only", "none"],
        unit="",
        required=True,
        role="eligibility (none = excluded); chemo_* indicators",
    ),
    "asa": dict(dtype="int", levels=[1, 2, 3, 4], unit="", required=True, role="candidate"),
    "primary_node_positive": dict(dtype="binary", unit="", required=True, role="CRS item 1"),
    "metastasis_timing": dict(
        dtype="category",
        levels=["synchronous", "metachronous"],
        unit="",
        required=True,
        role="eligibility (metachronous = excluded); CRS item 2",
    ),
    "disease_free_interval_months": dict(
        dtype="float",
        unit="months",
        range=(0, 600),
        required=True,
        role="CRS item 2 (0 for synchronous)",
    ),
    "n_liver_metastases": dict(dtype="int", unit="", range=(1, 100), required=True, role="CRS item 3 (> 1)"),
    "largest_metastasis_cm": dict(dtype="float", unit="cm", range=(0.1, 40), required=True, role="CRS item 5 (> 5 cm)"),
    "extrahepatic_metastases": dict(dtype="binary", unit="", required=True, role="eligibility (1 = excluded)"),
    "ned_achieved": dict(dtype="binary", unit="", required=True, role="eligibility (0 = excluded)"),
    "kras": dict(dtype="category", levels=["mutant", "wild_type"], unit="", required=False, role="supplementary KM"),
    "primary_site": dict(dtype="category", levels=["colon", "rectum"], unit="", required=False, role="descriptive"),
    "laparoscopic": dict(dtype="binary", unit="", required=False, role="descriptive"),
}

# Analysis-ready cohort written by the clean/derive_indices rules. Names follow the R
# reference fixture (crlm_synth_a.csv) so the same candidate list serves both.
ANALYSIS_COLUMNS: list[str] = [
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
    "nlr",
    "plr",
    "sii",
    "chemo_full_course",
    "chemo_neoadjuvant_only",
    "chemo_adjuvant_only",
    "chemo_group",
    "asa",
    "crs_node_positive",
    "crs_dfi_le_12_or_synchronous",
    "crs_multiple_metastases",
    "crs_cea_gt_200",
    "crs_largest_gt_5cm",
    "crs_score",
    "crs_high",
    "kras",
    "primary_site",
    "laparoscopic",
    "os_months",
    "os_event",
    "rfs_months",
    "rfs_event",
]

# Days per month, as in the R reference (days / 30.4375).
DAYS_PER_MONTH = 30.4375

EXCLUSION_REASONS: list[str] = [
    "metachronous liver metastases",
    "extrahepatic metastases",
    "NED not achieved",
    "no systemic chemotherapy",
    "missing required data",
]
