"""Expected ranges in "paper vs ours": the flags, the likely reason a published number lies
outside its range, the headline, and the check that the cached ranges describe this run's
procedure.

A published number outside its expected 95% range (:mod:`crlmflow.simulation.expected`)
is classified by the most specific reason the comparison's own numbers support, in this
order:

1. **sampling variation** -- the number lies within the Monte Carlo interval of the bound
   it crosses (more replicates could well put it inside), or it is a p-value comparing the
   randomly split sets (uniform under a random split: one in twenty falls outside by
   chance);
2. **a tension within the paper's own numbers** -- its p-value and its 95% CI imply
   different Wald statistics; or a quantity the generator's truth is built from (the
   multivariable HRs, event counts, median survival) whose published values cannot all be
   met at once, e.g. an apparent C or an AUC higher than the published HRs produce, or a
   multivariable HR the replicates that select the term rarely reach; or a count and its
   percentage that imply different denominators;
3. **a method difference** -- quantities whose value depends on an unstated or different
   method (the median's CI, the cut-off's points scale, a p printed as a bound, Table 1's
   tests);
4. otherwise **the generator** -- a margin the synthetic generator does not reproduce
   (e.g. a univariable association of a term its truth leaves without effect).

Sampling variation also covers a p-value whose range is that of a nearly uniform p (2.5th
percentile below 0.1 and 97.5th above 0.9: a term without effect).

With N ranged numbers, about N/20 lie outside by chance even when everything agrees (the
numbers are correlated, so the count varies more than a binomial's); the headline says so.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crlmflow.report.exhibits.comparison_extra import NOT_MODELLED

__all__ = [
    "attach_expected",
    "likely_reason",
    "headline",
    "range_settings_note",
    "SAMPLING",
    "TENSION",
    "METHOD",
    "GENERATOR",
]

SAMPLING = "sampling variation"
TENSION = "a tension within the paper's own numbers"
METHOD = "a method difference"
GENERATOR = "the generator does not reproduce this margin"

_RANGE_COLUMNS = ["lower", "upper", "n_replicates", "lower_mc_lo", "lower_mc_hi", "upper_mc_lo", "upper_mc_hi"]


def _paper_number(v) -> tuple[float | None, str]:
    """A paper value as (number, relation): '<0.001' -> (0.001, '<'); 12.3 -> (12.3, '=')."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return None, ""
    if isinstance(v, str):
        s = v.strip()
        if s[:1] in "<>":
            try:
                return float(s[1:]), s[0]
            except ValueError:
                return None, ""
        try:
            return float(s), "="
        except ValueError:
            return None, ""
    return float(v), "="


