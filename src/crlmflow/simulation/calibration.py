"""Calibration of the synthetic cohort against the paper's published figures.

:func:`calibration_report` simulates a large cohort, takes it through the workflow's own
cleaning (:func:`crlmflow.data.cleaning.clean`) and indices
(:func:`crlmflow.data.indices.derive_indices`), and compares Kaplan–Meier rates and medians
(:mod:`crlmflow.survival.km`), event shares, Table 1 quartiles and category shares with the
paper, one row per target of :data:`CALIBRATION_TARGETS`.

Calibration targets and the ones that cannot all be met
-------------------------------------------------------
Table 3 rates and the median OS/RFS are calibrated to the *pooled* cohort (train and
validation rates weighted 273:116) because the pooled median RFS 11.7 months is
incompatible with the training set's 12-month RFS of 52.6 % (the median would be > 12).
Table 1 quantities use the training column. With 200,000 eligible patients every target is
within its tolerance (KM rates within 0.2 pp, median OS 70.1, median RFS 11.9, deaths 36.0 %,
recurrences 72.7 %, Table 1 lab medians within 1 %, category shares within 0.4 pp). Known
partial misses, each tested with its own wider, documented tolerance:

* ``os_obs_q1_months`` (21.7 vs 24.5): 36.5 % deaths together with a 5-year OS of 54 %, a
  median OS of 70 months, a median observed OS of only 34.6 months (IQR 24.5-51.2) and an
  observed RFS Q3 of 23.3 months pull against each other: the short observed times need late
  accrual and early loss to follow-up, which remove deaths and add short censored OS times.
  Tolerance 4 months for the observed OS quartiles (median and Q3 are met within 0.5).
* ``rfs_obs_q1_months`` / ``rfs_obs_median_months`` (3.4 / 10.1 vs 4.1 / 10.7) and
  ``recurrences_pct`` (72.7 vs 71.5 %): the same early loss to follow-up; tolerances 1.0 /
  1.5 months and 2 pp. The latent RFS curve has an extra knot at 24 months (S = 0.27, not a
  paper figure) so that the observed RFS Q3 is met.
* NLR/PLR/SII follow from NEUT, LYMPH and PLT (ratios of correlated lognormal-like labs), so
  they are met only approximately (SII median +8 %); tolerance 10 % (median) / 12 %
  (quartiles) relative. CRS 5 is 0.7 % vs 1.0 % (4 patients in the paper).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crlmflow.data.cleaning import clean
from crlmflow.data.indices import derive_indices
from crlmflow.simulation.generator import simulate_cohort
from crlmflow.survival.km import kaplan_meier, median_survival, survival_at

__all__ = [
    "CALIBRATION_TARGETS",
    "TABLE1_TRAINING",
    "pooled",
    "analysis_cohort",
    "synthetic_values",
    "calibration_report",
]

_TRAIN, _VALIDATION = 273, 116


def pooled(train: float, validation: float) -> float:
    """A rate of the whole cohort from the paper's training and validation rates (weights 273:116)."""
    return (_TRAIN * train + _VALIDATION * validation) / (_TRAIN + _VALIDATION)


#: Table 1, training set: (median, Q1, Q3) of each continuous variable.
TABLE1_TRAINING: dict[str, tuple[float, float, float]] = {
    "age": (58.00, 51.00, 65.00),
    "bmi": (23.83, 22.05, 26.01),
    "hospital_days": (10.0, 9.0, 14.0),
    "ca19_9": (19.11, 8.78, 45.00),
    "cea": (8.89, 3.90, 31.46),
    "wbc": (5.83, 4.76, 7.20),
    "neut": (3.45, 2.69, 4.50),
    "lymph": (1.76, 1.40, 2.17),
    "hgb": (133.0, 119.0, 145.0),
    "plt": (225.0, 179.5, 276.0),
    "alt": (19.0, 13.0, 29.5),
    "ast": (22.0, 17.0, 28.0),
    "tbil": (9.30, 7.00, 12.20),
    "dbil": (3.50, 2.80, 4.55),
    "alb": (42.20, 39.60, 44.50),
    "d_dimer": (0.39, 0.24, 0.75),
    "nlr": (1.94, 1.45, 2.82),
    "plr": (125.33, 96.90, 158.22),
    "sii": (411.46, 285.78, 664.90),
}
_RATIO_VARS = {"nlr", "plr", "sii"}


