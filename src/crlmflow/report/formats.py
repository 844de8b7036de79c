"""Labels and number formats: the one home of every convention the exhibits print.

Tables, figures, notebooks and the calculator page all spell a set, a horizon, a hazard
ratio, a p-value and a unit through these functions, so one exhibit never disagrees with
another. The conventions follow the paper (Xue et al., BMC Cancer 2025):

* sets: 'Training set', 'Validation set', 'All patients';
* horizons: '1-year' for whole years, '18-month' otherwise;
* hazard ratios: Table 2's '1.050 (1.018, 1.084)', three decimals, comma-separated CI;
* p-values: '<0.001', else three decimals (the paper's tables); Kaplan–Meier figures use
  survminer's 'p < 0.0001' / two significant digits (``style="survminer"``), as the
  paper's ggsurvplot panels do;
* units: typographic symbols (kg/m², 10⁹/L, µmol/L, U/mL) for the ASCII spellings
  configs and data dictionaries use.

``horizon_key`` is not a display format but the one spelling of a horizon inside keys and
column names (``surv_12``, ``baseline_survival_at_means['12']``), shared with the model,
validation and app stages. This module imports nothing heavier than the standard library
so those stages can use it freely.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = [
    "APPARENT",
    "CORRECTED",
    "DESCRIPTIVE",
    "NOT_ELIGIBLE",
    "NOT_ESTIMABLE",
    "not_estimable_label",
    "HR_DIGITS",
    "NOT_AVAILABLE",
    "NOT_REACHED",
    "SIMULATED_NOTE",
    "SIMULATED_TAG",
    "SET_LABELS",
    "format_cell",
    "format_ci",
    "format_count",
    "format_hr",
    "format_median",
    "format_number",
    "format_p",
    "format_rate",
    "format_unit",
    "endpoint_row_labels",
    "horizon_key",
    "label_with_unit",
    "per_unit",
    "horizon_label",
    "horizon_words",
    "event_phrase",
    "ABBREVIATIONS",
    "abbreviation_note",
    "p_statement",
    "MODEL_LABELS",
    "MODEL_SHORT_LABELS",
    "set_label",
    "set_labels",
    "split_set_labels",
    "UPDATE_LABELS",
    "UPDATE_PANEL_LABELS",
]

#: how a missing number is printed (as R prints NA)
NOT_AVAILABLE = "NA"

#: a median (or its bound) the Kaplan–Meier curve never reaches
NOT_REACHED = "Not reached"

#: the tag every figure and table carries when ``data.source`` is synthetic
SIMULATED_TAG = "Simulated data"

#: the footnote every table carries when ``data.source`` is synthetic
SIMULATED_NOTE = (
    "Simulated data: a synthetic cohort calibrated to the published study, not patients; "
    "the numbers demonstrate the workflow and carry no clinical meaning."
)
#: a candidate excluded from the multivariable model in the selection-stability table
NOT_ELIGIBLE = "not eligible"

#: a variable a cohort's file does not have (an external cohort needs only the model's
#: predictors): printed instead of a count or a median in Table 1
NOT_RECORDED = "not recorded"

#: a measure at a horizon with too few events by it or patients at risk at it
NOT_ESTIMABLE = "not estimable"

#: what a training-set risk-group comparison is: the score and its cut-off were fitted to
#: the same patients, so no test there has its nominal size (printed instead of a p)
DESCRIPTIVE = "Descriptive (no valid p)"

#: how the performance of a model on the patients it was fitted to, and its bootstrap
#: optimism-corrected value, are labelled
APPARENT = "apparent"
CORRECTED = "optimism-corrected"

#: the models of the beyond-the-paper comparison; the paper's stays the headline
MODEL_LABELS: Mapping[str, str] = {
    "paper": "Paper's model: screening + stepwise Cox (headline)",
    "full": "Beyond the paper: pre-specified full model",
    "lasso": "Beyond the paper: LASSO Cox",
    "elastic_net": "Beyond the paper: elastic-net Cox",
    "ridge": "Beyond the paper: ridge Cox",
    "shrunk_stepwise": "Beyond the paper: stepwise model, uniformly shrunk",
}

#: the same models named in a few characters (the AUCs written inside a ROC panel)
MODEL_SHORT_LABELS: Mapping[str, str] = {
    "paper": "Paper (headline)",
    "full": "Full",
    "lasso": "LASSO",
    "elastic_net": "Elastic net",
    "ridge": "Ridge",
    "shrunk_stepwise": "Shrunk",
}

SET_LABELS: Mapping[str, str] = {"train": "Training set", "validation": "Validation set", "all": "All patients"}

#: the paper's Table 1 names of its endpoints' event rows; any other endpoint's event row
#: is named after the endpoint (``endpoint_row_labels``)
_EVENT_NOUNS = {"os": "Death", "rfs": "Recurrence"}
#: with ``split.method: external`` the validation set is another centre's cohort, never a
#: "validation set" of held-out patients of the development cohort
EXTERNAL_SET_LABELS: Mapping[str, str] = {"train": "Development cohort", "validation": "External cohort"}

#: decimals of a hazard ratio and its CI in the paper's Table 2
HR_DIGITS = 3

#: ASCII unit spellings (config, data dictionary) -> the symbol a reader expects
_UNIT_SYMBOLS = {
    "kg/m2": "kg/m\u00b2",
    "kg/m^2": "kg/m\u00b2",
    "10^9/l": "10\u2079/L",
    "10^12/l": "10\u00b9\u00b2/L",
    "umol/l": "\u00b5mol/L",
    "\u03bcmol/l": "\u00b5mol/L",  # Greek mu (U+03BC) -> micro sign (U+00B5)
    "ug/l": "\u00b5g/L",
    "ug/ml": "\u00b5g/mL",
    "u/ml": "U/mL",
    "ku/l": "kU/L",
    "ng/ml": "ng/mL",
    "u/l": "U/L",
    "g/l": "g/L",
    "g/dl": "g/dL",
    "mg/l": "mg/L",
    "mg/dl": "mg/dL",
}

_P_STYLES = {
    # style: (smallest printed p, how a p at or above it is printed)
    "journal": (1e-3, lambda p: f"{p:.3f}"),
    "survminer": (1e-4, lambda p: f"{float(f'{p:.2g}'):g}"),
}


def _missing(v) -> bool:
    if v is None:
        return True
    try:
        return not math.isfinite(float(v))
    except (TypeError, ValueError):
        return True


# ---------------------------------------------------------------------------------------
# Sets and horizons
# ---------------------------------------------------------------------------------------
def set_label(name: str, overrides: Mapping[str, str] | None = None) -> str:
    """Display label of a set ('train' -> 'Training set'); ``overrides`` first, an unknown
    set name is printed as is."""
    return {**SET_LABELS, **(overrides or {})}.get(name, str(name))


def set_labels(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The set labels with ``overrides`` applied (for callers that look many sets up)."""
    return {**SET_LABELS, **(overrides or {})}


