"""Scenarios of the simulation study: named overrides of the true outcome model.

The default mechanism (:mod:`crlmflow.simulation.mechanism`) has the paper's Table 2 effects,
a few strong predictors and exactly linear effects: the easiest case for a selection
procedure.  A scenario changes the truth (never the covariates, the treatment model or the
baselines), so a method can be judged where it is harder (Morris, White & Crowther 2019,
Stat Med 38:2074, section 3: data-generating mechanisms varied factor by factor):

* ``effect_scale`` multiplies every true log-HR (e.g. 0.5: shrunken effects, HR^0.5);
* ``extra_log_hr`` ``{"os"|"rfs": {column: log-HR per unit}}`` adds linear effects (e.g.
  many small effects spread over candidates that are null by default);
* ``nonlinear`` a list of hinge (threshold) terms ``{"endpoint", "variable", "knot",
  "log_hr_below", "log_hr_above"}`` adding
  ``log_hr_below * max(0, knot - x) + log_hr_above * max(0, x - knot)`` to the linear
  predictor: a threshold effect a linear term cannot capture.

A scenario may also make predictors incomplete (``missing``, a sibling of ``effects``):
missing-at-random deletions in the replicate cohorts, never in the truth cohort
(:mod:`crlmflow.simulation.missingness`), so complete-case analysis (and, once registered,
multiple imputation) is judged against the complete truth.

Functions here work on plain dicts of arrays (raw-export or cleaned-cohort columns).
"""

from __future__ import annotations

import numpy as np

from crlmflow.simulation.missingness import parse_missing

__all__ = [
    "ENDPOINT_KEYS",
    "parse_effects",
    "effective_log_hr",
    "hinge_contribution",
    "scenario_settings",
    "BUILTIN_SCENARIOS",
]

#: Simulator endpoints whose true model a scenario may change.
ENDPOINT_KEYS = ("os", "rfs")
_HINGE_KEYS = {"endpoint", "variable", "knot", "log_hr_below", "log_hr_above"}


def parse_effects(effects: dict | None) -> dict | None:
    """Checked scenario effects, or ``None`` for the default mechanism (no override).

    Returns ``{"effect_scale": float, "extra_log_hr": {"os": {...}, "rfs": {...}},
    "nonlinear": [hinge dicts]}``; an unknown key, endpoint or a non-finite value is an error
    naming it.
    """
    if not effects:
        return None
    unknown = set(effects) - {"effect_scale", "extra_log_hr", "nonlinear"}
    if unknown:
        raise ValueError(
            f"unknown scenario effect keys {sorted(unknown)}; allowed: effect_scale, extra_log_hr, nonlinear"
        )
    scale = float(effects.get("effect_scale", 1.0))
    if not np.isfinite(scale):
        raise ValueError(f"effect_scale must be finite, got {scale}")
    extra = {k: {} for k in ENDPOINT_KEYS}
    for ep, terms in (effects.get("extra_log_hr") or {}).items():
        if ep not in ENDPOINT_KEYS:
            raise ValueError(f"extra_log_hr endpoint {ep!r} unknown; expected one of {list(ENDPOINT_KEYS)}")
        extra[ep] = {str(c): float(b) for c, b in (terms or {}).items()}
    hinges = []
    for i, h in enumerate(effects.get("nonlinear") or []):
        bad = set(h) - _HINGE_KEYS
        if bad or not {"endpoint", "variable", "knot"} <= set(h) or h["endpoint"] not in ENDPOINT_KEYS:
            raise ValueError(
                f"nonlinear term {i} {h!r}: expected keys endpoint (os/rfs), variable, knot, log_hr_below, log_hr_above"
            )
        hinges.append(
            dict(
                endpoint=str(h["endpoint"]),
                variable=str(h["variable"]),
                knot=float(h["knot"]),
                log_hr_below=float(h.get("log_hr_below", 0.0)),
                log_hr_above=float(h.get("log_hr_above", 0.0)),
            )
        )
    return {"effect_scale": scale, "extra_log_hr": extra, "nonlinear": hinges}


