"""A manuscript-style Results section whose every number is traceable to an output file.

Each number is written into the Markdown as a link to its source, in the spirit of
showyourwork's ``\\variable``::

    [0.712](../validation/os/performance.csv#estimate?set=validation&measure=c_index "fmt=n3")

The link target is the output file (relative to the Markdown file), the fragment names the
field (a CSV column, or a dotted key path of a JSON file) and, for a CSV, the row: the
query ``col=value&...`` must match exactly one row. The title names the format (one of
:data:`FORMATS`, all from :mod:`crlmflow.report.formats`). :func:`check_results_text`
re-reads every source, re-formats it and lists each sentence whose printed number no
longer matches its source; ``python -m crlmflow audit results/report/results.md`` runs it.
No number is typed by hand: the builder only ever inserts :meth:`TextBuilder.num`.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode

import pandas as pd

from crlmflow.report.exhibits.imputation import MI_TABLE
from crlmflow.report.formats import (
    NOT_ESTIMABLE,
    format_number,
    format_p,
    format_rate,
    horizon_label,
    p_statement,
    set_label,
)

__all__ = [
    "FORMATS",
    "MARKER",
    "SourceRef",
    "TextBuilder",
    "read_source_value",
    "build_results_text",
    "check_results_text",
    "audit_results_text",
    "plain_text",
    "is_results_text",
]

MARKER = "<!-- crlmflow:results-text (numbers link to their source; check: python -m crlmflow audit FILE) -->"

FORMATS: dict[str, Callable[[object], str]] = {
    "int": lambda v: format_number(v, 0),
    "n1": lambda v: format_number(v, 1),
    "n2": lambda v: format_number(v, 2),
    "n3": lambda v: format_number(v, 3),
    "p": lambda v: format_p(v),
    "pstat": lambda v: p_statement(v),
    "pct1": lambda v: format_rate(v, 1),
}

# [text](path#field?query "fmt=name")
_LINK = re.compile(r'\[([^\]]*)\]\(([^)\s]+) "fmt=([a-z0-9]+)"\)')


@dataclass(frozen=True)
class SourceRef:
    """Where one number comes from: ``path`` (relative to the output folder), ``field``
    (CSV column or dotted JSON key path), ``where`` (CSV row selector) and ``fmt``."""

    path: str
    field: str
    where: tuple[tuple[str, str], ...] = ()
    fmt: str = "n2"

    def target(self, md_dir: str) -> str:
        """Link target relative to the Markdown file in ``md_dir`` (both under the outdir)."""
        rel = os.path.relpath(self.path, md_dir).replace(os.sep, "/")
        q = f"?{urlencode(self.where)}" if self.where else ""
        return f"{quote(rel)}#{quote(self.field)}{q}"

    @classmethod
    def parse(cls, target: str, fmt: str, md_dir: str) -> SourceRef:
        path, _, frag = target.partition("#")
        fld, _, query = frag.partition("?")
        norm = os.path.normpath(os.path.join(md_dir, unquote(path))).replace(os.sep, "/")
        return cls(norm, unquote(fld), tuple(parse_qsl(query, keep_blank_values=True)), fmt)


def _same(cell: str, want: str) -> bool:
    if cell == want:
        return True
    try:
        return float(cell) == float(want)
    except ValueError:
        return False


def read_source_value(outdir: str | Path, ref: SourceRef):
    """The value ``ref`` points at, read afresh from ``outdir/ref.path``.

    Raises ``ValueError`` naming the file, the field and the selector when the file has no
    such field or the selector does not match exactly one row.
    """
    path = Path(outdir) / ref.path
    if path.suffix == ".json":
        value = json.loads(path.read_text(encoding="utf-8"))
        for key in ref.field.split("."):
            if not isinstance(value, dict) or key not in value:
                raise ValueError(f"{path}: no key {ref.field!r} (missing part {key!r})")
            value = value[key]
        return value
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if ref.field not in df:
        raise ValueError(f"{path}: no column {ref.field!r}; columns are {list(df.columns)}")
    mask = pd.Series(True, index=df.index)
    for col, want in ref.where:
        if col not in df:
            raise ValueError(f"{path}: selector column {col!r} does not exist")
        mask &= df[col].map(lambda c, w=want: _same(c, w))
    if int(mask.sum()) != 1:
        raise ValueError(f"{path}: selector {dict(ref.where)} matches {int(mask.sum())} rows, expected exactly 1")
    cell = df.loc[mask, ref.field].iloc[0]
    return float(cell) if cell != "" else float("nan")


def render(value, fmt: str) -> str:
    """A source value as the text prints it; an empty (NaN) value -- a measure the run
    reports as not estimable, e.g. an AUC at a horizon with too few events -- prints as
    "not estimable", never as "NA"."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown number format {fmt!r}; expected one of {sorted(FORMATS)}")
    if isinstance(value, float) and math.isnan(value):
        return NOT_ESTIMABLE
    return FORMATS[fmt](value)