def endpoint_row_labels(name: str) -> tuple[str, str]:
    """Table 1 labels of an endpoint's follow-up time (months) and event rows: the
    paper's 'OS, months' / 'Death' for its endpoints, '<NAME>, months' / '<NAME> event'
    for any other."""
    short = name.upper()
    return f"{short}, months", _EVENT_NOUNS.get(name, f"{short} event")


#: the frozen model and its updates on an external cohort (crlmflow.validation.updating);
#: the updated ones are always labelled as such, the frozen model stays the headline
UPDATE_LABELS: Mapping[str, str] = {
    "frozen": "Frozen model",
    "recalibrated_in_the_large": "Updated: recalibrated in the large",
    "slope_recalibrated": "Updated: slope recalibrated",
}
#: the same, short enough for a panel title beside a horizon
UPDATE_PANEL_LABELS: Mapping[str, str] = {
    "frozen": "Frozen model",
    "recalibrated_in_the_large": "Updated: in the large",
    "slope_recalibrated": "Updated: slope",
}


def split_set_labels(method: str | None) -> dict[str, str]:
    """Set-label overrides for a split method: ``external`` names the validation set the
    external cohort (and the training set the development cohort); others use the defaults."""
    return dict(EXTERNAL_SET_LABELS) if method == "external" else {}


def horizon_key(h) -> str:
    """Spelling of a horizon (months) in keys and column names: 12 / 12.0 -> '12', 18.5 -> '18.5'."""
    return str(int(h)) if float(h).is_integer() else str(h)