def _half_unit(value) -> float:
    """Half a unit of the last digit a published number is printed with (0.7 -> 0.05,
    389 -> 0.5): its unrounded value lies within that of the printed one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return 0.0
    text = str(value).lstrip("<>").strip()
    if "e" in text.lower():
        return 0.0
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0**-decimals


def _flag(value, lo, hi, yes: str, no: str, rounded: bool = False) -> str:
    x, rel = _paper_number(value)
    if x is None or pd.isna(lo) or pd.isna(hi):
        return "no range"
    if rounded and rel == "=":  # a printed (rounded) number agrees when its rounding interval meets the range
        h = _half_unit(value)
        lo, hi = lo - h, hi + h
    if rel == "<":  # 'p < x' agrees with the range when the range reaches below x
        return yes if lo < x else no
    if rel == ">":
        return yes if hi > x else no
    return yes if lo <= x <= hi else no


def attach_expected(comparison: pd.DataFrame, expected: pd.DataFrame | None) -> pd.DataFrame:
    """Add the expected 95% range of each published number (``expected``: key, lower,
    upper, n_replicates and, when present, the Monte Carlo interval of each bound) and the
    flags ``paper_vs_range`` (inside / outside / no range; the paper's number is printed
    rounded, so it is inside when its rounding interval -- ± half a unit of its last digit
    -- meets the range, and a number printed as a bound, e.g. '<0.0001', is inside when the
    range reaches past it) and ``ours_vs_range`` (typical / atypical / no range)."""
    out = comparison.copy()
    cols = ["expected_" + c if c in ("lower", "upper") else c for c in _RANGE_COLUMNS]
    if expected is None or expected.empty:
        for c in cols:
            out[c] = np.nan
    else:
        e = expected.set_index("key").reindex(columns=_RANGE_COLUMNS)
        e.columns = cols
        out = out.join(e, on="key")
    out["n_replicates"] = pd.to_numeric(out["n_replicates"], errors="coerce").fillna(0).astype(int)
    out["paper_vs_range"] = [
        _flag(p, lo, hi, "inside", "outside", rounded=True)
        for p, lo, hi in zip(out["paper"], out["expected_lower"], out["expected_upper"])
    ]
    out["ours_vs_range"] = [
        _flag(o, lo, hi, "typical", "atypical")
        for o, lo, hi in zip(out["ours"], out["expected_lower"], out["expected_upper"])
    ]
    return out


def _p_from_ci(hr: float, lo: float, hi: float) -> float:
    """Two-sided Wald p implied by an HR and its 95% CI (log scale, symmetric)."""
    se = (math.log(hi) - math.log(lo)) / (2 * stats.norm.ppf(0.975))
    return float(2 * stats.norm.sf(abs(math.log(hr)) / se)) if se > 0 else float("nan")


def _paper_p_disagrees(key: str, targets: Mapping[str, Any]) -> str | None:
    """For a Table 2 key, the paper's p against the p its own HR and CI imply."""
    parts = key.split(".")
    if parts[0] != "table2" or len(parts) < 5:
        return None
    spec: Any = targets.get("table2", {})
    for p in parts[1 : -2 if parts[-2] == "hr" else -1]:
        spec = spec.get(p, {}) if isinstance(spec, Mapping) else {}
    hr, p = (spec or {}).get("hr"), (spec or {}).get("p")
    if not hr or len(hr) != 3 or min(hr) <= 0:
        return None
    implied = _p_from_ci(*map(float, hr))
    x, rel = _paper_number(p)
    if x is None or not np.isfinite(implied):
        return None
    bad = (rel == "<" and implied >= 2 * x) or (rel == "=" and not (x / 2 <= implied <= 2 * x))
    if not bad:
        return None
    return f"the paper's P {p} and its HR {hr[0]} (95% CI {hr[1]}-{hr[2]}) imply different Wald statistics (the CI gives P = {implied:.2g})"


def _target(targets: Mapping[str, Any], path: str):
    v: Any = targets
    for part in path.split("."):
        if isinstance(v, list):
            v = v[int(part)] if part.isdigit() and int(part) < len(v) else None
        elif isinstance(v, Mapping):
            v = v.get(part, v.get(int(part)) if part.isdigit() else None)
        else:
            return None
    return v


def _count_percent_disagree(key: str, targets: Mapping[str, Any]) -> str | None:
    """A published count and its percentage that imply different denominators (e.g. a
    count of 84 among 389 patients printed as 44.2%)."""
    cohort = targets.get("cohort", {}) or {}
    if key.endswith((".n", ".percent")) and key.startswith("cohort."):
        base, denom = key.rsplit(".", 1)[0], cohort.get("n_total")
        n, pct = _target(targets, base + ".n"), _target(targets, base + ".percent")
    elif key.startswith("table1.categorical.") and key.endswith((".0", ".1")):
        base, set_ = key[:-2], key.rsplit(".", 2)[-2]
        denom = cohort.get({"train": "n_train", "validation": "n_validation"}.get(set_, ""))
        n, pct = _target(targets, base + ".0"), _target(targets, base + ".1")
    else:
        return None
    if not all(isinstance(x, (int, float)) for x in (n, pct, denom)) or not denom:
        return None
    implied = 100.0 * n / denom
    if abs(implied - pct) <= 0.5:
        return None
    return f"the paper's count {n} is {implied:.1f}% of its {denom} patients, but it prints {pct}% (the generator matches one of them)"


