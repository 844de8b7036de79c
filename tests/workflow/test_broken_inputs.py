"""Broken input files through the real workflow: the data stage stops with one clear message.

Each case writes a deliberately broken cohort file (made from a simulated raw export),
runs Snakemake up to ``OUT/data/analysis_cohort.csv`` with ``data.source: file`` and checks
that the run fails, that the message names the file, the row/line, the column, the value
found and what was expected, and that no file of the data stage or of a later stage is
left behind looking like a result. The unit tests of each check are in test_cleaning.py,
test_io.py and test_generic.py; this file checks the same messages reach the user.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from crlmflow.data.columns import DAYS_PER_MONTH
from crlmflow.data.io import atomic_write_csv
from crlmflow.simulation.generator import simulate_cohort

pytestmark = pytest.mark.workflow

BIN = Path(sys.executable).parent

#: Row (0-based position in the export) that the broken cases damage: line ROW + 2 of the CSV.
ROW = 4
LINE = ROW + 2


@pytest.fixture(scope="module")
def run_env(tmp_path_factory) -> dict:
    """The environment of the Snakemake runs: bytecode cached in a temporary folder.

    Eleven Snakemake runs each import Snakemake, pandas and friends twice (Snakemake and
    the clean job); with PYTHONDONTWRITEBYTECODE set every import compiles from source.
    PYTHONPYCACHEPREFIX keeps the compiled files out of the repository and the venv.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path_factory.mktemp("pycache"))
    return env


@pytest.fixture(scope="module")
def raw_export() -> pd.DataFrame:
    return simulate_cohort(60, seed=1)[0]