@dataclass
class TextBuilder:
    """Collects paragraphs; :meth:`num` inserts a number read from its source, as a link."""

    outdir: Path
    md_dir: str = "report"
    parts: list[str] = field(default_factory=list)

    def num(self, path: str, fld: str, fmt: str = "n2", **where) -> str:
        ref = SourceRef(path, fld, tuple((k, str(v)) for k, v in where.items()), fmt)
        text = render(read_source_value(self.outdir, ref), fmt)
        return f'[{text}]({ref.target(self.md_dir)} "fmt={fmt}")'

    def value(self, path: str, fld: str, **where):
        """A source value used for the *wording* (which terms, which direction), not printed."""
        return read_source_value(self.outdir, SourceRef(path, fld, tuple((k, str(v)) for k, v in where.items())))

    def para(self, text: str) -> None:
        self.parts.append(text)

    def markdown(self) -> str:
        return "\n\n".join([MARKER, *self.parts]) + "\n"


def _exists(outdir: Path, rel: str) -> bool:
    return (outdir / rel).is_file()


def build_results_text(
    outdir: str | Path,
    endpoints: dict,
    candidates: list[dict],
    horizons,
    *,
    cohort: str = "development",
    md_dir: str = "report",
) -> str:
    """The Results section in the paper's order: patients and follow-up, survival, the
    multivariable models, discrimination of each model, the risk-group cut-off.

    Every number is inserted by :meth:`TextBuilder.num` from the run's outputs under
    ``outdir``; a section whose output file is absent is left out, not invented.
    """
    outdir = Path(outdir)
    b = TextBuilder(outdir, md_dir)
    labels = {c["name"]: c.get("label", c["name"]) for c in candidates}
    b.para("## Results")

    flow, split = f"data/{cohort}/flow.json", "data/split_summary.json"
    b.para(
        f"### Patients\n\nOf {b.num(flow, 'read', 'int')} patients in the source data, "
        f"{b.num(flow, 'included', 'int')} met the inclusion criteria and were analysed; "
        f"{b.num(split, 'n.train', 'int')} were assigned to the {set_label('train').lower()} and "
        f"{b.num(split, 'n.validation', 'int')} to the {set_label('validation').lower()}."
        + _complete_case_sentence(b, outdir, split)
    )

    rates = "survival/km_rates.csv"
    if _exists(outdir, rates):
        lines = []
        for ep, spec in endpoints.items():
            sel = dict(endpoint=ep, panel="overall", set="all")
            h0 = horizons[0]
            med = b.value(rates, "median_spss", time=h0, **sel)
            median = (
                f"the median was {b.num(rates, 'median_spss', 'n1', time=h0, **sel)} months "
                f"(95% CI {b.num(rates, 'median_spss_lower', 'n1', time=h0, **sel)}–"
                f"{b.num(rates, 'median_spss_upper', 'n1', time=h0, **sel)})"
                if med == med
                else "the median was not reached"
            )
            rs = ", ".join(f"{horizon_label(h)} {b.num(rates, 'surv', 'pct1', time=h, **sel)}" for h in horizons)
            lines.append(
                f"{spec.get('label', ep)}: {b.num(rates, 'events', 'int', time=h0, **sel)} events among "
                f"{b.num(rates, 'n', 'int', time=h0, **sel)} patients; {median}; rates {rs}."
            )
        b.para("### Survival\n\n" + "\n\n".join(lines))

    _models(b, outdir, endpoints, labels)
    _discrimination(b, outdir, endpoints, horizons)
    _risk_groups(b, outdir, endpoints)
    return b.markdown()


