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


def table_outputs(base, caption, category, subcategory=None):
    """A table's csv/html/md outputs, each in the report: `output: **table_outputs(...)`."""
    return {
        ext: in_report(f"{base}.{ext}", caption, category, subcategory)
        for ext in ("csv", "html", "md")
    }


def figure_outputs(base, caption, category, subcategory=None):
    """A figure's pdf/png outputs, each in the report: `output: **figure_outputs(...)`."""
    return {
        ext: in_report(f"{base}.{ext}", caption, category, subcategory)
        for ext in ("pdf", "png")
    }


def run_configfiles():
    """The config files of this run in the order Snakemake merges them (the Snakefile's
    own first, then --configfile ones): `audit` compares recorded params with them."""
    cli = [str(f) for f in workflow.overwrite_configfiles]
    return [str(f) for f in workflow.configfiles if str(f) not in cli] + cli
