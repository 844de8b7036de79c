"""Table 3: Kaplan–Meier survival rates at the horizons and median survival, per set.

Formats the ``km_summaries`` rule's ``km_rates.csv``; nothing is estimated here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crlmflow.report.formats import NOT_AVAILABLE, format_median, format_rate, horizon_label, set_label

__all__ = ["table3"]


def table3(
    km_rates: pd.DataFrame,
    endpoints: Sequence[str],
    sets: Sequence[str],
    horizons: Sequence[float],
    *,
    endpoint_short: Mapping[str, str] | None = None,
    include_all: bool = True,
    set_labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Table 3: Kaplan-Meier survival rates (%) at the horizons per endpoint and set, and the
    median survival with two 95% CIs: the SPSS-style symmetric one (median +/- 1.96 SE), which
    the paper prints, and R's survfit one (inverting the pointwise CI; upper 'not reached' when
    the CI never crosses 0.5). ``set_labels`` overrides the set names (an external cohort is
    named as such)."""
    short = {ep: ep.upper() for ep in endpoints} | dict(endpoint_short or {})
    ov = km_rates[km_rates["panel"] == "overall"]
    rows = []
    groups = list(sets) + (["all"] if include_all else [])
    for ep in endpoints:
        for s in groups:
            sub = ov[(ov["endpoint"] == ep) & (ov["set"] == s)]
            if sub.empty:
                continue
            rec = {"Factors": f"{short[ep]} ({set_label(s, set_labels)}), %"}
            for h in horizons:
                r = sub[np.isclose(sub["time"].astype(float), float(h))]
                rec[f"{horizon_label(h)} rate"] = format_rate(float(r["surv"].iloc[0])) if len(r) else NOT_AVAILABLE
            x = sub.iloc[0]
            rec["Median, months (95% CI, SPSS)"] = format_median(
                x["median_spss"], x["median_spss_lower"], x["median_spss_upper"]
            )
            rec["Median, months (95% CI, R survfit)"] = format_median(
                x["median_km"], x["median_km_lower"], x["median_km_upper"]
            )
            rec["Patients / events"] = f"{int(x['n'])} / {int(x['events'])}"
            rows.append(rec)
    return pd.DataFrame(rows)
