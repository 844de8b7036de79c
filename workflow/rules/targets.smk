# Targets: the outputs registry and the helpers that declare outputs. Each rule file adds
# its rules' outputs to OUTPUTS right after the rule (OUTPUTS.add(rules.x.output, ...));
# `rule all` builds OUTPUTS.all() and the provenance manifest covers OUTPUTS.tracked().
from crlmflow.pipeline.targets import OutputRegistry

OUTPUTS = OutputRegistry()

# Sections of `snakemake --report`.
PAPER_FIGURES = {"category": "Paper exhibits", "subcategory": "Figures"}
PAPER_TABLES = {"category": "Paper exhibits", "subcategory": "Tables"}
PAPER_SUPPLEMENT = {
    "category": "Paper exhibits",
    "subcategory": "Supplementary figures",
}
PER_ENDPOINT = {"subcategory": "{endpoint}"}


def in_report(path, caption, category, subcategory=None):
    """``path`` shown by ``snakemake --report`` under category/subcategory, captioned by
    workflow/report/<caption>.rst."""
    return report(
        path,
        caption=f"../report/{caption}.rst",
        category=category,
        subcategory=subcategory,
    )


def figure_files(base):
    return [f"{base}.pdf", f"{base}.png"]