def _targets() -> list[tuple[str, float, float, str, str]]:
    """(quantity, paper value, tolerance, kind, note); kind "abs" (absolute) or "rel" (relative)."""
    t = []
    km = {
        ("os", 12): (97.38, 97.52),
        ("os", 36): (71.18, 72.93),
        ("os", 60): (54.56, 51.56),
        ("rfs", 12): (52.57, 42.78),
        ("rfs", 36): (22.65, 20.96),
        ("rfs", 60): (21.12, 18.26),
    }
    for (ep, m), (tr, va) in km.items():
        t.append((f"km_{ep}_{m}m_pct", round(pooled(tr, va), 2), 3.0, "abs", f"Table 3, pooled 273:116 (train {tr})"))
    t.append(("median_os_months", 70.20, 6.0, "abs", "KM median, pooled (Table 3)"))
    t.append(("median_rfs_months", 11.70, 1.0, "abs", "KM median, pooled (Table 3)"))
    t.append(("deaths_pct", round(100 * 142 / 389, 2), 2.0, "abs", "142/389"))
    t.append(
        (
            "recurrences_pct",
            round(100 * 278 / 389, 2),
            2.0,
            "abs",
            "278/389; early loss to follow-up trades against observed OS times",
        )
    )
    for q, v in zip(("median", "q1", "q3"), (34.60, 24.54, 51.19)):
        t.append(
            (
                f"os_obs_{q}_months",
                v,
                4.0,
                "abs",
                "Table 1 train, observed OS months; documented wider tolerance (Q1 is a "
                "known partial miss: deaths vs short observed times)",
            )
        )
    for q, v, tol in zip(("median", "q1", "q3"), (10.67, 4.14, 23.34), (1.5, 1.0, 2.5)):
        t.append((f"rfs_obs_{q}_months", v, tol, "abs", "Table 1 train, observed RFS months"))
    for var, (med, q1, q3) in TABLE1_TRAINING.items():
        tol_m, tol_q = (0.10, 0.12) if var in _RATIO_VARS else (0.05, 0.10)
        note = "Table 1 train" + ("; ratio of labs, documented wider tolerance" if var in _RATIO_VARS else "")
        t.append((f"{var}_median", med, tol_m, "rel", note))
        t.append((f"{var}_q1", q1, tol_q, "rel", note))
        t.append((f"{var}_q3", q3, tol_q, "rel", note))
    props = [
        ("female_pct", 100 * 250 / 389, "Table 1 pooled 250/389"),
        ("r0_pct", 100 * 298 / 389, "Table 1 pooled 298/389"),
        ("rfa_pct", 100 * 37 / 389, "Table 1 pooled 37/389"),
        ("chemo_full_course_pct", 100 * 166 / 389, "Table 1 pooled"),
        ("chemo_neoadjuvant_only_pct", 100 * 90 / 389, "Table 1 pooled"),
        ("chemo_adjuvant_only_pct", 100 * 133 / 389, "Table 1 pooled"),
        ("asa_1_pct", 100 * 13 / 389, "Table 1 pooled"),
        ("asa_2_pct", 100 * 326 / 389, "Table 1 pooled"),
        ("asa_3_pct", 100 * 50 / 389, "Table 1 pooled"),
        ("crs_1_pct", 100 * 44 / 389, "Table 1 pooled"),
        ("crs_2_pct", 100 * 144 / 389, "Table 1 pooled"),
        ("crs_3_pct", 100 * 170 / 389, "Table 1 pooled"),
        ("crs_4_pct", 100 * 27 / 389, "Table 1 pooled"),
        ("crs_5_pct", 100 * 4 / 389, "Table 1 pooled"),
        ("kras_mutant_pct", 100 * 221 / 389, "supplementary Table 4"),
        ("colon_pct", 100 * 223 / 389, "text"),
        ("laparoscopic_pct", 44.2, "text (denominator unclear)"),
    ]
    for name, v, note in props:
        t.append((name, round(v, 2), 2.0, "abs", note))
    return t


#: (quantity, paper value, tolerance, kind, note), in the order of the report.
CALIBRATION_TARGETS = _targets()


