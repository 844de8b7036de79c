import pandas as pd
import pytest
from bootstrap_cases import load_crlm_train


@pytest.fixture(scope="module")
def crlm_train() -> pd.DataFrame:
    """A seeded 70% subset of the synthetic CRLM fixture (as the paper's training set)."""
    return load_crlm_train()
