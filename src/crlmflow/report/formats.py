"""How a prediction horizon (months) is spelled in keys and column names.

One spelling everywhere — the model file's ``baseline_survival_at_means``, the ``surv_<h>``
and ``brier_<h>`` columns, the app's element ids — so they can be looked up by each other.
"""

from __future__ import annotations

__all__ = ["horizon_key"]


def horizon_key(h) -> str:
    """12 / 12.0 -> '12', 18.5 -> '18.5'."""
    return str(int(h)) if float(h).is_integer() else str(h)
