from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def validate_crate(monkeypatch):
    """Validate an RO-Crate folder with roc-validator against the Provenance Run Crate
    profile (and the profiles it extends); returns the list of REQUIRED issues.

    Offline: the RO-Crate 1.1 JSON-LD context is served from the copy of the context that
    the ``rocrate`` package ships (version 1.3, whose bioschemas terms are mapped back to
    their 1.1 IRIs), not fetched from w3id.org.
    """
    import json

    import rocrate
    from rocrate_validator import services
    from rocrate_validator.utils import http

    ctx = json.loads((Path(rocrate.__file__).parent / "data" / "ro-crate.jsonld").read_text(encoding="utf-8"))
    for term in ("ComputationalWorkflow", "FormalParameter"):
        ctx["@context"][term] = f"https://bioschemas.org/{term}"

    text = json.dumps(ctx)

    class _Context:
        status_code = 200
        headers = {"Content-Type": "application/ld+json"}

        def json(self):
            return ctx

    _Context.text = text

    def get(self, url, *args, **kwargs):
        if url.startswith("https://w3id.org/ro/crate/1.1/context"):
            return _Context()
        return http.HttpRequester.__getattr__(self, "get")(url, *args, **kwargs)

    monkeypatch.setattr(http.HttpRequester, "get", get, raising=False)

    def run(folder) -> list[str]:
        res = services.validate(
            {
                "rocrate_uri": str(folder),
                "profile_identifier": "provenance-run-crate",
                "requirement_severity": "REQUIRED",
            }
        )
        return [f"{getattr(i.check, 'identifier', '')}: {i.message}" for i in res.get_issues()]

    return run