#: the paper's abbreviations, spelled out in a table's footnote when the table uses them
ABBREVIATIONS: Mapping[str, str] = {
    "ALB": "albumin",
    "ALT": "alanine aminotransferase",
    "ASA": "American Society of Anesthesiologists",
    "AST": "aspartate aminotransferase",
    "AUC": "area under the ROC curve",
    "BMI": "body mass index",
    "CA19-9": "carbohydrate antigen 19-9",
    "CEA": "carcinoembryonic antigen",
    "CI": "confidence interval",
    "CRS": "clinical risk score",
    "DBIL": "direct bilirubin",
    "HGB": "haemoglobin",
    "HR": "hazard ratio",
    "LYMPH": "lymphocyte count",
    "NEUT": "neutrophil count",
    "NLR": "neutrophil-to-lymphocyte ratio",
    "OS": "overall survival",
    "PLR": "platelet-to-lymphocyte ratio",
    "PLT": "platelet count",
    "R0": "resection with microscopically negative margins",
    "RFA": "radiofrequency ablation",
    "RFS": "recurrence-free survival",
    "SII": "systemic immune-inflammation index",
    "TBIL": "total bilirubin",
    "WBC": "white blood cell count",
}


def abbreviation_note(texts) -> str:
    """'Abbreviations: BMI, body mass index; HR, hazard ratio.' for the abbreviations of
    ``ABBREVIATIONS`` that occur as whole words in ``texts`` (cells, headers, footnotes), in
    alphabetical order; empty when none occurs."""
    blob = " ".join(str(t) for t in texts)
    words = set("".join(ch if ch.isalnum() or ch == "-" else " " for ch in blob).split())
    used = [a for a in sorted(ABBREVIATIONS) if a in words]
    return ("Abbreviations: " + "; ".join(f"{a}, {ABBREVIATIONS[a]}" for a in used) + ".") if used else ""


def horizon_words(h) -> str:
    """A horizon in words: 12 -> '1 year', 36 -> '3 years', 18 -> '18 months'."""
    h = float(h)
    n, unit = (h / 12, "year") if h % 12 == 0 else (h, "month")
    return f"{n:g} {unit}" + ("" if n == 1 else "s")


def event_phrase(endpoint: str) -> str:
    """The event of an endpoint in running text: 'death' (OS), 'recurrence' (RFS), else
    '<ENDPOINT> event'."""
    noun = _EVENT_NOUNS.get(endpoint)
    return noun.lower() if noun else f"{endpoint.upper()} event"


def horizon_label(h) -> str:
    """Display label of a horizon in months: 12 -> '1-year', 60 -> '5-year', 18 -> '18-month'."""
    h = float(h)
    return f"{h / 12:g}-year" if h % 12 == 0 else f"{h:g}-month"


# ---------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------
def not_estimable_label(h) -> str:
    """Legend entry of a horizon whose curve is not drawn: '5-year: not estimable'."""
    return f"{horizon_label(h)}: {NOT_ESTIMABLE}"


def format_number(v, digits: int) -> str:
    """Fixed decimals; 'NA' for a missing (None / NaN / infinite) value."""
    return NOT_AVAILABLE if _missing(v) else f"{float(v):.{digits}f}"


def format_ci(estimate, lower, upper, digits: int) -> str:
    """'0.700 (0.650, 0.750)': estimate with its CI; the CI is left out when a bound is
    missing, 'NA' when the estimate is."""
    text = format_number(estimate, digits)
    if _missing(estimate) or _missing(lower) or _missing(upper):
        return text
    return f"{text} ({float(lower):.{digits}f}, {float(upper):.{digits}f})"


def format_hr(hr, lower, upper, digits: int = HR_DIGITS, *, missing: str = "") -> str:
    """Hazard ratio with its 95% CI as the paper's Table 2 prints it: '1.050 (1.018, 1.084)'.

    ``digits`` is the exhibit's choice (the paper: 3, so the per-unit HRs of wide-range
    markers read '1.000 (1.000, 1.000)' there too). ``missing`` is printed when any of the
    three is missing (a reference level, a term not in the model).
    """
    if _missing(hr) or _missing(lower) or _missing(upper):
        return missing
    return f"{float(hr):.{digits}f} ({float(lower):.{digits}f}, {float(upper):.{digits}f})"


