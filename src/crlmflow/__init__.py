"""crlmflow: statistics and data code behind the CRLM CRS-score prognostic workflow.

Scripts under ``scripts/`` (one per Snakemake rule), the notebooks and the tests all
import from this package, so each computation lives in exactly one place.
"""

__version__ = "0.1.0"
