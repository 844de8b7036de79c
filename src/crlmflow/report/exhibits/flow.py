"""Figure 1: the numbers of the patient flow chart, checked to add up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["flow_summary"]


def _cohort_counts(flow: Mapping[str, Any], name: str) -> dict[str, Any]:
    excluded = {str(k): int(v) for k, v in flow.get("excluded", {}).items()}
    out = {
        "read": int(flow["read"]),
        "excluded": excluded,
        "n_excluded": sum(excluded.values()),
        "included": int(flow["included"]),
    }
    if out["read"] - out["n_excluded"] != out["included"]:
        raise ValueError(
            f"{name} flow does not add up: {out['read']} read - {out['n_excluded']} excluded "
            f"!= {out['included']} included"
        )
    return out


def flow_summary(
    flow: Mapping[str, Any], split: Mapping[str, Any] | None, external_flow: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Counts of the patient flow chart; checks that they add up.

    ``flow`` is the development cohort's ``flow.json``. With a random split its included
    patients are the training plus validation sets. With ``split.method: external`` the
    development cohort's included patients are the training set and ``external_flow``
    (the external cohort's ``flow.json``, with its own exclusions) gives the validation
    (external) cohort; the result then also holds ``external``, the external cohort's
    counts, and each cohort is checked against its own set. With multiple imputation
    (``flow["incomplete_kept"]``) ``included_label`` says how many included patients have
    imputed values.
    """
    out = _cohort_counts(flow, "development cohort")
    if "incomplete_kept" in flow:
        # multiple imputation: the incomplete patients are included, their values imputed
        k = int(flow["incomplete_kept"])
        out["included_label"] = f"Patients included\n({k} with missing values imputed)"
    out["sets"] = {}
    method = (split or {}).get("method", "none")
    if method == "none":
        return out
    out["sets"] = {str(k): int(v) for k, v in split["n"].items()}
    if method == "external":
        if external_flow is None:
            raise ValueError("split.method is external but no flow of the external cohort was given")
        out["external"] = _cohort_counts(external_flow, "external cohort")
        if out["sets"].get("train", 0) != out["included"]:
            raise ValueError(
                f"training set ({out['sets'].get('train', 0)}) is not the development cohort's "
                f"{out['included']} included patients"
            )
        if out["sets"].get("validation", 0) != out["external"]["included"]:
            raise ValueError(
                f"external validation set ({out['sets'].get('validation', 0)}) is not the external "
                f"cohort's {out['external']['included']} included patients"
            )
        return out
    if sum(out["sets"].values()) != out["included"]:
        raise ValueError("set sizes do not add up to the included patients")
    return out
