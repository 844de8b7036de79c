"""Shared fixtures: R reference results (see tests/fixtures/r_reference/README.md)."""

from __future__ import annotations

import pytest

from survival_rref import CASES, load_reference, load_rows


@pytest.fixture(params=CASES, ids=[f"{d}-{e}" for d, e in CASES])
def case(request):
    name, ep = request.param
    ref = load_reference(name)
    return {
        "name": name,
        "endpoint": ep,
        "ref": ref,
        "spec": ref["spec"],
        "ep": ref["endpoints"][ep],
        "df": load_rows(name),
    }
