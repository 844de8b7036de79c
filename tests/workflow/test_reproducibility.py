"""Byte-identical reruns, --cores independence, resume after interruption, seed sensitivity.

Runs the whole DAG (all exhibits) on a small synthetic config. Every run writes to the
same output folder (paths and the config's hash are part of the lineage metadata), which
is moved aside after each run for comparison.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.workflow

BIN = Path(sys.executable).parent
# Executed notebooks carry papermill's execution timestamps; logs carry timings.
VOLATILE = ("notebooks/", "logs/")


def _config(repo_root, out, seed):
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    cfg["outdir"] = str(out)
    cfg["seed"] = seed
    cfg["data"]["synthetic"]["n_eligible"] = 160
    cfg["validation"].update(bootstrap_B=12, bootstrap_chunks=4, calibration_B=5, cutpoint_permutations=20)
    return cfg


def _snakemake(repo_root, cfgfile, cores, *extra, wait=True):
    cmd = [str(BIN / "snakemake"), "--cores", str(cores), "--configfile", str(cfgfile), "-q", *extra]
    if not wait:
        # output to a file, not a pipe nobody reads: a full pipe would block Snakemake's exit
        log = open(Path(cfgfile).with_suffix(".interrupted.log"), "w")  # noqa: SIM115 - closed with the run
        # SIGINT at its default: a runner that started the tests in the background (SIGINT
        # ignored, inherited) would otherwise leave Snakemake deaf to the interruption
        return subprocess.Popen(
            cmd,
            cwd=repo_root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    res = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


def _digests(folder: Path) -> dict:
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and not rel.startswith(VOLATILE):
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def runs(repo_root, tmp_path_factory):
    base = tmp_path_factory.mktemp("repro")
    out = base / "out"
    seed = 1234
    cfg_a = base / "a.yaml"
    cfg_a.write_text(yaml.safe_dump(_config(repo_root, out, seed)))
    results = {}

    # A: uninterrupted, --cores 4
    _snakemake(repo_root, cfg_a, 4)
    shutil.move(out, base / "A")
    results["A"] = base / "A"

    # R: --cores 1, interrupted once the first bootstrap chunk has finished, then resumed
    proc = _snakemake(repo_root, cfg_a, 1, wait=False)
    chunks = out / "validation"
    deadline = time.time() + 900
    while not any(chunks.glob("*/bootstrap/chunk_*.csv")) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    interrupted = proc.poll() is None
    if interrupted:
        os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=300)
    results["interrupted"] = interrupted
    results["missing_after_interrupt"] = not (out / "provenance.json").exists()
    _snakemake(repo_root, cfg_a, 1, "--rerun-incomplete")
    shutil.move(out, base / "R")
    results["R"] = base / "R"

    # C: another seed
    cfg_c = base / "c.yaml"
    cfg_c.write_text(yaml.safe_dump(_config(repo_root, out, seed + 1)))
    _snakemake(repo_root, cfg_c, 4)
    _snakemake(repo_root, cfg_c, 1, "--report", str(out / "report.html"))
    shutil.move(out, base / "C")
    results["C"] = base / "C"
    return results


def test_rerun_and_cores_give_identical_bytes(runs):
    a, r = _digests(runs["A"]), _digests(runs["R"])
    assert runs["interrupted"] and runs["missing_after_interrupt"], "the run was not interrupted mid-way"
    assert sorted(a) == sorted(r)
    differ = [f for f in a if a[f] != r[f]]
    assert not differ, f"files differ between --cores 4 and an interrupted, resumed --cores 1 run: {differ}"
    kinds = {Path(f).suffix for f in a}
    assert {".csv", ".png", ".pdf", ".json", ".html", ".md"} <= kinds


def test_executed_notebooks_differ_only_in_timestamps(runs):
    import nbformat

    def strip(path):
        nb = nbformat.read(path, as_version=4)
        nb.metadata.pop("papermill", None)
        for cell in nb.cells:
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
        return nbformat.writes(nb)

    for nb in sorted((runs["A"] / "notebooks").glob("*.ipynb")):
        assert strip(nb) == strip(runs["R"] / "notebooks" / nb.name), nb.name


def test_changed_seed_changes_everything_downstream(runs):
    a = json.loads((runs["A"] / "provenance.json").read_text())["entries"]
    c = json.loads((runs["C"] / "provenance.json").read_text())["entries"]
    assert sorted(a) == sorted(c)
    assert {e["seed"] for e in a.values()} == {1234} and {e["seed"] for e in c.values()} == {1235}
    raw = "data/development/raw_cohort.csv"
    assert _digests(runs["A"])[raw] != _digests(runs["C"])[raw]

    # every table and figure derives from the cohort, so each one's bytes change; the TRIPOD
    # checklist says where each item is reported, which does not depend on the data, and a
    # bootstrap job whose replicates all lie beyond validation.calibration_B records no
    # calibration replicate (its table is the header alone, in both runs)
    def no_rows(f):
        path = runs["A"] / Path(f).relative_to(runs["A"].parent / "out")  # entries name the run's out/
        return "/bootstrap/calibration_" in f and len(path.read_text().splitlines()) == 1

    same = [
        f for f in a if a[f]["sha256"] == c[f]["sha256"] and not f.endswith("tripod_checklist.md") and not no_rows(f)
    ]
    assert not same, f"unchanged by the seed: {same}"
    recorded = [f for f in a if "/bootstrap/calibration_" in f and not no_rows(f)]
    assert recorded, "no bootstrap job recorded a calibration replicate"


def test_manifest_and_audit(runs, tmp_path):
    root = runs["A"]
    manifest = json.loads((root / "provenance.json").read_text())
    entries = manifest["entries"]
    fig = next(k for k in entries if k.endswith("figures/figure4_km.pdf"))
    e = entries[fig]
    assert e["rule"] == "exhibit_figure4" and e["code"]["path"].endswith("figure4_km.ipynb")
    assert e["executed_notebook"].endswith("notebooks/figure4_km.ipynb")
    assert e["lineage"][-1]["rule"] == "simulate_cohort"
    assert {"commit", "dirty"} <= set(e["git"]) and e["packages"]["numpy"]
    # the figure carries its lineage in its own metadata
    from crlmflow.pipeline.provenance import embedded_metadata

    meta = embedded_metadata(root / "figures" / "figure4_km.png")
    assert meta["crlmflow:rule"] == "exhibit_figure4" and len(meta["crlmflow:code_sha256"]) == 64
    assert embedded_metadata(root / "figures" / "figure4_km.pdf")["crlmflow:rule"] == "exhibit_figure4"
    # the audit passes on the run as written (paths in the manifest point at the run folder,
    # which was moved: audit it in place through a symlink at the recorded location)
    recorded = Path(manifest["outdir"])
    if not recorded.exists():
        recorded.symlink_to(root)
    try:
        ok = subprocess.run(
            [sys.executable, "-m", "crlmflow", "audit", str(recorded / "tables" / "table2.csv")],
            capture_output=True,
            text=True,
        )
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "AUDIT OK" in ok.stdout and "simulate_cohort" in ok.stdout
        # a hand-edited upstream table is flagged
        target = recorded / "models" / "os" / "multivariable.csv"
        original = target.read_bytes()
        target.write_bytes(original + b"\n")
        bad = subprocess.run(
            [sys.executable, "-m", "crlmflow", "audit", str(recorded / "tables" / "table2.csv")],
            capture_output=True,
            text=True,
        )
        target.write_bytes(original)
        assert bad.returncode == 1 and "CHANGED" in bad.stdout and "multivariable.csv" in bad.stdout
    finally:
        if recorded.is_symlink():
            recorded.unlink()


def _report_sections(html: str) -> dict:
    """``{category: {subcategory: [files]}}`` of a Snakemake HTML report (its
    ``var categories`` script)."""
    m = re.search(r"var categories = (\{.*?\});?\s*\n", html)
    assert m, "no categories in the report"
    return json.loads(m.group(1))


def test_report_contains_every_exhibit(runs):
    html = (runs["C"] / "report.html").read_text(encoding="utf-8", errors="replace")
    for name in (
        "figure4_km",
        "figure_model_os",
        "table1",
        "table2",
        "table3",
        "paper_comparison",
        "figure_model_os_CF_roc_dca",
        "suppl_ph_os",
        "Figure 1. Patient flow",
        "suppl_calibration_rfs",
        "optimism",
        "nomogram.html",
    ):
        assert name in html, name


def test_report_lists_the_exhibits_in_the_papers_order_one_entry_each(runs):
    """The report sorts sections alphabetically: their numbered names give the paper's
    order (Figure 1, Table 1, ..., Supplementary Figure 5, then beyond the paper), and each
    exhibit is one file, not one per format."""
    sections = _report_sections((runs["C"] / "report.html").read_text(encoding="utf-8", errors="replace"))
    files = {c: {s: [Path(f).name for f in fs] for s, fs in subs.items()} for c, subs in sections.items()}
    assert sorted(files)[:3] == [
        "1. Paper: figures and tables",
        "2. Paper: supplementary figures",
        "3. Beyond the paper",
    ]
    paper = files["1. Paper: figures and tables"]
    assert sorted(paper) == [
        "01 Figure 1. Patient flow",
        "02 Table 1. Baseline characteristics",
        "03 Table 2. Univariable and multivariable Cox regression",
        "04 Figure 2. Overall survival: model, nomogram, ROC, DCA",
        "05 Figure 3. Recurrence-free survival: model, nomogram, ROC, DCA",
        "06 Table 3. Survival by group",
        "07 Figure 4. Kaplan-Meier curves",
    ]
    assert paper["02 Table 1. Baseline characteristics"] == ["table1.html"]
    assert paper["07 Figure 4. Kaplan-Meier curves"] == ["figure4_km.png"]
    # Figure 2's two pages (A-B, C-F), not its single panels nor its PDF
    assert sorted(paper["04 Figure 2. Overall survival: model, nomogram, ROC, DCA"]) == [
        "figure_model_os.png",
        "figure_model_os_CF_roc_dca.png",
    ]
    supplement = files["2. Paper: supplementary figures"]
    assert [s.split(".")[0] for s in sorted(supplement)] == [f"0{i} Supplementary Figure {i}" for i in range(1, 6)]
    assert supplement["03 Supplementary Figure 3. Optimal cut-off, Overall survival"] == ["cutpoint_os.png"]
    assert "Proportional hazards, Overall survival" in files["3. Beyond the paper"]
    shown = [Path(f) for subs in sections.values() for fs in subs.values() for f in fs]
    # one format per exhibit: no figure as PDF, no table as both CSV and HTML
    assert not [f for f in shown if f.suffix in (".pdf", ".docx")]
    stems = [f.with_suffix("") for f in shown]
    assert not {f for f in shown if stems.count(f.with_suffix("")) > 1}
