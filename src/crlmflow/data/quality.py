"""The data-quality report of a run: what was accepted, not only what was rejected.

For every column of the layout the cleaning counts the cells present, blank, read as a
missing-value code, recoded (a category written in another case), converted (declared
units), filled in (e.g. the last follow-up of a patient who died, taken from the date of
death), kept blank to be imputed (``imputed``, only with ``data.missing_predictors:
multiple_imputation``), and the plausibility warnings raised; for every endpoint the events of the
included patients and the events censored at an administrative follow-up cut-off.
Counts only: no patient identifier and no cell value enters the report.
"""

from __future__ import annotations

import html
from collections import defaultdict

import pandas as pd

#: Count columns of the report, in order.
COUNTS = (
    "present",
    "missing",
    "missing_code",
    "recoded",
    "converted",
    "filled",
    "imputed",
    "events",
    "censored_at_cutoff",
)
COLUMNS = ("section", "name", *COUNTS, "warnings")
#: Counts shown only when some cell has them (``imputed``: multiple imputation only, so the
#: complete-case report keeps its columns).
OPTIONAL_COUNTS = ("imputed",)


class QualityLog:
    """Collects counts and warnings per column or endpoint while a cohort is cleaned."""

    def __init__(self):
        self._counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        self._warnings: dict[tuple[str, str], list[str]] = defaultdict(list)

    def count(self, name: str, what: str, n, section: str = "column") -> None:
        if what not in COUNTS:
            raise ValueError(f"unknown count {what!r}; expected one of {COUNTS}")
        self._counts[(section, name)][what] = self._counts[(section, name)].get(what, 0) + int(n)

    def warn(self, name: str | None, text: str, section: str = "column") -> None:
        key = (section, name or "(file)")
        self._counts.setdefault(key, {})
        self._warnings[key].append(text)

    @property
    def warnings(self) -> list[str]:
        return [f"{name}: {w}" if name != "(file)" else w for (_, name), ws in self._warnings.items() for w in ws]

    def table(self) -> pd.DataFrame:
        """One row per column (then per endpoint), the counts and the warnings joined by '; '."""
        rows = []
        for (section, name), counts in self._counts.items():
            row = {"section": section, "name": name}
            row.update({c: counts.get(c) for c in COUNTS})
            row["warnings"] = "; ".join(self._warnings.get((section, name), []))
            rows.append(row)
        df = pd.DataFrame(rows, columns=list(COLUMNS))
        order = {"file": 0, "column": 1, "endpoint": 2}
        df = df.sort_values("section", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
        for c in COUNTS:
            df[c] = df[c].astype("Int64")
        return df.drop(columns=[c for c in OPTIONAL_COUNTS if df[c].isna().all()])


def quality_html(table: pd.DataFrame, flow: dict, title: str) -> str:
    """A self-contained HTML page of the report (for the Snakemake report)."""
    notes = "".join(f"<li>{html.escape(str(n))}</li>" for n in flow.get("notes", []))
    excluded = "".join(f"<li>{html.escape(str(k))}: {int(v)}</li>" for k, v in flow.get("excluded", {}).items())
    body = table.to_html(index=False, na_rep="", escape=True, border=0)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
        "td:first-child,td:nth-child(2),td:last-child{text-align:left}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f"<p>Patients read: {int(flow.get('read', 0))}; included: {int(flow.get('included', 0))}.</p>\n"
        f"<h2>Exclusions</h2><ul>{excluded}</ul>\n"
        + _imputed_html(flow)
        + (f"<h2>Notes</h2><ul>{notes}</ul>\n" if notes else "")
        + "<h2>Columns and endpoints</h2>\n"
        "<p>Counts of cells: present, blank (missing), read as a missing-value code, recoded "
        "(category case), converted (declared units), filled in; events per endpoint of the "
        "included patients and events censored at the follow-up cut-off.</p>\n"
        f"{body}\n</body></html>\n"
    )


def _imputed_html(flow: dict) -> str:
    """The multiple-imputation paragraph: patients kept with missing values, per column."""
    if "imputed" not in flow:
        return ""
    items = "".join(f"<li>{html.escape(str(k))}: {int(v)}</li>" for k, v in flow["imputed"].items())
    return (
        f"<h2>Multiple imputation</h2><p>Patients kept with a missing candidate value (imputed, "
        f"not excluded): {int(flow.get('incomplete_kept', 0))}. Values to impute per column (also "
        "the column <i>imputed</i> of the table below):</p>"
        f"<ul>{items}</ul>\n"
    )
