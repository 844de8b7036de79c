# Targets: the outputs registry and the helpers that declare outputs. Each rule file adds
# its rules' outputs to OUTPUTS right after the rule (OUTPUTS.add(rules.x.output, ...));
# `rule all` builds OUTPUTS.all() and the provenance manifest covers OUTPUTS.tracked().
from crlmflow.pipeline.targets import OutputRegistry

OUTPUTS = OutputRegistry()

# Sections of `snakemake --report`. The report sorts categories and subcategories
# alphabetically, so each name starts with its place: the paper's exhibits in the paper's
# order, then its supplementary figures, then everything beyond the paper. One file of each
# exhibit is shown (a figure's PNG, a table's HTML); its other formats stay plain outputs.
PAPER = "1. Paper: figures and tables"
SUPPLEMENT = "2. Paper: supplementary figures"
BEYOND = "3. Beyond the paper"
COMPARISON = "4. Comparison with the published numbers"
PER_ENDPOINT_MODELS = "5. Models and validation, per endpoint"
DATA = "6. Data"
RESULTS_TEXT = "7. Results text and TRIPOD checklist"
CALCULATOR = "8. Calculator"
SIMULATION = "9. Simulation study"
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


def shown_one(base, exts, shown, caption, category, subcategory=None):
    """The files ``base + ext`` in the order of ``exts`` (as ``multiext``), of which only
    ``base + shown`` is in the report: one entry per exhibit, not one per format."""
    return [
        (
            in_report(f"{base}{ext}", caption, category, subcategory)
            if ext == shown
            else f"{base}{ext}"
        )
        for ext in exts
    ]


def table_outputs(base, caption, category, subcategory=None):
    """A table's csv/html/md outputs, the HTML one in the report:
    `output: **table_outputs(...)`."""
    return dict(
        zip(
            ("csv", "html", "md"),
            shown_one(
                base, [".csv", ".html", ".md"], ".html", caption, category, subcategory
            ),
        )
    )


def figure_outputs(base, caption, category, subcategory=None):
    """A figure's pdf/png outputs, the PNG one in the report:
    `output: **figure_outputs(...)`."""
    return dict(
        zip(
            ("pdf", "png"),
            shown_one(base, [".pdf", ".png"], ".png", caption, category, subcategory),
        )
    )


def figure_files(base):
    return [f"{base}.pdf", f"{base}.png"]


def _endpoint_index(endpoint):
    return list(config["endpoints"]).index(endpoint)


def endpoint_section(title):
    """Subcategory ``"<title>, <endpoint label>"`` of a per-endpoint exhibit."""

    def section(wildcards):
        return f"{title}, {config['endpoints'][wildcards.endpoint]['label']}"

    return section


def paper_exhibit(place, title):
    """Subcategory of a paper exhibit: its place in the paper's order, then its name."""
    return f"{place:02d} {title}"


def figure_model_section(wildcards):
    """Figure 2 (first endpoint), Figure 3 (second), ... as in the paper."""
    i = _endpoint_index(wildcards.endpoint)
    label = config["endpoints"][wildcards.endpoint]["label"]
    return paper_exhibit(4 + i, f"Figure {2 + i}. {label}: model, nomogram, ROC, DCA")


def table3_section():
    return paper_exhibit(4 + len(config["endpoints"]), "Table 3. Survival by group")


def figure4_section():
    n = len(config["endpoints"])
    return paper_exhibit(5 + n, f"Figure {2 + n}. Kaplan-Meier curves")


def calibration_section(wildcards):
    """Supplementary Figures 1-2: calibration, one per endpoint."""
    i = _endpoint_index(wildcards.endpoint)
    label = config["endpoints"][wildcards.endpoint]["label"]
    return paper_exhibit(1 + i, f"Supplementary Figure {1 + i}. Calibration, {label}")


def cutpoint_section(wildcards):
    """Supplementary Figures 3-4: optimal cut-off, one per endpoint."""
    n = len(config["endpoints"])
    i = _endpoint_index(wildcards.endpoint)
    label = config["endpoints"][wildcards.endpoint]["label"]
    return paper_exhibit(
        1 + n + i, f"Supplementary Figure {1 + n + i}. Optimal cut-off, {label}"
    )


def kras_section():
    n = 2 * len(config["endpoints"])
    return paper_exhibit(1 + n, f"Supplementary Figure {1 + n}. KRAS")


def run_configfiles():
    """The config files of this run in the order Snakemake merges them (the Snakefile's
    own first, then --configfile ones): `audit` compares recorded params with them."""
    cli = [str(f) for f in workflow.overwrite_configfiles]
    return [str(f) for f in workflow.configfiles if str(f) not in cli] + cli
