"""Missing-at-random (MAR) missingness imposed on a simulated raw export.

A scenario's ``missing`` list makes some predictors incomplete in the replicate cohorts (never
in the truth cohort), so complete-case analysis can be judged against multiple imputation.
Each entry ``{"variable", "fraction", "depends_on": {column: log-odds per SD}}`` deletes values
of ``variable`` with probability

    P(missing_i) = expit(a + sum_k b_k z_ik),

``z_k`` the standardised observed columns named in ``depends_on`` (raw-export columns, or
``died`` / ``recurred``: the indicators of a recorded death / recurrence date, so missingness
depends on the outcome) and the intercept ``a`` solved so that the mean probability in the
cohort equals ``fraction``.  Missingness depends on observed values only (never on the
deleted value itself): missing at random in Rubin's sense (Rubin, Biometrika 1976; the
mechanism of White, Royston & Wood, Stat Med 2011, §9, for simulation studies of MICE).
Because the outcome drives missingness, complete cases are a biased sample and
complete-case estimates can be biased, while multiple imputation with the outcome in the
imputation model is not (White & Royston, Stat Med 2009).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

__all__ = ["OUTCOME_INDICATORS", "parse_missing", "missing_probability", "impose_missingness"]

#: Outcome-related indicators a missingness model may depend on.
OUTCOME_INDICATORS = {"died": "death_date", "recurred": "recurrence_date"}


def parse_missing(spec) -> list[dict]:
    """Checked ``missing`` entries (an empty list for none); a malformed entry is an error naming it."""
    out = []
    for i, m in enumerate(spec or []):
        if (
            not isinstance(m, dict)
            or not {"variable", "fraction"} <= set(m)
            or set(m) - {"variable", "fraction", "depends_on"}
        ):
            raise ValueError(f"missing entry {i} {m!r}: expected keys variable, fraction, depends_on")
        frac = float(m["fraction"])
        if not 0.0 < frac < 1.0:
            raise ValueError(f"missing entry {i} ({m['variable']}): fraction must lie in (0, 1), got {frac}")
        dep = {str(k): float(v) for k, v in (m.get("depends_on") or {}).items()}
        if m["variable"] in dep:
            raise ValueError(f"missing entry {i}: {m['variable']!r} may not depend on itself (that is MNAR, not MAR)")
        out.append({"variable": str(m["variable"]), "fraction": frac, "depends_on": dep})
    return out


def _observed(raw: pd.DataFrame, name: str) -> np.ndarray:
    if name in OUTCOME_INDICATORS:
        return raw[OUTCOME_INDICATORS[name]].notna().to_numpy(float)
    if name not in raw.columns:
        raise ValueError(
            f"missingness depends on {name!r}, not a raw-export column nor one of {sorted(OUTCOME_INDICATORS)}"
        )
    x = pd.to_numeric(raw[name], errors="coerce").to_numpy(float)
    if not np.isfinite(x).all():
        raise ValueError(f"missingness depends on {name!r}, which is not numeric and complete")
    return x


def missing_probability(raw: pd.DataFrame, entry: dict) -> np.ndarray:
    """Per row P(missing) = expit(a + sum_k b_k z_k), ``a`` solved for the mean ``fraction``."""
    lin = np.zeros(len(raw))
    for name, b in entry["depends_on"].items():
        x = _observed(raw, name)
        sd = x.std()
        lin += b * ((x - x.mean()) / sd if sd > 0 else 0.0)
    a = brentq(lambda a: expit(a + lin).mean() - entry["fraction"], -50.0, 50.0, xtol=1e-12)
    return expit(a + lin)


def impose_missingness(raw: pd.DataFrame, spec, rng: np.random.Generator) -> pd.DataFrame:
    """A copy of ``raw`` with each ``spec`` entry's values deleted at random (MAR); every
    probability is computed on the complete export first, so entries do not interact."""
    entries = parse_missing(spec)
    if not entries:
        return raw
    probs = [missing_probability(raw, m) for m in entries]
    out = raw.copy()
    for m, p in zip(entries, probs):
        if m["variable"] not in out.columns:
            raise ValueError(f"missing: {m['variable']!r} is not a column of the raw export")
        out.loc[rng.random(len(out)) < p, m["variable"]] = np.nan
    return out