def effective_log_hr(base: dict, effects: dict, key: str) -> dict:
    """The scenario's linear log-HRs of endpoint ``key``: ``effect_scale * base`` plus the extra ones."""
    out = {name: effects["effect_scale"] * float(b) for name, b in base.items()}
    for name, b in effects["extra_log_hr"][key].items():
        out[name] = out.get(name, 0.0) + b
    return out


def hinge_contribution(columns, hinges: list, key: str, n: int) -> np.ndarray:
    """Sum of the hinge terms of endpoint ``key`` on ``columns`` (a dict or DataFrame of ``n`` rows)."""
    out = np.zeros(n)
    for h in hinges:
        if h["endpoint"] != key:
            continue
        x = np.asarray(columns[h["variable"]], float)
        out += h["log_hr_below"] * np.maximum(0.0, h["knot"] - x) + h["log_hr_above"] * np.maximum(0.0, x - h["knot"])
    return out


#: Shipped scenarios (a ``simulation_study.scenarios`` entry of the same name replaces one).
BUILTIN_SCENARIOS: dict[str, dict] = {
    # every true log-HR halved: weaker signal, the selection and the optimism correction strained
    "shrunken": {"effects": {"effect_scale": 0.5}},
    # the signal spread over many candidates: halved paper effects plus small effects of labs etc.
    "many_small": {
        "effects": {
            "effect_scale": 0.5,
            "extra_log_hr": {
                "os": {
                    "age": 0.01,
                    "bmi": -0.02,
                    "hgb": -0.005,
                    "plt": 0.001,
                    "ast": 0.005,
                    "alb": -0.03,
                    "d_dimer": 0.05,
                    "asa": 0.15,
                },
                "rfs": {"age": 0.005, "cea": 0.001, "alb": -0.02, "d_dimer": 0.05},
            },
        }
    },
    # a threshold effect a linear term cannot capture: risk rising below albumin 38 g/L
    "nonlinear": {
        "effects": {
            "nonlinear": [
                {"endpoint": "os", "variable": "alb", "knot": 38.0, "log_hr_below": 0.15, "log_hr_above": 0.0},
                {"endpoint": "rfs", "variable": "alb", "knot": 38.0, "log_hr_below": 0.10, "log_hr_above": 0.0},
            ]
        }
    },
    # the default truth with 1000 eligible patients per replicate cohort
    "n1000": {"n_eligible": 1000},
    # the default truth, three predictors missing at random, more often in patients who died or
    # recurred and in older / higher-ASA patients (about a third of the cohort incomplete)
    "mar": {
        "missing": [
            {"variable": "r0_resection", "fraction": 0.10, "depends_on": {"died": 1.0, "age": 0.5}},
            {"variable": "alb", "fraction": 0.15, "depends_on": {"recurred": 0.8, "asa": 0.5}},
            {"variable": "ca19_9", "fraction": 0.15, "depends_on": {"died": 0.8, "age": -0.3}},
        ]
    },
}


def scenario_settings(sim: dict) -> dict:
    """The selected scenario of the ``simulation_study`` config block (:data:`BUILTIN_SCENARIOS`
    plus the config's ``scenarios``, which replace a shipped one of the same name).

    Returns ``{"name", "n_eligible", "effects", "missing"}``: ``effects`` is the raw override
    (``None`` for ``"default"`` and for a scenario without ``effects``), ``n_eligible`` the
    scenario's or the study's, ``missing`` the MAR missingness entries (``[]`` for none).  An unknown scenario name is an error listing the defined ones.
    """
    name = str(sim.get("scenario", "default"))
    defined = {**BUILTIN_SCENARIOS, **(sim.get("scenarios") or {})}
    if "default" in (sim.get("scenarios") or {}):
        raise ValueError("simulation_study.scenarios may not define 'default' (the paper-calibrated truth)")
    if name == "default":
        spec = {}
    elif name in defined:
        spec = defined[name] or {}
    else:
        raise ValueError(f"simulation_study.scenario {name!r} is not defined; defined: {['default', *sorted(defined)]}")
    effects = spec.get("effects") or None
    parse_effects(effects)  # fail early, at DAG build, on a malformed override
    missing = parse_missing(spec.get("missing"))
    return {
        "name": name,
        "n_eligible": int(spec.get("n_eligible", sim["n_eligible"])),
        "effects": effects,
        "missing": missing,
    }