def _complete_case_sentence(b: TextBuilder, outdir: Path, split: str) -> str:
    """Under multiple imputation (the split summary has ``complete_case``): the models,
    performance and risk groups below are the complete-case analysis of n patients, and the
    pooled model is in its own table. Empty otherwise (the text is then unchanged)."""
    if "complete_case" not in json.loads((outdir / split).read_text(encoding="utf-8")):
        return ""
    return (
        " Multiple imputation was used for missing predictor values, but the models, their performance "
        "and the risk groups reported below are the complete-case analysis of the "
        f"{b.num(split, 'complete_case.n.train', 'int')} training and "
        f"{b.num(split, 'complete_case.n.validation', 'int')} validation patients with every candidate "
        f"recorded; the model developed on all patients across the imputations is in {MI_TABLE}."
    )


def _has_row(path: Path, **where) -> bool:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    mask = pd.Series(True, index=df.index)
    for col, want in where.items():
        if col not in df:
            return False
        mask &= df[col].map(lambda c, w=str(want): _same(c, w))
    return int(mask.sum()) == 1


# -- checking ---------------------------------------------------------------------------


def is_results_text(path: str | Path) -> bool:
    """Whether ``path`` is a results text written by :func:`build_results_text`."""
    p = Path(path)
    if p.suffix != ".md" or not p.is_file():
        return False
    with p.open(encoding="utf-8") as fh:
        return fh.readline().startswith(MARKER[:30])


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around ``text[start:end]``, links shown as their printed numbers."""
    lo = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start)) + 1
    hi_dot, hi_nl = text.find(". ", end), text.find("\n", end)
    hi = min(x for x in (hi_dot + 1 if hi_dot >= 0 else len(text), hi_nl if hi_nl >= 0 else len(text)))
    return plain_text(text[lo:hi]).strip()


def check_results_text(md_path: str | Path, outdir: str | Path | None = None) -> list[str]:
    """Problems of a results text: one line per number whose source now gives another text
    (or cannot be read), with the sentence it sits in. Empty when the text is current.

    ``outdir`` defaults to the folder above the Markdown file's folder (``{outdir}/report``).
    """
    md_path = Path(md_path)
    outdir = Path(outdir) if outdir is not None else md_path.parent.parent
    md_dir = os.path.relpath(md_path.parent, outdir)
    text = md_path.read_text(encoding="utf-8")
    problems = []
    for m in _LINK.finditer(text):
        shown, target, fmt = m.groups()
        ref = SourceRef.parse(target, fmt, md_dir)
        where = f"{ref.path}#{ref.field}" + (f" where {dict(ref.where)}" if ref.where else "")
        try:
            now = render(read_source_value(outdir, ref), fmt)
        except (OSError, ValueError) as exc:
            problems.append(f"UNREADABLE {where}: {exc}\n    in: {_sentence(text, m.start(), m.end())}")
            continue
        if now != shown:
            problems.append(
                f"STALE {where}: text says {shown}, source gives {now}\n    in: {_sentence(text, m.start(), m.end())}"
            )
    return problems


def audit_results_text(md_path: str | Path, out=print) -> int:
    """Print the check of a results text; 0 when every number matches its source, else 1."""
    links = len(_LINK.findall(Path(md_path).read_text(encoding="utf-8")))
    problems = check_results_text(md_path)
    for p in problems:
        out(p)
    out(f"results text {md_path}: {links} numbers, {len(problems)} stale or unreadable")
    return 1 if problems else 0


def plain_text(markdown: str) -> str:
    """Markdown with the source links replaced by their printed numbers (for the .docx)."""
    return _LINK.sub(lambda m: m.group(1), markdown.replace(MARKER, "")).strip()


def _models(b: TextBuilder, outdir: Path, endpoints: dict, labels: dict) -> None:
    model_lines = []
    for ep, spec in endpoints.items():
        fit, multi = f"models/{ep}/fit.json", f"models/{ep}/multivariable.csv"
        if not _exists(outdir, multi):
            continue
        selected = list(b.value(fit, "selected"))
        if not selected:
            model_lines.append(f"{spec.get('label', ep)}: no candidate was retained by the selection procedure.")
            continue
        terms = pd.read_csv(outdir / multi)
        terms = terms.loc[terms["selected"].astype(bool) & terms["variable"].isin(selected), "term"].tolist()
        hrs = "; ".join(
            f"{labels.get(t, t)} (HR {b.num(multi, 'hr', 'n3', term=t)}, 95% CI "
            f"{b.num(multi, 'hr_lower', 'n3', term=t)}–{b.num(multi, 'hr_upper', 'n3', term=t)}, "
            f"{b.num(multi, 'p', 'pstat', term=t)})"
            for t in terms
        )
        model_lines.append(
            f"{spec.get('label', ep)} ({b.num(fit, 'n', 'int')} training patients, "
            f"{b.num(fit, 'events', 'int')} events): the independent factors retained were {hrs}."
        )
    if model_lines:
        b.para("### Multivariable Cox models\n\n" + "\n\n".join(model_lines))


def _discrimination(b: TextBuilder, outdir: Path, endpoints: dict, horizons) -> None:
    perf_lines = []
    for ep, spec in endpoints.items():
        perf = f"validation/{ep}/performance.csv"
        if not _exists(outdir, perf):
            continue
        sets = [s for s in ("train", "validation") if _has_row(outdir / perf, set=s, measure="c_index")]
        parts = []
        for s in sets:
            aucs = ", ".join(
                f"{horizon_label(h)} {b.num(perf, 'estimate', 'n3', set=s, measure='auc_km', horizon=h)}"
                for h in horizons
                if _has_row(outdir / perf, set=s, measure="auc_km", horizon=h)
            )
            lower = b.value(perf, "lower", set=s, measure="c_index")
            ci = (
                f"{b.num(perf, 'lower', 'n3', set=s, measure='c_index')}–"
                f"{b.num(perf, 'upper', 'n3', set=s, measure='c_index')}"
                if lower == lower
                else NOT_ESTIMABLE
            )
            parts.append(
                f"in the {set_label(s).lower()} the C-index was "
                f"{b.num(perf, 'estimate', 'n3', set=s, measure='c_index')} (95% CI {ci})"
                + (f" and the time-dependent AUCs were {aucs}" if aucs else "")
            )
        if parts:
            perf_lines.append(f"{spec.get('label', ep)}: " + "; ".join(parts) + ".")
    if perf_lines:
        b.para("### Discrimination\n\n" + "\n\n".join(perf_lines))


def _risk_groups(b: TextBuilder, outdir: Path, endpoints: dict) -> None:
    cut_lines = []
    for ep, spec in endpoints.items():
        cut = f"models/{ep}/cutpoint.json"
        if not _exists(outdir, cut):
            continue
        text = f"{spec.get('label', ep)}: the optimal cut-off of total points was {b.num(cut, 'total_points', 'n1')}"
        by_set = json.loads((outdir / cut).read_text(encoding="utf-8")).get("by_set", {})
        sets = [s for s in ("train", "validation") if (by_set.get(s) or {}).get("logrank_p") is not None]
        if sets:
            text += "; high- and low-risk groups differed (log-rank " + ", ".join(
                f"{set_label(s).lower()} {b.num(cut, f'by_set.{s}.logrank_p', 'pstat')}" for s in sets
            )
            text += ")"
        cut_lines.append(text + ".")
    if cut_lines:
        b.para("### Risk groups\n\n" + "\n\n".join(cut_lines))
