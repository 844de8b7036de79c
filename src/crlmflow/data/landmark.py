"""Landmark analysis (van Houwelingen, Scand J Stat 2007; Dafni, Circ Cardiovasc Qual
Outcomes 2011): predict from a landmark time s after time zero, using only what is known
at s, for the patients still event-free and under follow-up at s.

Time zero of the paper is surgery, but some candidates are not known then: hospital days
at discharge, and "only neoadjuvant" chemotherapy means that no adjuvant chemotherapy was
given *later* — a patient must survive to receive it (immortal time; reverse causation).
From a landmark a few months after surgery both are known, and comparing the groups from
there removes the immortal time.

:func:`landmark_cohort` keeps the patients with every endpoint's time beyond s (no event of
any endpoint and not censored by s), subtracts s from every endpoint time, and counts who
was left out and why, so that no patient disappears silently.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd


def landmark_cohort(df: pd.DataFrame, s: float, endpoints: Mapping[str, Mapping]) -> tuple[pd.DataFrame, dict]:
    """``(cohort at the landmark, counts)``.

    Parameters
    ----------
    df : DataFrame
        The cohort with the endpoints' ``time`` (months from time zero) and ``event`` columns.
    s : float
        The landmark, months after time zero (> 0).
    endpoints : mapping
        ``{name: {"time": column, "event": column}}`` (the config's endpoints).

    Returns
    -------
    DataFrame, dict
        The patients with every endpoint time > s, times measured from s (T − s); counts
        ``landmark_months, n_before, n_at_landmark, event_by_landmark`` (an event of any
        endpoint at or before s) and ``censored_by_landmark`` (follow-up ended at or before s
        without an event).
    """
    if not s > 0:
        raise ValueError(f"landmark.time must be > 0 months, got {s!r}")
    times = [ep["time"] for ep in endpoints.values()]
    events = [ep["event"] for ep in endpoints.values()]
    reached = pd.Series(True, index=df.index)
    event_by = pd.Series(False, index=df.index)
    for t, e in zip(times, events):
        reached &= df[t] > s
        event_by |= (df[t] <= s) & (df[e] == 1)
    out = df.loc[reached].copy()
    for t in dict.fromkeys(times):
        out[t] = out[t] - s
    counts = {
        "landmark_months": float(s),
        "n_before": int(len(df)),
        "n_at_landmark": int(reached.sum()),
        "event_by_landmark": int(event_by.sum()),
        "censored_by_landmark": int((~reached & ~event_by).sum()),
    }
    return out.reset_index(drop=True), counts
