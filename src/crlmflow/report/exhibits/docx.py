"""A table as a Word document in journal style (python-docx), for co-authors who edit in Word.

Journal ("three-line") style: a heavy rule above the header, a light rule under it and a
heavy rule under the last row, no vertical lines; the title above the table, footnotes
below it in a smaller font. Cells hold the same text as the Markdown/HTML tables
(``format_cell``), so the numbers equal the CSV's. The file is byte-identical for the
same table: the zip members carry a fixed date and the core properties a fixed time.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from crlmflow.report.formats import format_cell

__all__ = ["write_docx"]

_FIXED = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_HEAVY, _LIGHT = 12, 6  # border widths in eighths of a point (1.5 pt, 0.75 pt)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _three_line(document_xml: bytes, n_head: int, group_rule: Sequence[bool]) -> bytes:
    """Draw the journal rules on the (single) table of ``word/document.xml``.

    Done on the XML because python-docx has no public API for cell borders: heavy rule
    above the first row, light rule under the column-name row (and under the labelled
    spanning headers), heavy rule under the last row.
    """
    from lxml import etree

    root = etree.fromstring(document_xml)
    rows = root.findall(f".//{_W}tbl/{_W}tr")

    def rule(tc, edge: str, size: int) -> None:
        pr = tc.find(f"{_W}tcPr")
        if pr is None:
            pr = etree.SubElement(tc, f"{_W}tcPr")
            tc.insert(0, pr)
        borders = pr.find(f"{_W}tcBorders")
        if borders is None:
            borders = etree.SubElement(pr, f"{_W}tcBorders")
        el = etree.SubElement(borders, f"{_W}{edge}")
        el.attrib.update({f"{_W}val": "single", f"{_W}sz": str(size), f"{_W}space": "0", f"{_W}color": "000000"})

    for i, tr in enumerate(rows):
        cells = tr.findall(f"{_W}tc")
        for k, tc in enumerate(cells):
            if i == 0:
                rule(tc, "top", _HEAVY)
            if n_head == 2 and i == 0 and k < len(group_rule) and group_rule[k]:
                rule(tc, "bottom", _LIGHT // 2)
            if i == n_head - 1:
                rule(tc, "bottom", _LIGHT)
            if i == len(rows) - 1:
                rule(tc, "bottom", _HEAVY)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _text(cell, text: str, *, bold: bool = False, size: float = 8.5) -> None:
    from docx.shared import Pt

    par = cell.paragraphs[0]
    par.paragraph_format.space_after = Pt(0)
    n = len(text) - len(text.lstrip(" "))
    if n:  # indented sub-rows (levels of a variable) keep their indent
        par.paragraph_format.left_indent = Pt(3 * n)
    run = par.add_run(text.lstrip(" "))
    run.bold = bold
    run.font.size = Pt(size)


def _finish(blob: bytes, n_head: int, group_rule: Sequence[bool]) -> bytes:
    """Add the rules and rewrite the zip with a fixed member date (same table, same bytes)."""
    src = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                data = _three_line(data, n_head, group_rule)
            dst.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def write_docx(
    df: pd.DataFrame,
    path: str | Path,
    *,
    title: str | None = None,
    footnotes: Sequence[str] = (),
    header_groups: Sequence[tuple[str, int]] | None = None,
) -> Path:
    """Write ``df`` as a three-line journal table in a Word document.

    ``header_groups`` adds a spanning header row above the column names: a sequence of
    ``(label, n_columns)`` covering every column (e.g. ``[("", 1), ("OS", 3), ("RFS", 3)]``).
    Landscape pages are used when the table has more than six columns.
    """
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    if df.shape[1] > 6:
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = sec.page_height, sec.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Mm(20))
    if title:
        par = doc.add_paragraph()
        run = par.add_run(title)
        run.bold = True
        run.font.size = Pt(10)
    cols = [str(c) for c in df.columns]
    if header_groups is not None and sum(n for _, n in header_groups) != len(cols):
        raise ValueError(f"header_groups span {sum(n for _, n in header_groups)} columns, the table has {len(cols)}")
    n_head = 2 if header_groups else 1
    table = doc.add_table(rows=n_head + len(df), cols=len(cols))
    if header_groups:
        j = 0
        for label, n in header_groups:
            cell = table.cell(0, j).merge(table.cell(0, j + n - 1)) if n > 1 else table.cell(0, j)
            _text(cell, label, bold=True)
            j += n
    for j, c in enumerate(cols):
        cell = table.cell(n_head - 1, j)
        _text(cell, c, bold=True)
    for i, rec in enumerate(df.itertuples(index=False)):
        for j, v in enumerate(rec):
            cell = table.cell(n_head + i, j)
            _text(cell, format_cell(v))
    for note in footnotes:
        par = doc.add_paragraph()
        par.paragraph_format.space_after = Pt(0)
        par.add_run(note).font.size = Pt(8)
    props = doc.core_properties
    props.created = props.modified = props.last_printed = _FIXED
    props.author = props.last_modified_by = "crlmflow"
    props.title = title or ""
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    path = Path(path)
    group_rule = [bool(label) for label, _ in header_groups] if header_groups else []
    path.write_bytes(_finish(buf.getvalue(), n_head, group_rule))
    return path
