"""The generated Results text: every number is a link to its source, and the audit
re-reads the sources and names each sentence that no longer matches."""

from __future__ import annotations

import json
import re
import zipfile

import pandas as pd
import pytest

from crlmflow.__main__ import main
from crlmflow.report.docx import write_docx
from crlmflow.report.results_text import (
    MARKER,
    build_results_text,
    check_results_text,
    is_results_text,
    plain_text,
)

ENDPOINTS = {"os": {"time": "os_months", "event": "os_event", "label": "Overall survival"}}
CANDIDATES = [{"name": "crs_score", "label": "CRS score"}, {"name": "age", "label": "Age"}]
HORIZONS = [12, 36, 60]


@pytest.fixture
def outdir(tmp_path):
    out = tmp_path / "results"
    (out / "data" / "development").mkdir(parents=True)
    (out / "data" / "development" / "flow.json").write_text(json.dumps({"read": 402, "included": 389}))
    (out / "data" / "split_summary.json").write_text(json.dumps({"n": {"train": 272, "validation": 117}}))
    (out / "survival").mkdir()
    pd.DataFrame(
        [
            {
                "endpoint": "os",
                "panel": "overall",
                "set": "all",
                "group": "all",
                "time": float(h),
                "surv": s,
                "median_spss": 70.2,
                "median_spss_lower": 57.73,
                "median_spss_upper": 82.68,
                "n": 389,
                "events": 160,
            }
            for h, s in zip(HORIZONS, (0.9738, 0.71, 0.55))
        ]
    ).to_csv(out / "survival" / "km_rates.csv", index=False)
    (out / "models" / "os").mkdir(parents=True)
    (out / "models" / "os" / "fit.json").write_text(json.dumps({"selected": ["crs_score"], "n": 272, "events": 110}))
    pd.DataFrame(
        [
            {
                "term": "crs_score",
                "variable": "crs_score",
                "selected": True,
                "hr": 1.8123,
                "hr_lower": 1.4,
                "hr_upper": 2.3456,
                "p": 0.00001,
            },
            {
                "term": "age",
                "variable": "age",
                "selected": False,
                "hr": None,
                "hr_lower": None,
                "hr_upper": None,
                "p": None,
            },
        ]
    ).to_csv(out / "models" / "os" / "multivariable.csv", index=False)
    (out / "models" / "os" / "cutpoint.json").write_text(
        json.dumps(
            {"total_points": 101.5, "by_set": {"train": {"logrank_p": 0.0004}, "validation": {"logrank_p": 0.021}}}
        )
    )
    (out / "validation" / "os").mkdir(parents=True)
    rows = [
        {"set": s, "measure": "c_index", "horizon": "", "estimate": c, "lower": c - 0.05, "upper": c + 0.05}
        for s, c in (("train", 0.7234), ("validation", 0.6911))
    ]
    rows += [
        {"set": "validation", "measure": "auc_km", "horizon": h, "estimate": 0.7 + h / 1000, "lower": "", "upper": ""}
        for h in HORIZONS
    ]
    pd.DataFrame(rows).to_csv(out / "validation" / "os" / "performance.csv", index=False)
    return out


def _write(outdir):
    md = build_results_text(outdir, ENDPOINTS, CANDIDATES, HORIZONS)
    path = outdir / "report" / "results.md"
    path.parent.mkdir()
    path.write_text(md, encoding="utf-8")
    return path, md


def test_every_number_is_a_link_to_its_source(outdir):
    path, md = _write(outdir)
    assert md.startswith(MARKER) and is_results_text(path)
    text = plain_text(md)
    assert "Of 402 patients" in text and "389 met the inclusion criteria" in text
    assert "CRS score (HR 1.812, 95% CI 1.400–2.346, P < 0.001)" in text
    assert "validation set P = 0.021" in text
    assert "the C-index was 0.691" in text and "median was 70.2 months" in text and "1-year 97.4%" in text
    # no digit outside a link, except in headings, labels and horizon words
    body = re.sub(r"\[[^\]]*\]\([^)]*\)", "", md.replace(MARKER, ""))
    stray = re.findall(r"(?<![\w-])\d+(?:\.\d+)?(?![\w-])", body)
    assert set(stray) <= {"95"}, stray
    # links point at real files, relative to the Markdown
    for target in re.findall(r"\]\(([^#)]+)#", md):
        assert (path.parent / target).resolve().is_file(), target
    assert check_results_text(path) == []


def test_audit_reports_the_stale_sentence_after_a_source_edit(outdir, capsys):
    path, _ = _write(outdir)
    assert main(["audit", str(path)]) == 0
    perf = outdir / "validation" / "os" / "performance.csv"
    df = pd.read_csv(perf, keep_default_na=False)
    df.loc[(df["set"] == "validation") & (df["measure"] == "c_index"), "estimate"] = 0.6512
    df.to_csv(perf, index=False)
    capsys.readouterr()
    assert main(["audit", str(path)]) == 1
    out = capsys.readouterr().out
    assert "STALE validation/os/performance.csv#estimate" in out
    assert "text says 0.691, source gives 0.651" in out
    assert "the C-index was 0.691" in out  # the sentence is shown
    assert "1 stale" in out
    # a removed source is reported, not skipped
    (outdir / "models" / "os" / "cutpoint.json").unlink()
    assert len([p for p in check_results_text(path) if p.startswith("UNREADABLE")]) == 3


def test_docx_is_byte_identical_and_has_no_links(outdir, tmp_path):
    _, md = _write(outdir)
    a, b = tmp_path / "a.docx", tmp_path / "b.docx"
    write_docx(plain_text(md), a)
    write_docx(plain_text(md), b)
    assert a.read_bytes() == b.read_bytes()
    doc = zipfile.ZipFile(a).read("word/document.xml").decode()
    assert "Heading2" in doc and "0.691" in doc and ".csv" not in doc


def test_a_not_estimable_measure_reads_not_estimable_never_na(outdir):
    perf = outdir / "validation" / "os" / "performance.csv"
    df = pd.read_csv(perf, dtype=str, keep_default_na=False)
    df.loc[(df["measure"] == "auc_km") & (df["horizon"] == "12"), "estimate"] = ""
    df.loc[(df["set"] == "train") & (df["measure"] == "c_index"), ["lower", "upper"]] = ""
    df.to_csv(perf, index=False)
    path, md = _write(outdir)
    text = plain_text(md)
    assert "1-year not estimable" in text
    assert "the C-index was 0.723 (95% CI not estimable)" in text
    assert not re.search(r"\bNA\b", text)
    assert check_results_text(path) == []  # the audit reads the empty source as the same text


def test_multiple_imputation_says_the_models_are_complete_case(outdir):
    # without a complete-case subset (multiple imputation off) the text has no such sentence
    assert "complete-case" not in build_results_text(outdir, ENDPOINTS, CANDIDATES, HORIZONS)
    split = {
        "n": {"train": 272, "validation": 117},
        "complete_case": {"n": {"train": 201, "validation": 88}, "incomplete_by_set": {"train": 71, "validation": 29}},
    }
    (outdir / "data" / "split_summary.json").write_text(json.dumps(split))
    md = build_results_text(outdir, ENDPOINTS, CANDIDATES, HORIZONS)
    text = plain_text(md)
    assert "complete-case analysis of the 201 training and 88 validation patients" in text
    assert "tables/mi_pooled_model" in text
    # the counts are linked to their source, so the audit checks them
    assert "split_summary.json#complete_case.n.train" in md
    path = outdir / "report" / "results.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(md)
    assert check_results_text(path, outdir) == []
