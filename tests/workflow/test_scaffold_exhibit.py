"""A new exhibit without reading the internals: `python -m crlmflow new-exhibit` writes a
rule, notebook and caption and one `include:` line; the default target then builds the new
table and figure, the provenance manifest lists them and the report shows them, with
`snakemake --lint` and `snakefmt` clean.

Runs the generic study (config/colon.yaml, small bootstrap settings): the one end-to-end
run of a non-CRLM layout in CI, so a new exhibit (or rule) that assumes KRAS, the CRLM
indices or the paper's numbers fails here. Every table and figure then audits.

Works on a copy of the project (tracked and untracked files, not results) so that the
repository itself is never edited.
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from project_copy import copy_project

from crlmflow.pipeline.audit import audit

pytestmark = pytest.mark.workflow

BIN = Path(sys.executable).parent


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and "out" not in p.relative_to(root).parts[:1]
    }


def test_scaffolded_exhibits_run_in_the_default_target(repo_root, tmp_path, monkeypatch):
    project = tmp_path / "project"
    copy_project(repo_root, project)
    before = _digests(project)
    for name, kind in (("site_table", "table"), ("site_figure", "figure")):
        res = subprocess.run(
            [sys.executable, "-m", "crlmflow", "new-exhibit", name, "--kind", kind],
            cwd=project,
            capture_output=True,
            text=True,
        )
        assert res.returncode == 0, res.stderr
    after = _digests(project)
    changed = sorted(f for f in before if before[f] != after.get(f))
    added = sorted(set(after) - set(before))
    assert changed == ["Snakefile"], changed
    assert added == sorted(
        [
            "notebooks/site_figure.ipynb",
            "notebooks/site_table.ipynb",
            "workflow/report/site_figure.rst",
            "workflow/report/site_table.rst",
            "workflow/rules/exhibit_site_figure.smk",
            "workflow/rules/exhibit_site_table.smk",
        ]
    )
    # a second scaffold of the same name is refused, nothing overwritten
    again = subprocess.run(
        [sys.executable, "-m", "crlmflow", "new-exhibit", "site_table"], cwd=project, capture_output=True, text=True
    )
    assert again.returncode == 2 and "already exist" in again.stderr
    fmt = subprocess.run(
        [str(BIN / "snakefmt"), "--check", "Snakefile", *[f for f in added if f.endswith(".smk")]],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stderr

    out = tmp_path / "out"
    cfg = yaml.safe_load((project / "config" / "colon.yaml").read_text(encoding="utf-8"))
    cfg["outdir"] = str(out)
    cfg["validation"].update(bootstrap_B=4, bootstrap_chunks=2, calibration_B=2, cutpoint_permutations=5)
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")

    def snakemake(*args):
        return subprocess.run(
            [str(BIN / "snakemake"), *args, "--configfile", str(tmp_path / "run.yaml")],
            cwd=project,
            capture_output=True,
            text=True,
        )

    lint = snakemake("--lint")
    assert lint.returncode == 0 and "good condition" in lint.stdout + lint.stderr, lint.stdout[-3000:]
    run = snakemake("--cores", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    entries = json.loads((out / "provenance.json").read_text(encoding="utf-8"))["entries"]
    for f in ("tables/site_table.csv", "tables/site_table.md", "figures/site_figure.png", "figures/site_figure.pdf"):
        assert str(out / f) in entries, f
    assert entries[str(out / "figures/site_figure.png")]["rule"] == "exhibit_site_figure"
    monkeypatch.chdir(project)
    for f in entries:
        lines = []
        assert audit(f, out=lines.append) == 0, "\n".join(lines)
    report = snakemake("--report", str(out / "report.html"))
    assert report.returncode == 0, report.stderr[-3000:]
    html = (out / "report.html").read_text(encoding="utf-8", errors="replace")
    assert "site_table" in html and "site_figure" in html
