"""Selection stability from the optimism bootstrap's replicates.

Heinze, Wallisch & Dunkler, "Variable selection – a review and recommendations for the
practicing statistician", Biom J 2018 (sec. 3.4 and Table 3), and Sauerbrei & Schumacher
(Stat Med 1992):

* inclusion frequency of each candidate; candidates never eligible for selection (excluded
  from the multivariable model) are marked as such, not counted as "0 of B";
* model selection frequency: how often the exact final model (and each other model) was
  selected, and how often nothing was selected;
* pairwise inclusion frequencies (both selected), with the frequency expected under
  independence, to show substitutes (< expected) and companions (> expected);
* per coefficient, with the bootstrap estimate set to 0 when the term was not selected:
  RMSD ratio = sqrt(mean_b (β_b − β_global)²) / SE(β_global), the inflation of the
  uncertainty by selection relative to the global model of every eligible candidate; and
  relative conditional bias = mean(β_b | selected) / β_global − 1, the bias away from the
  global model when the term is selected (testimation bias).
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np
import pandas as pd

from crlmflow.survival.design import normalise_candidates

__all__ = ["inclusion_frequency", "model_frequency", "pairwise_inclusion", "coefficient_stability"]


def _selected_sets(replicates: pd.DataFrame) -> list[frozenset]:
    return [frozenset(s.split(";")) if isinstance(s, str) and s else frozenset() for s in replicates["selected"]]


def inclusion_frequency(replicates: pd.DataFrame, candidates, *, exclude=(), final=()) -> pd.DataFrame:
    """Per candidate: eligible, times_selected, proportion (NaN when never eligible),
    in_final_model."""
    names = [c.name for c in normalise_candidates(candidates)]
    sets = _selected_sets(replicates)
    B = len(sets)
    rows = []
    for v in names:
        eligible = v not in set(exclude)
        k = int(sum(v in s for s in sets))
        rows.append(
            {
                "variable": v,
                "eligible": eligible,
                "times_selected": k if eligible else pd.NA,
                "proportion": k / B if eligible and B else float("nan"),
                "in_final_model": v in set(final),
            }
        )
    out = pd.DataFrame(rows)
    out["times_selected"] = out["times_selected"].astype("Int64")
    return out


def model_frequency(replicates: pd.DataFrame, final=()) -> pd.DataFrame:
    """Every selected model (terms joined by ';', '' = none selected) with its count and
    proportion, most frequent first; ``is_final_model`` marks the model selected on the data."""
    sets = _selected_sets(replicates)
    B = len(sets)
    counts = Counter(sets)
    final = frozenset(final)
    if final not in counts:
        counts[final] = 0
    rows = [
        {
            "model": ";".join(sorted(m)),
            "n_terms": len(m),
            "times_selected": k,
            "proportion": k / B if B else float("nan"),
            "is_final_model": m == final,
        }
        for m, k in counts.items()
    ]
    return (
        pd.DataFrame(rows).sort_values(["times_selected", "model"], ascending=[False, True], kind="stable")
    ).reset_index(drop=True)


def pairwise_inclusion(replicates: pd.DataFrame, variables) -> pd.DataFrame:
    """Per pair of variables: proportion of replicates selecting both, and the product of
    their inclusion frequencies (the proportion expected if selected independently)."""
    sets = _selected_sets(replicates)
    B = len(sets)
    inc = {v: np.array([v in s for s in sets]) for v in variables}
    rows = []
    for a, b in combinations(variables, 2):
        both = float((inc[a] & inc[b]).mean()) if B else float("nan")
        rows.append(
            {
                "variable_1": a,
                "variable_2": b,
                "proportion_both": both,
                "expected_if_independent": float(inc[a].mean() * inc[b].mean()) if B else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def coefficient_stability(replicates: pd.DataFrame, global_coef: pd.DataFrame, variable_of: dict) -> pd.DataFrame:
    """RMSD ratio and relative conditional bias per coefficient (Heinze et al. 2018).

    ``replicates`` carries ``coef_<term>`` (0 where the term was not selected) and
    ``selected``; ``global_coef`` has columns term, coef, se of the global model (every
    eligible candidate); ``variable_of`` maps a term to its candidate.
    """
    sets = _selected_sets(replicates)
    rows = []
    for term, b0, se0 in global_coef[["term", "coef", "se"]].itertuples(index=False):
        col = f"coef_{term}"
        if col not in replicates:
            raise ValueError(f"bootstrap replicates have no column {col!r}: rerun the bootstrap chunks")
        beta = replicates[col].to_numpy(float)
        chosen = np.array([variable_of[term] in s for s in sets])
        rmsd = float(np.sqrt(np.mean((beta - b0) ** 2))) if beta.size else float("nan")
        cond = float(beta[chosen].mean()) if chosen.any() else float("nan")
        rows.append(
            {
                "term": term,
                "variable": variable_of[term],
                "global_coef": float(b0),
                "global_se": float(se0),
                "bootstrap_mean": float(beta.mean()) if beta.size else float("nan"),
                "bootstrap_median": float(np.median(beta)) if beta.size else float("nan"),
                "rmsd_ratio": rmsd / float(se0),
                "conditional_mean": cond,
                "relative_conditional_bias": cond / float(b0) - 1.0,
            }
        )
    return pd.DataFrame(rows)
