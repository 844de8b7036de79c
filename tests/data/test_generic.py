"""Generic studies from config alone: the colon trial end to end against R, and input errors.

R reference: tests/fixtures/r_reference/colon.json (survival 3.5-3, MASS 7.3-58.2), developed
on all 888 complete cases; here the same rows come through the workflow's own cleaning.
"""

import numpy as np
import pandas as pd
import pytest
import yaml
from rref import reference

from crlmflow.data.cohort import assign_sets, check_external_predictors, clean_cohort_file, complete_case_subset
from crlmflow.data.errors import InputError
from crlmflow.model.modelling import develop_model
from crlmflow.pipeline.config import validate_config


@pytest.fixture(scope="module")
def colon_config(repo_root):
    cfg = yaml.safe_load((repo_root / "config" / "colon.yaml").read_text())
    validate_config(cfg)
    return cfg


def _clean(cfg, path):
    return clean_cohort_file(
        path,
        file_options=cfg["data"]["file"],
        source="file",
        data_options=cfg["data"],
        candidates=cfg["candidates"],
        endpoints=cfg["endpoints"],
    )


@pytest.fixture(scope="module")
def colon_no_split(colon_config, repo_root):
    cfg = dict(colon_config, split={"method": "none", "train_fraction": 0.7})
    res = _clean(cfg, repo_root / "data" / "colon.csv")
    cohort, _ = assign_sets({"development": res.cohort}, cfg["split"], seed=cfg["seed"])
    return cfg, res, cohort


def test_colon_row_accounting(colon_no_split):
    _, res, cohort = colon_no_split
    ref = reference("colon")
    assert res.flow["read"] == ref["data"]["n_csv_rows"] == 929
    assert res.flow["included"] == ref["data"]["n_used"] == 888
    assert res.flow["read"] == res.flow["included"] + sum(res.flow["excluded"].values())
    assert len(res.exclusions) == 41 and (cohort["set"] == "train").all()


@pytest.mark.parametrize("endpoint", ["os", "rfs"])
def test_colon_cox_matches_r(colon_no_split, endpoint):
    cfg, _, cohort = colon_no_split
    ref = reference("colon")["endpoints"][endpoint]
    ep = cfg["endpoints"][endpoint]
    model = develop_model(
        cohort,
        cfg["candidates"],
        endpoint,
        ep["time"],
        ep["event"],
        screen_p=cfg["selection"]["screen_p"],
        exclude=cfg["exclude_from_multivariable"],
    )
    uni = model.univariable.set_index("term")
    for r in ref["univariable"].values():
        co = r["coefficients"]
        for term, b, se, p in zip(co["term"], co["coef"], co["se"], co["p_wald"]):
            assert uni.loc[term, "coef"] == pytest.approx(b, rel=1e-6)
            assert uni.loc[term, "se"] == pytest.approx(se, rel=1e-6)
            assert uni.loc[term, "p"] == pytest.approx(p, abs=1e-6)
        assert uni.loc[co["term"][0], "p_lr"] == pytest.approx(r["lr_p"], abs=1e-6)
    assert sorted(model.selected) == sorted(ref["stepaic"]["selected"])
    final = ref["final"]["coefficients"]
    fit = dict(zip(model.fit.names, zip(model.fit.coef, model.fit.se)))
    for term, b, se in zip(final["term"], final["coef"], final["se"]):
        assert fit[term][0] == pytest.approx(b, rel=1e-6)
        assert fit[term][1] == pytest.approx(se, rel=1e-6)


def _broken(tmp_path, colon_config, repo_root, edit):
    df = pd.read_csv(repo_root / "data" / "colon.csv", dtype=str, keep_default_na=False).head(30)
    edit(df)
    path = tmp_path / "cohort.csv"
    df.to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        _clean(colon_config, path)
    return str(err.value)


def test_event_coded_two(tmp_path, colon_config, repo_root):
    msg = _broken(
        tmp_path, colon_config, repo_root, lambda d: d.__setitem__("os_event", ["2"] + list(d["os_event"][1:]))
    )
    assert "cohort.csv, line 2" in msg and "'os_event'" in msg and "found '2'" in msg and "0 or 1" in msg


def test_negative_or_zero_time(tmp_path, colon_config, repo_root):
    def edit(d):
        d.loc[3, "rfs_months"] = "-1.5"
        d.loc[4, "os_months"] = "0"

    msg = _broken(tmp_path, colon_config, repo_root, edit)
    assert "line 5" in msg and "'rfs_months'" in msg and "'-1.5'" in msg and "> 0" in msg
    assert "line 6" in msg and "'os_months'" in msg


def test_unknown_category_and_non_numeric(tmp_path, colon_config, repo_root):
    def edit(d):
        d.loc[0, "rx"] = "Placebo"
        d.loc[1, "age"] = "sixty"

    msg = _broken(tmp_path, colon_config, repo_root, edit)
    assert "'rx'" in msg and "'Placebo'" in msg and "'Obs'" in msg
    assert "line 3" in msg and "'age'" in msg and "'sixty'" in msg and "a number" in msg


def test_missing_column_and_duplicate_id(tmp_path, colon_config, repo_root):
    msg = _broken(tmp_path, colon_config, repo_root, lambda d: d.drop(columns=["nodes"], inplace=True))
    assert "'nodes'" in msg and "absent" in msg
    msg = _broken(tmp_path, colon_config, repo_root, lambda d: d.__setitem__("id", ["1"] * len(d)))
    assert "'patient_id'" in msg and "unique" in msg