def format_rate(s, digits: int = 2) -> str:
    """Survival probability as a percentage: 0.9738 -> '97.38%'; 'NA' when missing."""
    return NOT_AVAILABLE if _missing(s) else f"{100 * float(s):.{digits}f}%"


def format_median(estimate, lower, upper, digits: int = 2) -> str:
    """Median survival with its CI, '70.20 (57.73, 82.68)'; 'Not reached' when the curve
    never falls to 0.5, and 'not reached' for a bound whose confidence curve never does
    (R's survfit prints NA there, which a reader takes for missing data)."""
    if _missing(estimate):
        return NOT_REACHED
    lo = NOT_REACHED.lower() if _missing(lower) else format_number(lower, digits)
    hi = NOT_REACHED.lower() if _missing(upper) else format_number(upper, digits)
    return f"{float(estimate):.{digits}f} ({lo}, {hi})"


def format_count(n, percent, digits: int = 1) -> str:
    """Count with its percentage, '27 (9.9%)' (Table 1)."""
    return f"{int(n)} ({format_number(percent, digits)}%)"


# ---------------------------------------------------------------------------------------
# p-values
# ---------------------------------------------------------------------------------------
def format_p(p, *, style: str = "journal") -> str:
    """p-value text.

    ``style="journal"`` (the paper's tables): '<0.001', else three decimals.
    ``style="survminer"`` (Kaplan–Meier figures, as ``survminer::ggsurvplot``): '<0.0001',
    else two significant digits ('0.00063', '0.02'). A missing p is 'NA'.
    """
    if style not in _P_STYLES:
        raise ValueError(f"unknown p-value style {style!r}; expected one of {sorted(_P_STYLES)}")
    if _missing(p):
        return NOT_AVAILABLE
    floor, fmt = _P_STYLES[style]
    p = float(p)
    return f"<{floor:g}" if p < floor else fmt(p)


def p_statement(p, *, label: str = "P", style: str = "journal") -> str:
    """p-value as a statement printed on a figure: 'P = 0.012', 'P < 0.001' (survminer:
    'p = 0.02', 'p < 0.0001'); empty when there is no p to state."""
    if _missing(p):
        return ""
    text = format_p(p, style=style)
    return f"{label} < {text[1:]}" if text.startswith("<") else f"{label} = {text}"


# ---------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------
def format_unit(unit: str | None) -> str:
    """Unit with proper symbols: 'kg/m2' -> 'kg/m²', '10^9/L' -> '10⁹/L', 'umol/L' -> 'µmol/L',
    'U/ml' -> 'U/mL'. Units without a known symbol pass through unchanged; None -> ''."""
    if not unit:
        return ""
    text = str(unit).strip()
    return _UNIT_SYMBOLS.get(text.lower(), text)


#: plural unit words a per-unit hazard ratio names in the singular ('per year')
_SINGULAR = {"years": "year", "days": "day", "months": "month", "weeks": "week", "points": "point"}


def label_with_unit(label: str, unit: str | None) -> str:
    """'BMI, kg/m²'; the label alone when it already ends with the unit's word, so that
    'Hospital days' with unit 'days' is not printed 'Hospital days, days'."""
    u = format_unit(unit)
    if not u or str(label).lower().rstrip().endswith(u.lower()):
        return str(label)
    return f"{label}, {u}"


def per_unit(unit: str | None, per: float = 1, *, score: bool = False) -> str:
    """What a numeric term's hazard ratio is per: 'per year', 'per 100 U/mL', 'per point'
    (a score without a unit), 'per unit'."""
    u = format_unit(unit)
    if not u:
        u = "point" if score else "unit"
    if per == 1:
        return f"per {_SINGULAR.get(u.lower(), u)}"
    return f"per {per:g} {u}"


# ---------------------------------------------------------------------------------------
# Table cells
# ---------------------------------------------------------------------------------------
def format_cell(v) -> str:
    """A value of a numeric (long) table as Markdown/HTML show it: up to three decimals
    without trailing zeros ('0.7', '12'), four significant digits below 0.001 ('0.0001234'),
    'NA' for a missing number; anything else as ``str``."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return NOT_AVAILABLE
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e-3 and v != 0 else f"{v:.3f}".rstrip("0").rstrip(".")
    return str(v)