def analysis_cohort(raw: pd.DataFrame, *, death_censors_rfs: bool = True) -> pd.DataFrame:
    """The eligible patients of a raw export as the workflow analyses them.

    :func:`crlmflow.data.cleaning.clean` (validation, eligibility, survival times) followed by
    :func:`crlmflow.data.indices.derive_indices` (NLR, PLR, SII, CRS); a raw export that
    breaks the column contract raises the cleaner's ``InputError``.
    """
    result = clean(raw, source="synthetic raw export", death_censors_rfs=death_censors_rfs)
    return derive_indices(result.cohort)


def _km_summary(time, event, horizons) -> tuple[np.ndarray, float]:
    """Kaplan–Meier S at ``horizons`` and the median (R ``survfit`` conventions)."""
    km = kaplan_meier(np.asarray(time, float), np.asarray(event, float))
    return survival_at(km, horizons)["surv"].to_numpy(), median_survival(km).median


def synthetic_values(cohort: pd.DataFrame) -> dict[str, float]:
    """The synthetic cohort's value of every quantity of :data:`CALIBRATION_TARGETS`.

    ``cohort``: an analysis cohort (:func:`analysis_cohort`).  Percentiles are NumPy's
    linear-interpolation quantiles of the observed values; rates are in percent.
    """
    a = cohort
    v: dict[str, float] = {}
    horizons = (12, 36, 60)
    for ep in ("os", "rfs"):
        surv, median = _km_summary(a[f"{ep}_months"], a[f"{ep}_event"], horizons)
        for m, s in zip(horizons, surv):
            v[f"km_{ep}_{m}m_pct"] = 100 * float(s)
        v[f"median_{ep}_months"] = median
    v["deaths_pct"] = 100 * a["os_event"].mean()
    v["recurrences_pct"] = 100 * a["rfs_event"].mean()
    for ep in ("os", "rfs"):
        q1, med, q3 = np.percentile(a[f"{ep}_months"], [25, 50, 75])
        v[f"{ep}_obs_median_months"], v[f"{ep}_obs_q1_months"], v[f"{ep}_obs_q3_months"] = med, q1, q3
    for var in TABLE1_TRAINING:
        q1, med, q3 = np.percentile(a[var].astype(float), [25, 50, 75])
        v[f"{var}_median"], v[f"{var}_q1"], v[f"{var}_q3"] = med, q1, q3
    v["female_pct"] = 100 * (a["male"] == 0).mean()
    v["r0_pct"] = 100 * a["r0_resection"].mean()
    v["rfa_pct"] = 100 * a["rfa"].mean()
    for lvl in ("full_course", "neoadjuvant_only", "adjuvant_only"):
        v[f"chemo_{lvl}_pct"] = 100 * a[f"chemo_{lvl}"].mean()
    for k in (1, 2, 3):
        v[f"asa_{k}_pct"] = 100 * (a["asa"] == k).mean()
    for k in range(1, 6):
        v[f"crs_{k}_pct"] = 100 * (a["crs_score"] == k).mean()
    v["kras_mutant_pct"] = 100 * (a["kras"] == "mutant").mean()
    v["colon_pct"] = 100 * (a["primary_site"] == "colon").mean()
    v["laparoscopic_pct"] = 100 * a["laparoscopic"].mean()
    return v


def calibration_report(n_eligible: int = 200_000, seed: int = 1, **simulate_kwargs) -> pd.DataFrame:
    """Simulate a large cohort and compare it with the paper, one row per target.

    Columns: ``quantity, paper, synthetic, difference, tolerance, within_tolerance`` plus
    ``tolerance_kind`` ("abs": |difference| <= tolerance in the quantity's unit; "rel":
    |difference| / paper <= tolerance) and ``note`` (source, and why a tolerance is wider).
    ``simulate_kwargs`` go to :func:`crlmflow.simulation.generator.simulate_cohort`.
    """
    raw, _ = simulate_cohort(n_eligible, seed, **simulate_kwargs)
    syn = synthetic_values(analysis_cohort(raw))
    rows = []
    for name, paper, tol, kind, note in CALIBRATION_TARGETS:
        s = float(syn[name])
        diff = s - paper
        ok = abs(diff) <= tol if kind == "abs" else abs(diff) <= tol * abs(paper)
        rows.append(
            dict(
                quantity=name,
                paper=paper,
                synthetic=round(s, 4),
                difference=round(diff, 4),
                tolerance=tol,
                within_tolerance=bool(ok),
                tolerance_kind=kind,
                note=note,
            )
        )
    return pd.DataFrame(rows)
