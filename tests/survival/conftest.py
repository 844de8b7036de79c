"""Shared fixtures: R reference results (see tests/fixtures/r_reference/README.md)."""

from __future__ import annotations

import pytest
from rref import CASES, reference, rows


@pytest.fixture(params=CASES, ids=[f"{d}-{e}" for d, e in CASES])
def case(request):
    name, ep = request.param
    ref = reference(name)
    return {
        "name": name,
        "endpoint": ep,
        "ref": ref,
        "spec": ref["spec"],
        "ep": ref["endpoints"][ep],
        "df": rows(name),
    }
