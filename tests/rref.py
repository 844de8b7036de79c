"""Loading the R reference fixtures (tests/fixtures/r_reference/, see its README)."""

import json
from pathlib import Path

import pandas as pd

FIX = Path(__file__).parent / "fixtures" / "r_reference"
TOL = 1e-6
CASES = [(ds, ep) for ds in ("crlm_a", "colon") for ep in ("os", "rfs")]


def load_case(ds: str):
    """(R's answers as a dict, the exact rows R analysed) of dataset ``ds``."""
    fx = json.loads((FIX / f"{ds}.json").read_text())
    rows = pd.read_csv(FIX / f"{ds}_rows.csv", keep_default_na=False, na_values=[""])
    return fx, rows
