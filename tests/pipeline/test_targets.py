"""The outputs registry behind `rule all` and the provenance rule's tracked outputs."""

import pytest

from crlmflow.pipeline.targets import OutputRegistry, expand_pattern


def test_expand_uses_only_the_wildcards_of_the_pattern():
    wc = {"endpoint": ["os", "rfs"], "cohort": ["development"]}
    assert expand_pattern("out/models/{endpoint}/fit.json", wc) == ["out/models/os/fit.json", "out/models/rfs/fit.json"]
    assert expand_pattern("out/data/{cohort}/{endpoint}.csv", wc) == [
        "out/data/development/os.csv",
        "out/data/development/rfs.csv",
    ]
    assert expand_pattern("out/survival/km_rates.csv", wc) == ["out/survival/km_rates.csv"]


def test_expand_errors_name_the_pattern_and_wildcard():
    with pytest.raises(ValueError, match=r"models/\{endpoint\}/fit\.json.*'endpoint'"):
        expand_pattern("models/{endpoint}/fit.json", {"cohort": ["development"]})
    with pytest.raises(ValueError, match="not plain names"):
        expand_pattern(r"rep_{rep,\d+}.csv", {"rep": [1]})


def test_registry_keeps_order_and_tracked_flag():
    reg = OutputRegistry()
    added = reg.add(["m/{endpoint}/a.csv", "m/{endpoint}/b.png"], endpoint=["os", "rfs"])
    assert added == ["m/os/a.csv", "m/rfs/a.csv", "m/os/b.png", "m/rfs/b.png"]
    reg.add("provenance.json", tracked=False)
    reg.add("m/os/a.csv", endpoint=["os"])  # registering twice is harmless
    assert reg.tracked() == added
    assert reg.all() == [*added, "provenance.json"]
    assert "provenance.json" in reg and len(reg) == 5
    with pytest.raises(ValueError, match="both as tracked and as untracked"):
        reg.add("provenance.json")
