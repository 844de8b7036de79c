"""crlmflow: statistics and data code behind the CRLM CRS-score prognostic workflow.

Module map, by stage of the workflow (``workflow/rules/<stage>.smk`` runs
``scripts/<rule>.py``, which calls one of these):

==============  ==========================================================================
sub-package     what lives there
==============  ==========================================================================
``data``        reading exports safely, the column contract, units, cleaning (CRLM and
                generic layouts), the cohort, inflammatory indices and CRS, the split
``survival``    survival estimators verified against R: Kaplan–Meier and log-rank, Cox
                regression, design matrices, variable selection, diagnostics, and the
                Kaplan–Meier summaries of Table 3 / Figure 4
``model``       the paper's modelling procedure per endpoint, nomogram, model file,
                cut-off and risk groups
``validation``  performance of a fixed model (C, time-dependent AUC, Brier/IPA,
                calibration, decision curves) and the optimism bootstrap
``report``      labels and formats, tables, figures and the builders of the exhibits
``app``         the self-contained nomogram calculator page
``pipeline``    config validation, Snakemake glue, provenance, named random streams
``simulation``  the calibrated synthetic cohort and the simulation study
==============  ==========================================================================

Scripts under ``scripts/`` (one per Snakemake rule), the notebooks and the tests all
import from this package, so each computation lives in exactly one place. Development
tools that no rule runs (benchmarks, simulation calibration, the local Slurm cluster) are
under ``tools/``.
"""

__version__ = "0.1.0"
