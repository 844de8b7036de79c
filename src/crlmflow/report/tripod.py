"""The TRIPOD checklist filled in from the run's outputs.

Items follow TRIPOD 2015 (Collins et al., BMJ 2015;350:g7594; the development-and-
validation checklist, type 2a: random split) with the TRIPOD+AI 2024 items that apply
to a regression model (Collins et al., BMJ 2024;385:e078378) marked ``+AI``. For each item
the checklist names the output file, table or figure of this run that reports it, or says
"not reported by this study" with the reason. A file is cited only if it is among the
run's declared outputs (the workflow's outputs registry), so the checklist is the same
whatever order jobs finish in, and checkable: every cited path exists after the run.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["TRIPOD_ITEMS", "tripod_checklist", "tripod_markdown"]

# (item, section, topic, [candidate outputs relative to the outdir; {ep} = endpoint], reason if none)
TRIPOD_ITEMS: list[tuple[str, str, str, list[str], str]] = [
    ("1", "Title", "Development/validation, population, outcome", [], "a manuscript title is written by the authors"),
    ("2", "Abstract", "Structured summary", [], "the abstract is written by the authors"),
    ("3a", "Introduction", "Background and rationale", [], "written by the authors"),
    ("3b", "Introduction", "Objectives", [], "written by the authors"),
    ("4a", "Methods: source of data", "Study design and data sources", ["data/development/flow.json"], ""),
    ("4b", "Methods: source of data", "Key study dates, follow-up", ["data/development/data_quality.csv"], ""),
    ("5a", "Methods: participants", "Setting and eligibility", ["figures/figure1_flowchart.pdf"], ""),
    ("5c", "Methods: participants", "Treatments received", ["tables/table1.md"], ""),
    ("6a", "Methods: outcome", "Outcome definition and assessment", ["survival/km_rates.csv"], ""),
    ("6b", "Methods: outcome", "Blinding of outcome assessment", [], "retrospective data: not recorded in the input"),
    ("7a", "Methods: predictors", "Predictor definitions", ["models/{ep}/model.json"], ""),
    (
        "7b",
        "Methods: predictors",
        "Blinding of predictor assessment",
        [],
        "retrospective data: not recorded in the input",
    ),
    (
        "8",
        "Methods: sample size",
        "How the study size was arrived at",
        ["models/{ep}/fit.json", "tables/sample_size.md"],
        "",
    ),
    ("9", "Methods: missing data", "Handling of missing data", ["data/development/data_quality.csv"], ""),
    ("10a", "Methods: analysis", "Handling of predictors", ["models/{ep}/univariable.csv"], ""),
    (
        "10b",
        "Methods: analysis",
        "Model type, building, selection, internal validation",
        ["models/{ep}/selection_path.csv", "validation/{ep}/optimism.csv"],
        "",
    ),
    ("10d", "Methods: analysis", "Performance measures", ["validation/{ep}/performance.csv"], ""),
    ("11", "Methods: risk groups", "Details of risk groups", ["models/{ep}/cutpoint.json"], ""),
    ("13a", "Results: participants", "Flow of participants", ["figures/figure1_flowchart.pdf"], ""),
    ("13b", "Results: participants", "Characteristics, outcomes, missing data", ["tables/table1.md"], ""),
    ("14a", "Results: model development", "Participants and events in each analysis", ["models/{ep}/fit.json"], ""),
    ("14b", "Results: model development", "Unadjusted predictor-outcome associations", ["tables/table2.md"], ""),
    ("15a", "Results: model specification", "Full model: coefficients and baseline", ["models/{ep}/model.json"], ""),
    (
        "15b",
        "Results: model specification",
        "How to use the model",
        ["models/{ep}/nomogram.json", "app/nomogram.html"],
        "",
    ),
    ("16", "Results: performance", "Performance measures with CIs", ["validation/{ep}/performance.csv"], ""),
    (
        "18",
        "Discussion",
        "Limitations",
        [],
        "written by the authors; see the simulation study for selection instability",
    ),
    ("19b", "Discussion", "Interpretation", ["report/results.md"], ""),
    ("20", "Discussion", "Implications", [], "written by the authors"),
    ("21", "Other", "Supplementary information", ["provenance.json"], ""),
    ("22", "Other", "Funding", [], "not a property of the analysis"),
    ("+AI 3c", "Introduction", "Health inequalities across groups", [], "no sociodemographic subgroups are analysed"),
    ("+AI 12", "Methods: fairness", "Performance across subgroups", [], "no subgroup performance is computed"),
    ("+AI 18e", "Open science", "Code and data availability", ["provenance.json"], ""),
    ("+AI 19", "Open science", "Patient and public involvement", [], "not a property of the analysis"),
]


def tripod_checklist(produced: Iterable[str], endpoints) -> list[dict]:
    """One row per item: item, section, topic, reported_in (';'-joined outputs of the run,
    paths relative to the results folder) or not_reported (the reason; also given when the
    run produces none of the item's outputs, e.g. no validation set)."""
    produced = {str(p).replace("\\", "/") for p in produced}
    rows = []
    for item, section, topic, files, reason in TRIPOD_ITEMS:
        found = []
        for f in files:
            for p in [f.format(ep=ep) for ep in endpoints] if "{ep}" in f else [f]:
                if p in produced:
                    found.append(p)
        if files and not found:
            reason = "output not produced by this run (" + ", ".join(files) + ")"
        rows.append(
            {
                "item": item,
                "section": section,
                "topic": topic,
                "reported_in": "; ".join(found),
                "not_reported": "" if found else f"not reported by this study: {reason}",
            }
        )
    return rows


def tripod_markdown(rows: list[dict]) -> str:
    lines = [
        "# TRIPOD checklist (TRIPOD 2015, with TRIPOD+AI 2024 items marked +AI)",
        "",
        "| item | section | topic | reported in |",
        "|---|---|---|---|",
    ]
    for r in rows:
        where = ", ".join(f"`{p}`" for p in r["reported_in"].split("; ")) if r["reported_in"] else r["not_reported"]
        lines.append(f"| {r['item']} | {r['section']} | {r['topic']} | {where} |")
    return "\n".join(lines) + "\n"
