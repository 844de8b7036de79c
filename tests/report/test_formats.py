"""crlmflow.report.formats: the one home of labels and number formats.

The expected strings are the paper's own (Xue et al. 2025, Tables 1-3) or survminer's, so a
change of convention shows up here first.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import numpy as np
import pytest

from crlmflow.report import formats as F

ROOT = Path(__file__).resolve().parents[2]
NAN = float("nan")


# ---------------------------------------------------------------------------------------
# Sets and horizons
# ---------------------------------------------------------------------------------------
def test_set_labels_and_overrides():
    assert [F.set_label(s) for s in ("train", "validation", "all")] == [
        "Training set",
        "Validation set",
        "All patients",
    ]
    assert F.set_label("train", {"train": "Derivation cohort"}) == "Derivation cohort"
    assert F.set_label("validation", {"train": "Derivation cohort"}) == "Validation set"
    assert F.set_label("external") == "external"  # an unknown set is printed as named
    assert F.set_labels({"all": "Everyone"}) == {
        "train": "Training set",
        "validation": "Validation set",
        "all": "Everyone",
    }


@pytest.mark.parametrize(
    "h, label",
    [(12, "1-year"), (36.0, "3-year"), (60, "5-year"), (18, "18-month"), (6, "6-month"), (18.5, "18.5-month")],
)
def test_horizon_label(h, label):
    assert F.horizon_label(h) == label


@pytest.mark.parametrize("h, key", [(12, "12"), (12.0, "12"), (np.float64(36), "36"), (18.5, "18.5")])
def test_horizon_key(h, key):
    assert F.horizon_key(h) == key


# ---------------------------------------------------------------------------------------
# Hazard ratios: the paper's Table 2 convention
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "hr, lo, hi, text",
    [
        (1.0504, 1.0181, 1.0838, "1.050 (1.018, 1.084)"),  # Hospital day, OS multivariable
        (0.454, 0.302, 0.683, "0.454 (0.302, 0.683)"),  # R0 resection, OS univariable
        (1.00021, 0.99995, 1.00049, "1.000 (1.000, 1.000)"),  # CA19-9: per-unit HR rounds to 1.000
    ],
)
def test_format_hr_matches_paper_table2(hr, lo, hi, text):
    assert F.format_hr(hr, lo, hi) == text


def test_format_hr_digits_and_missing():
    assert F.format_hr(1.78, 1.24, 2.55, digits=2) == "1.78 (1.24, 2.55)"
    assert F.format_hr(NAN, NAN, NAN) == ""
    assert F.format_hr(None, 1.0, 2.0, missing="Reference") == "Reference"
    assert F.format_hr(1.5, 1.1, math.inf, missing="-") == "-"


# ---------------------------------------------------------------------------------------
# p-values
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "p, text",
    [
        (0.0004, "<0.001"),
        (0.001, "0.001"),
        (0.0123, "0.012"),
        (0.9236, "0.924"),
        (1.0, "1.000"),
        (NAN, "NA"),
        (None, "NA"),
    ],
)
def test_format_p_journal(p, text):
    assert F.format_p(p) == text


@pytest.mark.parametrize("p, text", [(1e-6, "<0.0001"), (0.000634, "0.00063"), (0.0202, "0.02"), (0.5, "0.5")])
def test_format_p_survminer(p, text):
    assert F.format_p(p, style="survminer") == text


def test_p_statement():
    assert F.p_statement(0.0123) == "P = 0.012"
    assert F.p_statement(0.0004) == "P < 0.001"
    assert F.p_statement(1e-6, label="p", style="survminer") == "p < 0.0001"
    assert F.p_statement(0.000634, label="p", style="survminer") == "p = 0.00063"
    assert F.p_statement(None) == "" and F.p_statement(NAN) == ""


def test_unknown_p_style_is_an_error():
    with pytest.raises(ValueError, match="unknown p-value style 'apa'.*journal.*survminer"):
        F.format_p(0.1, style="apa")


# ---------------------------------------------------------------------------------------
# Other numbers
# ---------------------------------------------------------------------------------------
def test_rates_medians_counts_and_cis():
    assert F.format_rate(0.97381) == "97.38%"
    assert F.format_rate(NAN) == "NA"
    assert F.format_median(70.2, 57.73, 82.68) == "70.20 (57.73, 82.68)"
    assert F.format_median(NAN, 50.0, NAN) == "Not reached"
    assert F.format_median(40.0, 30.1, None) == "40.00 (30.10, not reached)"
    assert F.format_median(40.0, NAN, NAN) == "40.00 (not reached, not reached)"
    assert F.format_count(27, 9.8901) == "27 (9.9%)"
    assert F.format_number(None, 2) == "NA" and F.format_number(3.14159, 2) == "3.14"
    assert F.format_ci(0.7, 0.65, 0.75, 3) == "0.700 (0.650, 0.750)"
    assert F.format_ci(0.7, NAN, 0.75, 3) == "0.700"
    assert F.format_ci(NAN, 0.65, 0.75, 3) == "NA"


@pytest.mark.parametrize(
    "v, text",
    [
        (0.7, "0.7"),
        (12.0, "12"),
        (0.0001234, "0.0001234"),
        (0.0, "0"),
        (NAN, "NA"),
        (None, "NA"),
        (3, "3"),
        ("<0.001", "<0.001"),
    ],
)
def test_format_cell(v, text):
    assert F.format_cell(v) == text


# ---------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "unit, text",
    [
        ("kg/m2", "kg/m\u00b2"),
        ("kg/m^2", "kg/m\u00b2"),
        ("10^9/L", "10\u2079/L"),
        ("umol/L", "\u00b5mol/L"),
        ("\u03bcmol/L", "\u00b5mol/L"),
        ("U/ml", "U/mL"),
        ("U/mL", "U/mL"),
        ("ng/mL", "ng/mL"),
        ("g/L", "g/L"),
        ("years", "years"),
        (None, ""),
        ("", ""),
    ],
)
def test_format_unit(unit, text):
    assert F.format_unit(unit) == text


def test_config_units_all_have_symbols():
    """Every unit of the default config prints with proper symbols (no '^', no 'u' for micro)."""
    import yaml

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    units = {c["unit"] for c in cfg["candidates"] if c.get("unit")}
    assert units, "the default config declares no units"
    for u in units:
        shown = F.format_unit(u)
        assert "^" not in shown and not shown.startswith("u") and not re.search(r"m2\b", shown), (u, shown)


# ---------------------------------------------------------------------------------------
# One home: nothing outside formats.py defines a set/horizon label, an HR or a p format
# ---------------------------------------------------------------------------------------
def _sources():
    for base in ("src", "scripts"):
        for p in sorted((ROOT / base).rglob("*.py")):
            if p.name != "formats.py":
                yield p, p.read_text(encoding="utf-8")
    for p in sorted((ROOT / "notebooks").glob("*.ipynb")):
        import json

        cells = json.loads(p.read_text(encoding="utf-8"))["cells"]
        yield p, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize(
    "pattern, what",
    [
        (r"['\"]Training set['\"]|['\"]Validation set['\"]|['\"]All patients['\"]", "a set label"),
        (r"-year\"|-month\"|-year'|-month'", "a horizon label"),
        (r"def \w*(format_p|_p|p_text|survminer_p)\(", "a p-value formatter"),
        (r"def \w*format_hr\w*\(", "a hazard-ratio formatter"),
        (r"return\s+f?['\"](p )?<\s?0\.00|\bp\s*<\s*(0\.001|1e-3|1e-4|0\.0001)\s*:", "a p-value format"),
    ],
)
def test_no_second_home(pattern, what):
    offenders = []
    for path, text in _sources():
        for i, line in enumerate(text.splitlines(), 1):
            if re.search(pattern, line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    # statistical helpers named *_p compute p-values; only formatters (returning str) count
    offenders = [o for o in offenders if "-> str" in o or what != "a p-value formatter"]
    assert not offenders, f"{what} defined outside report/formats.py:\n" + "\n".join(offenders)


def test_formats_is_light():
    """formats.py is imported by the model, validation and app stages: standard library only."""
    tree = ast.parse((ROOT / "src" / "crlmflow" / "report" / "formats.py").read_text(encoding="utf-8"))
    mods = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    mods |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert mods <= {"__future__", "collections", "math", "typing"}, mods


def test_label_with_unit_and_per_unit():
    assert F.label_with_unit("Hospital days", "days") == "Hospital days"
    assert F.label_with_unit("BMI", "kg/m2") == "BMI, kg/m\u00b2"
    assert F.per_unit("years") == "per year"
    assert F.per_unit("U/mL", 100) == "per 100 U/mL"
    assert F.per_unit(None, score=True) == "per point"
    assert F.per_unit(None) == "per unit"


def test_abbreviation_note_spells_out_only_what_a_table_uses():
    from crlmflow.report.formats import abbreviation_note

    note = abbreviation_note(["BMI, kg/m²", "HR (95% CI)", "CA19-9 per 100 U/mL", "Hospital days"])
    assert note == (
        "Abbreviations: BMI, body mass index; CA19-9, carbohydrate antigen 19-9; CI, confidence interval; "
        "HR, hazard ratio."
    )
    assert abbreviation_note(["Age, years"]) == ""
