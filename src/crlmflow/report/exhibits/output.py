"""Writing an exhibit's table: CSV (the frame as is), HTML and Markdown (with title and
footnotes) and a Word document in journal style (``crlmflow.report.exhibits.docx``)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from crlmflow.report.exhibits.docx import write_docx
from crlmflow.report.formats import SIMULATED_NOTE, format_cell

__all__ = ["to_markdown", "write_table"]


def to_markdown(
    df: pd.DataFrame, title: str | None = None, footnotes: Sequence[str] = (), headline: Sequence[str] = ()
) -> str:
    """GitHub-flavoured pipe table (no extra dependency); leading spaces kept as NBSP.
    ``headline`` lines come between the title and the table."""
    cols = [str(c) for c in df.columns]
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    lines = []
    if title:
        lines += [f"**{title}**", ""]
    if headline:
        lines += [*(f"{h}  " for h in headline), ""]
    lines.append("| " + " | ".join(esc(c) for c in cols) + " |")
    lines.append("|" + "|".join("---" for _ in cols) + "|")
    for rec in df.itertuples(index=False):
        cells = []
        for v in rec:
            s = format_cell(v)
            n = len(s) - len(s.lstrip(" "))
            cells.append(esc("\u00a0" * n + s.lstrip(" ")))
        lines.append("| " + " | ".join(cells) + " |")
    if footnotes:
        lines.append("")
        lines += [f"{f}  " for f in footnotes]
    return "\n".join(lines) + "\n"


def _to_html(df: pd.DataFrame, title: str | None, footnotes: Sequence[str], headline: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for rec in df.itertuples(index=False):
        cells = []
        for v in rec:
            s = format_cell(v)
            n = len(s) - len(s.lstrip(" "))
            cells.append(f"<td>{'&nbsp;' * n}{html.escape(s.lstrip(' '))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(title)}</caption>" if title else ""
    foot = "".join(f'<p class="footnote">{html.escape(f)}</p>' for f in footnotes)
    top = "".join(f'<p class="headline">{html.escape(h)}</p>' for h in headline)
    style = (
        "<style>table{border-collapse:collapse;font-family:sans-serif;font-size:13px}"
        "th,td{padding:2px 8px;text-align:left;border-bottom:1px solid #ddd}"
        "caption{font-weight:bold;text-align:left;padding:4px 0}.footnote{font-size:12px}</style>"
    )
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title or "")}</title>'
        f"{style}</head><body>\n{top}<table>{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + f"\n</tbody></table>\n{foot}\n</body></html>\n"
    )


def write_table(
    df: pd.DataFrame,
    base: str | Path,
    *,
    title: str | None = None,
    footnotes: Sequence[str] = (),
    formats: Sequence[str] = ("csv", "html", "md", "docx"),
    header_groups: Sequence[tuple[str, int]] | None = None,
    simulated: bool = False,
    headline: Sequence[str] = (),
) -> dict[str, Path]:
    """Write ``<base>.csv`` (the frame as is), ``<base>.html``, ``<base>.md`` and ``<base>.docx``
    (with title and footnotes; ``header_groups`` spans the Word table's header, see
    ``write_docx``). ``simulated`` adds the simulated-data footnote (``SIMULATED_NOTE``) to
    every format but the CSV. ``headline`` lines precede the table in the HTML and Markdown
    (and open the Word table's notes). Returns the paths by format."""
    footnotes = [*footnotes, SIMULATED_NOTE] if simulated else list(footnotes)
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    out = {}
    for fmt in formats:
        path = base.with_suffix(f".{fmt}")
        if fmt == "csv":
            df.to_csv(path, index=False, lineterminator="\n")
        elif fmt == "html":
            path.write_text(_to_html(df, title, footnotes, headline), encoding="utf-8")
        elif fmt == "md":
            path.write_text(to_markdown(df, title, footnotes, headline), encoding="utf-8")
        elif fmt == "docx":
            notes = [*headline, *footnotes]
            write_docx(df, path, title=title, footnotes=notes, header_groups=header_groups)
        else:
            raise ValueError(f"unknown table format {fmt!r}")
        out[fmt] = path
    return out
