"""Endpoints at the data stage: every configured endpoint must have its events.

An optional event column (``recurrence_date``, ``death_date``) that is absent or misnamed
would otherwise give an endpoint without events (or, with ``death_censors_rfs: false``, an
RFS identical to OS), noticed only when the Cox model cannot be fitted. Here:

* :func:`event_sources` — the raw columns an endpoint's events are counted from;
* :func:`absent_event_columns` — a problem per absent source column, naming an unknown
  column of the file that looks like a misspelling of it (:func:`lookalikes`);
* :func:`check_events` — a problem per endpoint with no event among the included patients;
* :func:`exclusion_bias` — warnings when patients excluded for missing data had events
  much more often than the patients kept (Little & Rubin 2002: complete-case analysis is
  biased unless data are missing completely at random).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

import pandas as pd

from crlmflow.data.errors import Problem

#: Derived event column -> the raw date columns it is counted from (``dates`` layout).
DATE_EVENT_SOURCES = {"os_event": ["death_date"], "rfs_event": ["recurrence_date"]}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def lookalikes(wanted: Iterable[str], columns: Iterable[str], known: Iterable[str] = ()) -> dict[str, str]:
    """``{wanted column: unknown column of the file that looks like it}``.

    A column looks like another when, lower-cased without punctuation, the two are equal,
    share the same words in another order, or are close by :class:`difflib.SequenceMatcher`
    (ratio >= 0.8). Columns that are themselves ``known`` names are never proposed.
    """
    known = set(known)
    pool = [c for c in columns if c not in known]
    out = {}
    for w in wanted:
        nw, words = _norm(w), set(re.split(r"[^a-z0-9]+", w.lower())) - {""}
        best, score = None, 0.0
        for c in pool:
            nc = _norm(c)
            r = (
                1.0
                if nc == nw or (set(re.split(r"[^a-z0-9]+", str(c).lower())) - {""}) == words
                else difflib.SequenceMatcher(None, nw, nc).ratio()
            )
            if r > score:
                best, score = c, r
        if best is not None and score >= 0.8:
            out[w] = best
    return out


def lookalike_hint(wanted: Iterable[str], columns: Iterable[str], known: Iterable[str] = ()) -> str:
    """`` — the file has 'x', which looks like 'y' (map it ...)`` or ``""``."""
    found = lookalikes(wanted, columns, known)
    if not found:
        return ""
    pairs = "; ".join(f"the file has '{c}', which looks like '{w}'" for w, c in found.items())
    return f"; {pairs} (rename the column or map it with data.file.columns)"


def event_sources(endpoints: Mapping[str, Mapping], format: str, death_censors_rfs: bool = True) -> dict:
    """``{endpoint name: (event column, [raw columns its events come from])}``."""
    out = {}
    for name, ep in endpoints.items():
        event = ep["event"]
        if format == "dates" and event in DATE_EVENT_SOURCES:
            cols = list(DATE_EVENT_SOURCES[event])
            if event == "rfs_event" and not death_censors_rfs:
                cols.append("death_date")
            out[name] = (event, cols)
        else:
            out[name] = (event, [event])
    return out


def absent_event_columns(
    typed: pd.DataFrame, columns: Iterable[str], sources: Mapping, source: str, known: Iterable[str]
) -> list[Problem]:
    """A problem for each event column an endpoint needs that the file lacks or leaves empty.

    ``typed``: the parsed columns (missing cells NA); ``columns``: the file's column names.
    """
    problems = []
    known, columns = set(known), list(columns)
    for name, (event, cols) in sources.items():
        for c in cols:
            if c not in columns:
                problems.append(
                    Problem(
                        source,
                        None,
                        c,
                        None,
                        (
                            f"column '{c}' is absent, but endpoint '{name}' counts its events ({event}) from it; "
                            f"expected a column '{c}' (empty cells where there was no event)"
                            + lookalike_hint([c], columns, known)
                        ),
                    )
                )
            elif c in typed and len(typed) and typed[c].isna().all():
                problems.append(
                    Problem(
                        source,
                        None,
                        c,
                        None,
                        (
                            f"column '{c}' is empty in every row, but endpoint '{name}' counts its events ({event}) "
                            "from it; expected at least one event (check the export and the column mapping)"
                        ),
                    )
                )
    return problems


def check_events(cohort: pd.DataFrame, sources: Mapping, source: str) -> list[Problem]:
    """A problem for each endpoint without any event among the included patients."""
    problems = []
    for name, (event, cols) in sources.items():
        if event not in cohort:
            continue
        if len(cohort) and int(pd.to_numeric(cohort[event], errors="coerce").fillna(0).sum()) == 0:
            problems.append(
                Problem(
                    source,
                    None,
                    cols[0],
                    None,
                    (
                        f"endpoint '{name}' has no event among the {len(cohort)} included patients "
                        f"({event} is 0 for all, counted from column{'s' if len(cols) > 1 else ''} "
                        f"{', '.join(repr(c) for c in cols)}); expected at least one event "
                        "(a Cox model cannot be estimated without events)"
                    ),
                )
            )
    return problems


def exclusion_bias(
    events: pd.DataFrame,
    excluded: pd.Series,
    included: pd.Series,
    *,
    min_excluded: int = 5,
    ratio: float = 1.5,
    margin: float = 0.10,
) -> list[str]:
    """Warnings for endpoints whose event rate among excluded patients is far above the kept.

    ``events``: one 0/1/NA column per endpoint (known events of every patient read);
    ``excluded``: patients excluded for missing data. Warns when at least ``min_excluded`` of
    them have a known status and their event rate exceeds the included rate by a factor
    ``ratio`` and by ``margin`` (absolute).
    """
    out = []
    for name in events.columns:
        e = pd.to_numeric(events[name], errors="coerce")
        ex, inc = e[excluded].dropna(), e[included].dropna()
        if len(ex) < min_excluded or not len(inc):
            continue
        r_ex, r_in = ex.mean(), inc.mean()
        if r_ex > ratio * r_in and r_ex - r_in > margin:
            out.append(
                f"exclusions for missing data concentrate in patients with events: {name} event rate "
                f"{100 * r_ex:.0f}% among the {len(ex)} excluded vs {100 * r_in:.0f}% among the "
                f"{len(inc)} included; the complete-case cohort under-represents events"
            )
    return out