def _is_p(key: str) -> bool:
    return key.endswith(".p") or "_p." in key or key.endswith("_p")


def _edge(row) -> bool:
    x, _ = _paper_number(row["paper"])
    if x is None:
        return False
    for lo, hi in ((row.get("lower_mc_lo"), row.get("lower_mc_hi")), (row.get("upper_mc_lo"), row.get("upper_mc_hi"))):
        if pd.notna(lo) and pd.notna(hi) and lo <= x <= hi:
            return True
    return False


def likely_reason(row: Mapping[str, Any], targets: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """(category, explanation) of a published number outside its expected range; see the
    module docstring for the order in which the reasons are tried."""
    key = str(row["key"])
    x, _ = _paper_number(row["paper"])
    hi = row.get("expected_upper")
    side = "above" if x is not None and pd.notna(hi) and x > hi else "below"
    if _edge(row):
        return SAMPLING, "at the edge of the range, within the Monte Carlo error of its bound"
    if key.startswith("table1.") and key.endswith(".p"):
        return SAMPLING, "a p comparing randomly split sets is uniform: one in twenty falls outside by chance"
    lo = row.get("expected_lower")
    if _is_p(key) and pd.notna(lo) and pd.notna(hi) and lo < 0.1 and hi > 0.9:
        return (
            SAMPLING,
            "the range is that of a nearly uniform p (a term without effect): one in twenty falls outside by chance",
        )
    why = _paper_p_disagrees(key, targets or {}) or _count_percent_disagree(key, targets or {})
    if why:
        return TENSION, why
    if ".multivariable.selected." in key:
        return TENSION, (
            f"{side} what replicates that select the term give, although the generator's truth is the paper's "
            "multivariable model: the paper's estimate is not jointly reachable with its univariable HRs, "
            "prevalences and event counts (or it is a chance extreme of a selected estimate)"
        )
    if ".dropped_p." in key:
        return GENERATOR, (
            f"{side} the range: the score test of adding the term to the final model (SPSS's 'not in the "
            "equation', computed the same way here); the generator's truth gives the term no effect beyond the "
            "model's, so its p is rarely as small as the paper's"
        )
    if ".univariable." in key:
        return GENERATOR, (
            f"{side} the range: the generator's truth for this term (its multivariable effect, none for a term "
            "outside the paper's model, and its correlations with the true predictors) does not produce the "
            "paper's univariable association"
        )
    if ".c_index." in key or ".td_auc." in key:
        return TENSION, (
            f"{side} the range of cohorts generated with the paper's own HRs: its discrimination and its "
            "HRs cannot both hold (or the paper's C / AUC software and ties handling differ)"
        )
    if key.startswith(("cohort.median_", "table3.")):
        return METHOD, (
            f"{side} the range: the generator is calibrated to the paper's survival jointly with its event "
            "counts; a median's CI and a rate depend on the follow-up and CI method, which the paper does not state"
        )
    if ".risk_cutoff_points" in key:
        return (
            METHOD,
            "the cut-off is in nomogram points, whose scale depends on the selected terms and the axis ranges",
        )
    if _is_p(key):
        return METHOD, "a p-value whose test or software the paper does not state"
    return GENERATOR, f"{side} the range: a margin the synthetic generator does not reproduce at this sample size"


def _mc_summary(ranged: pd.DataFrame) -> str | None:
    """Median Monte Carlo interval of a bound as a share of the range's width."""
    if "lower_mc_lo" not in ranged or ranged.empty:
        return None
    width = ranged["expected_upper"] - ranged["expected_lower"]
    ok = width > 0
    if not ok.any():
        return None
    rel = pd.concat(
        [
            (ranged["lower_mc_hi"] - ranged["lower_mc_lo"])[ok] / width[ok],
            (ranged["upper_mc_hi"] - ranged["upper_mc_lo"])[ok] / width[ok],
        ]
    )
    rel = rel.dropna()
    return f"{100 * float(rel.median()):.0f}%" if len(rel) else None


def headline(
    comparison: pd.DataFrame, targets: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None
) -> list[str]:
    """The summary lines at the top of the comparison: how many numbers have a value and a
    range, how many fall outside and why (grouped by :func:`likely_reason`), how many are
    expected outside by chance, and the replicates and Monte Carlo error behind the ranges."""
    n = len(comparison)
    flags = comparison.get("paper_vs_range", pd.Series(["no range"] * n, index=comparison.index))
    inside, outside = int((flags == "inside").sum()), int((flags == "outside").sum())
    ranged = inside + outside
    lines = [f"{n} published numbers; this run gives a value for {int(comparison['ours'].notna().sum())}."]
    if not ranged:
        return lines + ["No expected ranges are available (see config/README.md, paper comparison)."]
    reps = int(comparison["n_replicates"].max()) if "n_replicates" in comparison else 0
    if settings and settings.get("replicates"):
        reps = int(settings["replicates"])
    lines.append(
        f"Expected 95% ranges (from {reps} replicate cohorts) exist for {ranged}: {inside} inside, {outside} "
        f"outside; about {ranged / 20:.0f} would be outside by chance alone if the paper's cohort came from the "
        "calibrated truth."
    )
    mc = _mc_summary(comparison[flags != "no range"])
    if mc:
        lines.append(
            f"Monte Carlo error: the ~95% Monte Carlo interval of a range's bound is typically {mc} of the "
            "range's width (per number in data/paper_expected_ranges.csv); a number at the edge may move in or out."
        )
    if outside:
        out = comparison[flags == "outside"]
        reasons = [likely_reason(r, targets) for _, r in out.iterrows()]
        cats = pd.Series([c for c, _ in reasons], index=out.index)
        for cat in (SAMPLING, TENSION, METHOD, GENERATOR):
            part = out[cats == cat]
            if len(part):
                names = "; ".join(f"{s_}: {q}" for s_, q in zip(part["section"], part["quantity"]))
                lines.append(f"Outside, likely {cat} ({len(part)}): {names}.")
    atyp = int((comparison.get("ours_vs_range", pd.Series(dtype=str)) == "atypical").sum())
    lines.append(
        f"This run's own number is atypical (outside the range) for {atyp} of the {ranged} "
        f"(about {ranged / 20:.0f} expected by chance)."
    )
    nm = int((comparison["note"] == NOT_MODELLED).sum())
    if nm:
        lines.append(f"{nm} numbers are not modelled by the generator (rows say so).")
    return lines


def reasons_column(comparison: pd.DataFrame, targets: Mapping[str, Any] | None = None) -> list[str]:
    """Per row: 'likely <category>: <explanation>' when the paper's number is outside, else ''."""
    out = []
    for _, r in comparison.iterrows():
        if r.get("paper_vs_range") == "outside":
            cat, why = likely_reason(r, targets)
            out.append(f"likely {cat}: {why}")
        else:
            out.append("")
    return out


def range_settings_note(settings: Mapping[str, Any] | None, procedure: Mapping[str, Any]) -> list[str]:
    """Lines saying whether the cached ranges were computed for this run's procedure.

    ``settings``: the cache's ``paper_expected_settings.json`` (replicates, seed,
    procedure); ``procedure``: this run's (the same subset of its config)."""
    if not settings:
        return ["The expected ranges carry no record of the procedure they were computed for."]

    def norm(d):
        return json.loads(json.dumps(d, sort_keys=True, default=str))

    cached, ours = norm(settings.get("procedure", {})), norm(procedure)
    differ = sorted(k for k in set(cached) | set(ours) if cached.get(k) != ours.get(k))
    if not differ:
        return [
            f"The expected ranges were computed for this run's procedure ({settings.get('replicates')} replicates, "
            f"seed {settings.get('seed')})."
        ]
    return [
        "WARNING: the cached expected ranges were computed for another procedure (differing in: "
        + ", ".join(differ)
        + "); they do not describe this run. Rerun `snakemake paper_expected_ranges` and copy its outputs "
        "to data/ (see config/README.md)."
    ]
