"""Rule results_text: the manuscript-style Results section (every number linked to its
source output) and the TRIPOD checklist, each as Markdown and .docx."""

import os

from crlmflow.data.io import atomic_write_text
from crlmflow.pipeline.snakeio import logged
from crlmflow.report.docx import write_docx
from crlmflow.report.results_text import build_results_text, check_results_text, plain_text
from crlmflow.report.tripod import tripod_checklist, tripod_markdown

with logged(snakemake) as log:  # noqa: F821 - injected by Snakemake
    p = snakemake.params
    out = snakemake.output
    # the text sits in {outdir}/report/: its sources are under the folder above
    outdir = os.path.dirname(os.path.dirname(os.path.abspath(out.md)))
    md_dir = os.path.relpath(os.path.dirname(os.path.abspath(out.md)), outdir)
    md = build_results_text(outdir, p.endpoints, p.candidates, p.horizons, md_dir=md_dir)
    atomic_write_text(out.md, md)
    stale = check_results_text(out.md, outdir)
    if stale:  # the text was built from these very files: a mismatch is a bug, not staleness
        raise RuntimeError("results text does not match its sources:\n" + "\n".join(stale))
    write_docx(plain_text(md), out.docx)
    rows = tripod_checklist(p.produced, p.endpoints)
    checklist = tripod_markdown(rows)
    atomic_write_text(out.tripod_md, checklist)
    write_docx(checklist, out.tripod_docx)
    log.info(
        "results text: %d numbers; TRIPOD: %d of %d items reported by an output",
        md.count('"fmt='),
        sum(bool(r["reported_in"]) for r in rows),
        len(rows),
    )