@pytest.fixture(scope="module")
def default_config(repo_root):
    with open(repo_root / "config" / "config.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _times_layout(raw: pd.DataFrame) -> pd.DataFrame:
    """The same patients in the ``times`` layout (months + event indicators, no dates)."""
    d = {
        c: pd.to_datetime(raw[c])
        for c in (
            "admission_date",
            "surgery_date",
            "discharge_date",
            "recurrence_date",
            "death_date",
            "last_followup_date",
        )
    }
    end = d["death_date"].fillna(d["last_followup_date"])
    rfs_end = d["recurrence_date"].fillna(end)
    out = raw.drop(columns=list(d)).copy()
    out["os_months"] = ((end - d["surgery_date"]).dt.days / DAYS_PER_MONTH).round(4)
    out["os_event"] = d["death_date"].notna().astype(int)
    out["rfs_months"] = ((rfs_end - d["surgery_date"]).dt.days / DAYS_PER_MONTH).round(4)
    out["rfs_event"] = d["recurrence_date"].notna().astype(int)
    out["hospital_days"] = (d["discharge_date"] - d["admission_date"]).dt.days
    return out


def _row_without_recurrence(raw: pd.DataFrame) -> int:
    return int(raw.index[raw["recurrence_date"].isna() & raw["death_date"].isna()][0])


# Each case: (raw export, tmp dir) -> (file written, config overrides of data.file, expected
# message fragments). "{pid}" in a fragment is replaced by the patient id of row ROW.


def case_non_numeric_lab(raw, tmp):
    df = raw.astype(object)
    df.loc[ROW, "wbc"] = "abc"
    path = tmp / "cohort.csv"
    atomic_write_csv(df, path)
    return (
        path,
        {},
        [
            f"cohort.csv, line {LINE} (patient {df.loc[ROW, 'patient_id']}), column 'wbc': "
            "found 'abc', expected a number"
        ],
    )


def case_death_before_surgery(raw, tmp):
    df = raw.astype(object)
    row = _row_without_recurrence(raw)
    surgery = pd.Timestamp(df.loc[row, "surgery_date"])
    death = (surgery - pd.Timedelta(days=10)).strftime("%Y-%m-%d")
    df.loc[row, "death_date"] = death
    path = tmp / "cohort.csv"
    atomic_write_csv(df, path)
    return (
        path,
        {},
        [
            f"cohort.csv, line {row + 2} (patient {df.loc[row, 'patient_id']}), column 'death_date': "
            f"found '{death}', expected a date after surgery_date ({surgery:%Y-%m-%d}); "
            "times are counted from surgery and must be positive"
        ],
    )


def case_duplicate_id(raw, tmp):
    df = raw.astype(object)
    pid = df.loc[1, "patient_id"]
    df.loc[ROW, "patient_id"] = pid
    path = tmp / "cohort.csv"
    atomic_write_csv(df, path)
    return (
        path,
        {},
        [
            f"cohort.csv, line 3 (patient {pid}), column 'patient_id': found '{pid}', expected a unique "
            f"patient_id (the same identifier is on line {LINE})",
            f"cohort.csv, line {LINE} (patient {pid}), column 'patient_id': found '{pid}', expected a unique "
            "patient_id (the same identifier is on line 3)",
        ],
    )


def case_unknown_category(raw, tmp):
    df = raw.astype(object)
    df.loc[ROW, "sex"] = "male"
    path = tmp / "cohort.csv"
    atomic_write_csv(df, path)
    return (
        path,
        {},
        [
            f"cohort.csv, line {LINE} (patient {df.loc[ROW, 'patient_id']}), column 'sex': "
            "found 'male', expected one of 'F', 'M' (case-insensitive)"
        ],
    )


def case_missing_column(raw, tmp):
    path = tmp / "cohort.csv"
    atomic_write_csv(raw.drop(columns=["surgery_date"]), path)
    return (
        path,
        {},
        [
            "cohort.csv: missing required column 'surgery_date' (expected the columns of the "
            "'dates' data dictionary; map local names with the column mapping)"
        ],
    )


def case_times_event_coded_2(raw, tmp):
    df = _times_layout(raw).astype(object)
    df.loc[ROW, "os_event"] = "2"
    path = tmp / "cohort_times.csv"
    atomic_write_csv(df, path)
    return (
        path,
        {"format": "times"},
        [
            f"cohort_times.csv, line {LINE} (patient {df.loc[ROW, 'patient_id']}), column 'os_event': "
            "found '2', expected 0 or 1"
        ],
    )


def case_all_excluded(raw, tmp):
    df = raw.astype(object)
    df["chemotherapy"] = "none"
    path = tmp / "cohort.csv"
    atomic_write_csv(df, path)
    return (
        path,
        {},
        [
            f"cohort.csv: all {len(df)} patients were excluded (",
            "no systemic chemotherapy: ",
            "expected at least one eligible patient",
        ],
    )


def case_wrong_delimiter(raw, tmp):
    path = tmp / "cohort.csv"
    raw.to_csv(path, sep=";", index=False)
    return (
        path,
        {},
        ["cohort.csv, line 1: the header line is separated by ';' (semicolon); expected comma-separated values"],
    )


def case_unit_out_of_range_after_conversion(raw, tmp):
    df = raw.astype(object)
    df["tbil"] = [f"{v / 17.104:.4f}" for v in raw["tbil"]]
    df.loc[ROW, "tbil"] = "100"
    path = tmp / "cohort.csv"
    atomic_write_csv(df, path)
    return (
        path,
        {"units": {"tbil": "mg/dL"}},
        [
            f"cohort.csv, line {LINE} (patient {df.loc[ROW, 'patient_id']}), column 'tbil': found '100', "
            "expected a number between 0 and 1000 umol/L (the column is declared in mg/dL by "
            "data.file.units.tbil: 100 mg/dL = 1710.4 umol/L after conversion x17.104)"
        ],
    )


def case_misnamed_recurrence_column(raw, tmp):
    """Issue item 1: failed at the Cox stage before; now the data stage names the column."""
    path = tmp / "cohort.csv"
    atomic_write_csv(raw.rename(columns={"recurrence_date": "recurrence_dt"}), path)
    return (
        path,
        {},
        [
            "cohort.csv, column 'recurrence_date': column 'recurrence_date' is absent, but endpoint "
            "'rfs' counts its events (rfs_event) from it",
            "the file has 'recurrence_dt', which looks like 'recurrence_date'",
        ],
    )


def case_empty_required_column(raw, tmp):
    """Issue item 9: 'all patients were excluded' before; now the column is named."""
    df = raw.astype(object)
    df["cea"] = ""
    path = tmp / "cohort.csv"
    atomic_write_csv(df, path)
    return path, {}, [f"cohort.csv, column 'cea': column 'cea' is empty in all {len(df)} rows; expected values"]


def case_short_row(raw, tmp):
    """Issue item 5: a line with too few cells was padded and counted as missing data."""
    path = tmp / "cohort.csv"
    atomic_write_csv(raw, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[LINE - 1] = ",".join(lines[LINE - 1].split(",")[:-2])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, {}, [f"cohort.csv, line {LINE}: the line has {raw.shape[1] - 2} cells; expected {raw.shape[1]}"]


# Cases that fail before the clean job runs: Snakemake (or the config check) reports them.


def case_missing_file(raw, tmp):
    path = tmp / "no_such_dir" / "cohort.csv"
    return path, {}, ["Missing input files for rule clean", str(path)]


def case_unknown_unit_in_config(raw, tmp):
    path = tmp / "cohort.csv"
    atomic_write_csv(raw, path)
    return (
        path,
        {"units": {"tbil": "mmol/L"}},
        ["config key 'data.file.units.tbil': 'mmol/L' is not allowed; allowed values: 'umol/L', 'mg/dL'"],
    )


JOB_CASES = [
    case_non_numeric_lab,
    case_death_before_surgery,
    case_duplicate_id,
    case_unknown_category,
    case_missing_column,
    case_times_event_coded_2,
    case_all_excluded,
    case_wrong_delimiter,
    case_unit_out_of_range_after_conversion,
    case_misnamed_recurrence_column,
    case_empty_required_column,
    case_short_row,
]
EARLY_CASES = [case_missing_file, case_unknown_unit_in_config]


def _run_broken(case, raw, default_config, repo_root, tmp_path, env):
    data_dir = tmp_path / "input"
    data_dir.mkdir()
    path, file_options, expected = case(raw, data_dir)
    cfg = yaml.safe_load(yaml.safe_dump(default_config))
    out = tmp_path / "out"
    cfg["outdir"] = str(out)
    cfg["data"]["source"] = "file"
    cfg["data"]["file"].update(path=str(path), format="dates", columns={})
    cfg["data"]["file"].update(file_options)
    cfgfile = tmp_path / "broken.yaml"
    cfgfile.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    res = subprocess.run(
        [
            str(BIN / "snakemake"),
            "--cores",
            "1",
            "--configfile",
            str(cfgfile),
            "--nolock",
            f"{out}/data/analysis_cohort.csv",
        ],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return res, out, expected


def _assert_no_results(out: Path):
    """Nothing of the data stage or later is left that could pass for a result."""
    for rel in (
        "data/development/cohort_clean.csv",
        "data/development/cohort.csv",
        "data/development/exclusions.csv",
        "data/development/flow.json",
        "data/analysis_cohort.csv",
        "data/split_summary.json",
    ):
        assert not (out / rel).exists(), rel
    left = [p for p in (out / "data").rglob("*") if p.is_file()] if (out / "data").exists() else []
    assert not left, left
    models = [p for p in (out / "models").rglob("*") if p.is_file()] if (out / "models").exists() else []
    assert not models, models


@pytest.mark.parametrize("case", JOB_CASES, ids=lambda c: c.__name__.removeprefix("case_"))
def test_broken_file_stops_the_clean_job(case, raw_export, default_config, repo_root, tmp_path, run_env):
    res, out, expected = _run_broken(case, raw_export, default_config, repo_root, tmp_path, run_env)
    assert res.returncode != 0, res.stdout[-2000:] + res.stderr[-2000:]
    log = out / "logs" / "clean_development.log"
    assert log.exists(), res.stderr[-3000:]
    text = log.read_text(encoding="utf-8")
    assert "InputError" in text
    for fragment in expected:
        assert fragment in text, f"{fragment!r} not in the log:\n{text}"
        assert fragment in res.stderr, f"{fragment!r} not in Snakemake's stderr"
    assert "Error in rule clean" in res.stderr
    # one line per problem, under a header counting them (when they are about rows)
    problem_lines = [ln for ln in text.splitlines() if ln.startswith(("cohort.csv, line", "cohort_times.csv, line"))]
    assert len(problem_lines) == len([f for f in expected if ", line " in f])
    _assert_no_results(out)
    marker = json.loads((out / "DATA_STAGE_FAILED.development.json").read_text(encoding="utf-8"))
    assert marker["input"] == Path(str(marker["input"])).name and marker["error"] == "InputError"


@pytest.mark.parametrize("case", EARLY_CASES, ids=lambda c: c.__name__.removeprefix("case_"))
def test_broken_setup_fails_before_any_job(case, raw_export, default_config, repo_root, tmp_path, run_env):
    res, out, expected = _run_broken(case, raw_export, default_config, repo_root, tmp_path, run_env)
    assert res.returncode != 0, res.stdout[-2000:] + res.stderr[-2000:]
    for fragment in expected:
        assert fragment in res.stdout + res.stderr, res.stderr[-3000:]
    assert not (out / "logs" / "clean_development.log").exists()
    _assert_no_results(out)


def _run(cfg, tmp_path, env, repo_root, target):
    cfgfile = tmp_path / "run.yaml"
    cfgfile.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return subprocess.run(
        [str(BIN / "snakemake"), "--cores", "1", "--configfile", str(cfgfile), "--nolock", target],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_failed_rerun_marks_previous_results_and_audit_fails(raw_export, default_config, repo_root, tmp_path, run_env):
    """Issue item 10: a rejected input leaves a marker; audit refuses the earlier results."""
    from crlmflow.data.stale import failed_markers
    from crlmflow.pipeline.audit import audit

    path = tmp_path / "cohort.csv"
    atomic_write_csv(raw_export, path)
    out = tmp_path / "out"
    cfg = yaml.safe_load(yaml.safe_dump(default_config))
    cfg["outdir"] = str(out)
    cfg["data"]["source"] = "file"
    cfg["data"]["file"].update(path=str(path), format="dates", columns={})
    good = _run(cfg, tmp_path, run_env, repo_root, f"{out}/data/analysis_cohort.csv")
    assert good.returncode == 0, good.stderr[-3000:]
    quality = pd.read_csv(out / "data" / "development" / "data_quality.csv")
    assert {"os", "rfs"} <= set(quality.loc[quality["section"] == "endpoint", "name"])
    assert (out / "data" / "development" / "data_quality.html").exists()
    # a manifest of the good run, as the provenance rule would write it, then a broken rerun
    from crlmflow.pipeline.provenance import build_manifest, load_records

    manifest = build_manifest(out, load_records(out))
    (out / "provenance.json").write_text(json.dumps(manifest), encoding="utf-8")
    table = next(k for k in manifest["entries"] if k.endswith("data_quality.csv"))
    lines = []
    assert audit(table, out / "provenance.json", out=lines.append) == 0, lines
    df = raw_export.astype(object)
    df["cea"] = ""
    atomic_write_csv(df, path)
    bad = _run(cfg, tmp_path, run_env, repo_root, f"{out}/data/analysis_cohort.csv")
    assert bad.returncode != 0
    assert [m["input"] for m in failed_markers(out)] == ["cohort.csv"]
    lines = []
    # the earlier analysis cohort is still there, and audit says it is not a result of this input
    assert (out / "data" / "analysis_cohort.csv").exists()
    entry = next((k for k in manifest["entries"] if k.endswith("analysis_cohort.csv")), table)
    assert audit(entry, out / "provenance.json", out=lines.append) == 1
    assert any("STALE" in ln and "the data stage failed on cohort.csv" in ln for ln in lines), lines
    # fixing the input clears the marker
    atomic_write_csv(raw_export, path)
    again = _run(cfg, tmp_path, run_env, repo_root, f"{out}/data/analysis_cohort.csv")
    assert again.returncode == 0, again.stderr[-3000:]
    assert failed_markers(out) == []
