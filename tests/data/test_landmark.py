import pandas as pd
import pytest

from crlmflow.data.landmark import landmark_cohort

EP = {"os": {"time": "os_months", "event": "os_event"}, "rfs": {"time": "rfs_months", "event": "rfs_event"}}


def test_landmark_keeps_the_event_free_and_measures_time_from_it():
    df = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c", "d", "e"],
            "os_months": [2.0, 20.0, 20.0, 4.0, 30.0],
            "os_event": [1, 0, 1, 0, 0],
            "rfs_months": [2.0, 5.0, 10.0, 4.0, 30.0],
            "rfs_event": [0, 1, 1, 0, 0],
        }
    )
    out, counts = landmark_cohort(df, 6, EP)
    # a died at 2; b recurred at 5 (still alive: not at risk of a *first* event at 6);
    # d was lost to follow-up at 4: left out and counted as censored
    assert out["patient_id"].tolist() == ["c", "e"]
    assert out["os_months"].tolist() == [14.0, 24.0] and out["rfs_months"].tolist() == [4.0, 24.0]
    assert counts == {
        "landmark_months": 6.0,
        "n_before": 5,
        "n_at_landmark": 2,
        "event_by_landmark": 2,
        "censored_by_landmark": 1,
    }


def test_landmark_must_be_after_time_zero():
    with pytest.raises(ValueError, match="landmark.time must be > 0"):
        landmark_cohort(pd.DataFrame({"t": [1.0], "e": [1]}), 0, {"x": {"time": "t", "event": "e"}})
