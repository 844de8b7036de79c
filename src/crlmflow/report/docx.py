"""A minimal Office Open XML (.docx) writer for plain headed text, standard library only.

Enough for the generated Results section and TRIPOD checklist: Markdown headings (``#``)
become Word heading styles, other lines become paragraphs (``|`` table rows are kept as
text). Fixed timestamps and zip entry dates make the file byte-identical run to run.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["write_docx"]

_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _para(line: str) -> str:
    level = len(line) - len(line.lstrip("#"))
    text = line.lstrip("#").strip() if level else line
    style = f'<w:pPr><w:pStyle w:val="Heading{level}"/></w:pPr>' if level else ""
    run = f'<w:r>{"<w:rPr><w:b/></w:rPr>" if level else ""}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'
    return f"<w:p>{style}{run}</w:p>"


def write_docx(text: str, path: str | Path) -> None:
    """Write ``text`` (plain Markdown-ish lines) as a .docx at ``path``."""
    body = "".join(_para(line) for line in text.splitlines() if line.strip())
    doc = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}"><w:body>{body}</w:body></w:document>'
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (("[Content_Types].xml", _CT), ("_rels/.rels", _RELS), ("word/document.xml", doc)):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    tmp.replace(path)