def test_empty_candidate_column_is_named(tmp_path, colon_config, repo_root):
    msg = _broken(tmp_path, colon_config, repo_root, lambda d: d.__setitem__("nodes", [""] * len(d)))
    assert (
        "cohort.csv, column 'nodes': column 'nodes' is empty in all 30 rows; expected values "
        "(check the export and the column mapping)"
    ) in msg


def test_all_patients_excluded(tmp_path, colon_config, repo_root):
    def edit(d):
        d["nodes"] = [""] * len(d)
        d.loc[0, "nodes"] = "3"
        d.loc[0, "os_months"] = ""

    msg = _broken(tmp_path, colon_config, repo_root, edit)
    assert "all 30 patients were excluded" in msg and "missing predictor: nodes: 29" in msg
    assert "missing required data: 1" in msg


def test_split_summary_counts_the_configured_events_by_set():
    """Events are counted for the study's own event columns, whatever their names."""
    dev = pd.DataFrame(
        {"patient_id": [f"p{i}" for i in range(10)], "relapsed": [1, 0] * 5, "months": np.arange(1.0, 11.0)}
    )
    _, summary = assign_sets({"development": dev}, {"method": "none"}, seed=1, event_columns=["relapsed"])
    assert summary["relapsed_by_set"] == {"train": 5, "validation": 0}
    assert not [k for k in summary if k.startswith(("os_", "rfs_"))]


def test_complete_case_subset_counts_the_incomplete_patients_by_set():
    df = pd.DataFrame(
        {
            "set": ["train", "train", "validation", "validation", "train"],
            "a": [1.0, np.nan, 2.0, 3.0, 4.0],
            "b": [1, 1, np.nan, 1, 1],
        }
    )
    cc, summary = complete_case_subset(df, ["a", "b", "not_a_column"])
    assert len(cc) == 3 and not cc[["a", "b"]].isna().any().any()
    assert summary == {
        "candidates_checked": 2,
        "n": {"train": 2, "validation": 1},
        "incomplete_by_set": {"train": 1, "validation": 1},
    }


def test_external_file_messages_name_the_external_block(tmp_path, colon_config, repo_root):
    df = pd.read_csv(repo_root / "data" / "colon.csv").drop(columns=["rfs_event"])
    path = tmp_path / "external.csv"
    df.to_csv(path, index=False)
    kwargs = dict(
        file_options=colon_config["data"]["file"],
        source="file",
        data_options=colon_config["data"],
        candidates=colon_config["candidates"],
        endpoints=colon_config["endpoints"],
    )
    with pytest.raises(InputError) as dev:
        clean_cohort_file(path, **kwargs)
    assert "data.file.columns" in str(dev.value)
    with pytest.raises(InputError) as ext:
        clean_cohort_file(
            path, config_key="external.file", units_key="external.file.units", candidates_required=False, **kwargs
        )
    assert "external.file.columns" in str(ext.value) and "data.file" not in str(ext.value)
    assert "declare only the endpoints it records" in str(ext.value)


def test_external_cohort_needs_only_the_frozen_models_predictors(tmp_path, colon_config, repo_root):
    """An external file may lack candidates (left empty, listed in the quality table); a
    predictor of the frozen model it lacks stops the run naming the file and the key."""
    df = pd.read_csv(repo_root / "data" / "colon.csv").iloc[:200].drop(columns=["nodes", "differ"])
    path = tmp_path / "external.csv"
    df.to_csv(path, index=False)
    kwargs = dict(
        file_options=colon_config["data"]["file"],
        source="file",
        data_options=colon_config["data"],
        candidates=colon_config["candidates"],
        endpoints=colon_config["endpoints"],
    )
    with pytest.raises(InputError, match="'nodes', 'differ' are absent"):
        clean_cohort_file(path, **kwargs)  # the development cohort needs every candidate
    with pytest.warns(UserWarning, match="nodes: not in the file"):
        res = clean_cohort_file(path, config_key="external.file", candidates_required=False, **kwargs)
    assert res.cohort["nodes"].isna().all() and res.cohort["differ"].isna().all()
    assert res.cohort["age"].notna().all() and res.flow["read"] == 200
    flagged = res.quality.set_index("name").loc[["nodes", "differ"], "warnings"]
    assert flagged.str.contains("unless the frozen model uses it").all()

    ext = res.cohort.assign(cohort="external")
    combined = pd.concat([ext.assign(cohort="development", nodes=1.0), ext], ignore_index=True)
    check_external_predictors(combined, ["age", "rx"], "external.csv")  # present: no error
    with pytest.raises(InputError) as err:
        check_external_predictors(combined, ["age", "nodes"], "external.csv")
    msg = str(err.value)
    assert "external.csv" in msg and "'nodes'" in msg and "external.file.columns" in msg
    assert "'age'" not in msg


def test_colon_multiple_imputation_keeps_patients_with_missing_predictors(colon_config, repo_root):
    cfg = dict(colon_config, data=dict(colon_config["data"], missing_predictors="multiple_imputation"))
    res = _clean(cfg, repo_root / "data" / "colon.csv")
    cc = _clean(colon_config, repo_root / "data" / "colon.csv")
    dropped = sum(v for k, v in cc.flow["excluded"].items() if k.startswith("missing predictor"))
    assert dropped > 0
    assert res.flow["included"] == cc.flow["included"] + dropped
    assert res.flow["incomplete_kept"] == dropped
    assert sum(res.flow["imputed"].values()) >= dropped
    assert not any(k.startswith("missing predictor") for k in res.flow["excluded"])
    q = res.quality.set_index("name")
    for col, n in res.flow["imputed"].items():
        assert q.loc[col, "imputed"] == n == res.cohort[col].isna().sum()
