"""Builders of the paper's exhibits (the notebooks call these), one module per exhibit.

==================  =====================================================================
module              exhibit
==================  =====================================================================
``flow``            Figure 1: patient-flow counts, checked to add up
``baseline``        Table 1: baseline characteristics by set, two-group tests
``regression``      Table 2: univariable and multivariable Cox regression
``survival_rates``  Table 3: Kaplan–Meier rates at the horizons, median survival
``nomogram``        Figures 2/3 B: the nomogram read back from its JSON
``performance``     beyond the paper: selection stability, apparent vs optimism-corrected
                    vs validation-set performance
``alternatives``    beyond the paper: model comparison (penalised, full, shrunk models
                    beside the paper's, in a table and as the overlay figures' frames)
                    and Riley's minimum sample size
``external``        external validation: frozen model, its updates, extrapolation counts
``imputation``      beyond the paper: the pooled multiple-imputation model, and the note
                    marking each single-model exhibit as complete-case
``comparison``      every published number beside this run's value
``output``          writing a table as CSV + HTML + Markdown
==================  =====================================================================

Everything here only reshapes and formats results the workflow's rules already computed;
nothing fits a model. The exception is Table 1, whose descriptive statistics and two-group
tests are computed from the analysis cohort, as a baseline table always is. Labels and
number formats come from ``crlmflow.report.formats``. Tables are returned as display
frames of strings (the paper's layout); the numeric long frame of Table 1
(``table1_long``) also feeds ``paper_comparison``.
"""

from crlmflow.report.exhibits.alternatives import beside_paper_model, model_comparison, sample_size_table
from crlmflow.report.exhibits.baseline import default_table1_rows, imputed_note, table1, table1_long
from crlmflow.report.exhibits.comparison import paper_comparison
from crlmflow.report.exhibits.external import external_validation_table
from crlmflow.report.exhibits.flow import flow_summary
from crlmflow.report.exhibits.imputation import complete_case_note, mi_pooled_footnotes, mi_pooled_table
from crlmflow.report.exhibits.nomogram import load_nomogram
from crlmflow.report.exhibits.output import to_markdown, write_table
from crlmflow.report.exhibits.performance import performance_comparison, selection_stability
from crlmflow.report.exhibits.regression import ph_footnote, separation_notes, table2
from crlmflow.report.exhibits.survival_rates import table3

__all__ = [
    "complete_case_note",
    "default_table1_rows",
    "imputed_note",
    "external_validation_table",
    "flow_summary",
    "load_nomogram",
    "beside_paper_model",
    "model_comparison",
    "paper_comparison",
    "performance_comparison",
    "sample_size_table",
    "selection_stability",
    "table1",
    "table1_long",
    "separation_notes",
    "table2",
    "ph_footnote",
    "table3",
    "to_markdown",
    "write_table",
    "mi_pooled_footnotes",
    "mi_pooled_table",
]
