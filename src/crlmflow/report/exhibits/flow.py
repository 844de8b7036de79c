"""Figure 1: the numbers of the patient flow chart, checked to add up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["flow_summary"]


def flow_summary(flow: Mapping[str, Any], split: Mapping[str, Any] | None) -> dict[str, Any]:
    """Counts of the patient flow chart; checks that they add up."""
    excluded = {str(k): int(v) for k, v in flow.get("excluded", {}).items()}
    out = {
        "read": int(flow["read"]),
        "excluded": excluded,
        "n_excluded": sum(excluded.values()),
        "included": int(flow["included"]),
        "sets": {},
    }
    if out["read"] - out["n_excluded"] != out["included"]:
        raise ValueError(
            f"flow does not add up: {out['read']} read - {out['n_excluded']} excluded != {out['included']} included"
        )
    if split and split.get("method", "none") != "none":
        out["sets"] = {str(k): int(v) for k, v in split["n"].items()}
        if sum(out["sets"].values()) != out["included"]:
            raise ValueError("set sizes do not add up to the included patients")
    return out
