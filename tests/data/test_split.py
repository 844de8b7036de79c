"""Seeded, stratified, order-independent training/validation split (crlmflow.data.split)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crlmflow.data.split import train_size, train_validation_split


def cohort(n: int, n_events: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=int)
    ev[rng.choice(n, n_events, replace=False)] = 1
    return pd.DataFrame(
        {"patient_id": [f"P{i:04d}" for i in range(n)], "os_event": ev, "os_months": rng.exponential(40, n)}
    )


def test_paper_sizes_273_116():
    df = cohort(389, 142)
    s = train_validation_split(df, 0.7, seed=2024)
    assert s.value_counts().to_dict() == {"train": 273, "validation": 116}
    for events in (0, 1, 50, 143, 200, 389):  # any event count gives the paper's sizes
        s = train_validation_split(cohort(389, events), 0.7, seed=1)
        assert (s == "train").sum() == 273
    assert (train_validation_split(df, 0.7, seed=1, stratify=None) == "train").sum() == 273


def test_train_size_rounding():
    assert train_size(389, 0.7) == 273
    assert train_size(100, 0.7) == 70  # 100*0.7 = 70.00000000000001 in floating point
    assert train_size(10, 0.5) == 5


def test_reproducible_and_seed_dependent():
    df = cohort(389, 142)
    a = train_validation_split(df, seed=7)
    b = train_validation_split(df, seed=7)
    c = train_validation_split(df, seed=8)
    assert a.equals(b)
    assert not a.equals(c)
    assert a.name == "set" and a.index.equals(df.index)


def test_stratification_keeps_event_proportions():
    df = cohort(389, 142)
    for seed in range(20):
        s = train_validation_split(df, seed=seed, stratify="os_event")
        tr = df.loc[s == "train", "os_event"]
        va = df.loc[s == "validation", "os_event"]
        assert tr.sum() in (99, 100)  # 142 * 0.7 = 99.4
        assert abs(tr.mean() - va.mean()) < 0.015


def test_independent_of_row_order():
    df = cohort(389, 142)
    s = train_validation_split(df, seed=3)
    shuffled = df.sample(frac=1, random_state=11)
    s2 = train_validation_split(shuffled, seed=3)
    assert s2.index.equals(shuffled.index)
    assert s2.sort_index().equals(s.sort_index())
    renumbered = shuffled.reset_index(drop=True)
    s3 = train_validation_split(renumbered, seed=3)
    assert dict(zip(renumbered.patient_id, s3)) == dict(zip(df.patient_id, s))


def test_no_split():
    df = cohort(50, 10)
    s = train_validation_split(df, seed=1, no_split=True)
    assert (s == "train").all() and s.index.equals(df.index)


def test_numeric_stratification_and_errors():
    df = cohort(389, 142)
    s = train_validation_split(df, seed=1, stratify="os_months")
    assert (s == "train").sum() == 273
    with pytest.raises(ValueError, match="unique"):
        train_validation_split(pd.concat([df, df.iloc[:1]]), seed=1)
    with pytest.raises(KeyError):
        train_validation_split(df, seed=1, stratify="nope")
    with pytest.raises(ValueError):
        train_validation_split(df, 1.0, seed=1)


def test_the_rule_by_hand_from_the_named_stream():
    """The documented rule, redone by hand: one stratum, identifiers in text order, the first
    ceil(0.7 n) of stream(seed, "split")'s permutation train."""
    from crlmflow.pipeline.streams import stream

    df = cohort(50, 20).sample(frac=1, random_state=4)  # rows out of identifier order
    s = train_validation_split(df, 0.7, seed=9, stratify=None)
    ids = np.sort(df["patient_id"].to_numpy())
    perm = stream(9, "split").permutation(len(ids))
    expected = set(ids[perm[:35]])
    assert set(df.loc[s == "train", "patient_id"]) == expected


def test_external_split_reports_identifier_clashes_instead_of_rewriting():
    from crlmflow.data.cohort import assign_sets

    dev = cohort(20, 8)
    ext = cohort(10, 4, seed=1)
    with pytest.raises(ValueError, match=r"10 patient_id value\(s\) occur in both.*P0000, P0001"):
        assign_sets({"development": dev, "external": ext}, {"method": "external"}, seed=1)
    ext["patient_id"] = "E" + ext["patient_id"]
    combined, summary = assign_sets({"development": dev, "external": ext}, {"method": "external"}, seed=1)
    assert summary["n"] == {"train": 20, "validation": 10}
    assert combined.loc[combined["cohort"] == "external", "patient_id"].tolist() == ext["patient_id"].tolist()


def test_simulated_external_centre_has_its_own_identifiers():
    from crlmflow.simulation.generator import simulate_cohort

    dev, _ = simulate_cohort(40, 1)
    ext, _ = simulate_cohort(40, 2, id_prefix="E")
    assert dev["patient_id"].str.startswith("P").all() and ext["patient_id"].str.startswith("E").all()
