"""The TRIPOD checklist cites only outputs the run declares, and says why an item is not reported."""

from crlmflow.report.tripod import TRIPOD_ITEMS, tripod_checklist, tripod_markdown


def test_checklist_cites_only_declared_outputs_and_gives_reasons():
    produced = ["models/os/fit.json", "validation/os/performance.csv", "tables/table1.md"]
    rows = tripod_checklist(produced, ["os", "rfs"])
    assert [r["item"] for r in rows] == [i[0] for i in TRIPOD_ITEMS]
    by = {r["item"]: r for r in rows}
    assert by["16"]["reported_in"] == "validation/os/performance.csv"  # rfs absent: not cited
    assert by["14a"]["reported_in"] == "models/os/fit.json"
    cited = {p for r in rows for p in r["reported_in"].split("; ") if p}
    assert cited <= set(produced)
    for r in rows:
        assert bool(r["reported_in"]) != bool(r["not_reported"])
        if r["not_reported"]:
            assert r["not_reported"].startswith("not reported by this study: ") and len(r["not_reported"]) > 30
    assert "output not produced by this run" in by["11"]["not_reported"]  # no cutpoint.json declared
    md = tripod_markdown(rows)
    assert md.count("\n| ") == len(rows) + 1 and "`validation/os/performance.csv`" in md
