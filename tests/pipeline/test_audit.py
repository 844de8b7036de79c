"""Job records keep the code a job ran; audit names every cause of staleness.

A tiny project in a temporary git repository: one "script" reads an input and writes a
table; its job record is written by ``record_job`` as a Snakemake job would, then code,
input and config are changed one at a time and ``audit`` must name each.
"""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from crlmflow.pipeline import audit as audit_mod
from crlmflow.pipeline.audit import audit, changed_keys
from crlmflow.pipeline.codestate import code_snapshot, git_file_states, ran_modules
from crlmflow.pipeline.config import study_hash
from crlmflow.pipeline.crate import PROFILES, write_crate
from crlmflow.pipeline.provenance import build_manifest, load_records, record_job, records_behind


class _Named(list):
    """A Snakemake Namedlist stand-in: a list whose names are attributes."""

    def __init__(self, **named):
        super().__init__(named.values())
        self.__dict__.update(named)

    def items(self):
        return {k: v for k, v in self.__dict__.items()}.items()


class _Job:
    def __init__(self, rule, inputs, outputs, params, config):
        self.rule, self.input, self.output = rule, _Named(**inputs), _Named(**outputs)
        self.params, self.wildcards, self.log, self.config = _Named(**params), _Named(), [], config


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A committed project with one job already run and recorded."""
    root = tmp_path / "proj"
    (root / "scripts").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "scripts" / "make_table.py").write_text("x = 1\ny = 2\n", encoding="utf-8")
    (root / "data" / "raw.csv").write_text("a\n1\n", encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "-c", "user.email=t@t", "-c", "user.name=t", "add", "-A")
    _git(root, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init")
    monkeypatch.chdir(root)
    config = {"outdir": "out", "seed": 1, "data": {"followup_cutoff": "2020-01-01"}}
    (root / "out" / "tables").mkdir(parents=True)
    (root / "out" / "tables" / "t.csv").write_text("a\n1\n", encoding="utf-8")
    job = _Job(
        "make_table",
        {"raw": "data/raw.csv", "script": "scripts/make_table.py"},
        {"table": "out/tables/t.csv"},
        {"cutoff": "2020-01-01"},
        config,
    )
    record_job(job, "out")
    return root, config


def code_snapshot_keys(modules):
    from crlmflow.pipeline.codestate import code_snapshot

    return code_snapshot(modules).keys()


def test_record_holds_code_modules_config_and_clean_state(project):
    root, config = project
    rec = load_records(root / "out")[0]
    assert rec["code"]["path"] == "scripts/make_table.py" and rec["code"]["git"] == "clean"
    assert "text" not in rec["code"]  # recoverable from the commit
    assert rec["git"]["dirty"] is False
    # the package modules this process imported, with their hashes (not the whole package)
    assert any(m.endswith("pipeline/provenance.py") for m in rec["modules"])
    # exactly the ones imported at record time: which depends on what ran before in this
    # process, so compare with the interpreter's own list rather than a fixed module
    from crlmflow.pipeline.codestate import ran_modules

    assert set(rec["modules"]) == set(code_snapshot_keys(ran_modules()))
    assert all(len(e["sha256"]) == 64 for e in rec["modules"].values())
    assert rec["config"] == {"seed": 1, "data": {"followup_cutoff": "2020-01-01"}}  # no outdir


def test_untracked_script_marks_the_record_dirty_and_keeps_its_text(project):
    root, config = project
    (root / "scripts" / "new.py").write_text("print('new')\n", encoding="utf-8")
    assert git_file_states(["scripts/new.py", "scripts/make_table.py"]) == {
        "scripts/new.py": "untracked",
        "scripts/make_table.py": "clean",
    }
    job = _Job("other", {"script": "scripts/new.py"}, {"t": "out/tables/t.csv"}, {}, config)
    rec = json.loads(record_job(job, "out").read_text())
    assert rec["git"]["dirty"] is True
    assert rec["code"]["git"] == "untracked" and rec["code"]["text"] == "print('new')\n"


def test_audit_ok_then_names_a_code_change_with_its_lines_and_path(project):
    root, _ = project
    lines = []
    assert audit("out/tables/t.csv", out=lines.append) == 0, lines
    (root / "scripts" / "make_table.py").write_text("x = 1\ny = 3\n", encoding="utf-8")
    lines = []
    assert audit("out/tables/t.csv", out=lines.append, why=True) == 1
    text = "\n".join(lines)
    assert "CODE" in text and "scripts/make_table.py" in text
    assert "-y = 2" in text and "+y = 3" in text  # the changed line, old text from the commit
    assert "=> rule make_table" in text


def test_audit_names_a_changed_module(project, monkeypatch):
    root, _ = project
    manifest = build_manifest("out", load_records("out"))
    module = next(iter(manifest["entries"]["out/tables/t.csv"]["modules"]))
    # pretend the module changed: record a different hash for it
    rec_path = next((root / "out" / "provenance" / "jobs").glob("*.json"))
    rec = json.loads(rec_path.read_text())
    rec["modules"][module]["sha256"] = "0" * 64
    rec["modules"][module]["text"] = "old text\n"
    rec_path.write_text(json.dumps(rec))
    lines = []
    assert audit("out/tables/t.csv", out=lines.append, why=True) == 1
    assert any(module in ln and "CODE" in ln for ln in lines), lines
    assert any("-old text" in ln for ln in lines), lines


def test_audit_names_a_changed_input(project):
    root, _ = project
    (root / "data" / "raw.csv").write_text("a\n2\n", encoding="utf-8")
    lines = []
    assert audit("out/tables/t.csv", out=lines.append) == 1
    assert any("INPUT" in ln and "data/raw.csv" in ln for ln in lines), lines


def test_audit_names_the_config_key_with_old_and_new_value(project, monkeypatch):
    root, config = project
    new = {**config, "data": {"followup_cutoff": "2019-01-01"}}
    (root / "new.yaml").write_text(yaml.safe_dump(new), encoding="utf-8")
    monkeypatch.setattr(audit_mod, "current_config", lambda files: {k: v for k, v in new.items() if k != "outdir"})
    monkeypatch.setattr(audit_mod, "params_changed", lambda files, cf: {"out/tables/t.csv"})
    lines = []
    assert audit("out/tables/t.csv", out=lines.append, configfiles=["new.yaml"], why=True) == 1
    assert any("CONFIG" in ln and 'data.followup_cutoff: "2020-01-01" -> "2019-01-01"' in ln for ln in lines), lines
    # a key the job's params do not use (Snakemake says: no params changed) is no cause
    monkeypatch.setattr(audit_mod, "params_changed", lambda files, cf: set())
    lines = []
    assert audit("out/tables/t.csv", out=lines.append, configfiles=["new.yaml"]) == 0, lines


def test_outputs_outside_the_manifest_are_audited_from_the_job_records(project):
    root, _ = project
    # a provenance.json of the default target that does not list this output
    (root / "out" / "provenance.json").write_text(json.dumps({"outdir": "out", "entries": {}}))
    lines = []
    assert audit("out/tables/t.csv", out=lines.append) == 0, lines


def test_changed_keys_and_study_hash():
    assert changed_keys({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}, "d": 0}) == [("a.c", 2, 3), ("d", None, 0)]
    assert study_hash({"outdir": "x", "seed": 1}) == study_hash({"outdir": "y", "seed": 1})
    assert study_hash({"outdir": "x", "seed": 1}) != study_hash({"outdir": "x", "seed": 2})


def test_code_snapshot_and_ran_modules(project):
    root, _ = project
    snap = code_snapshot(["scripts/make_table.py", "scripts/absent.py"])
    assert list(snap) == ["scripts/make_table.py"] and snap["scripts/make_table.py"]["git"] == "clean"
    mods = ran_modules(root)
    assert any(Path(m).name == "codestate.py" for m in mods)


def test_crate_of_a_recorded_job_validates_and_keeps_the_code(project, validate_crate):
    root, config = project
    (root / "Snakefile").write_text("rule all:\n    input: []\n", encoding="utf-8")
    # a second job whose script is untracked: its text must come from the record
    (root / "scripts" / "new.py").write_text("print('untracked')\n", encoding="utf-8")
    (root / "out" / "tables" / "u.csv").write_text("b\n2\n", encoding="utf-8")
    record_job(
        _Job("other", {"t": "out/tables/t.csv", "script": "scripts/new.py"}, {"u": "out/tables/u.csv"}, {}, config),
        "out",
    )
    (root / "scripts" / "new.py").write_text("print('edited after the run')\n", encoding="utf-8")
    path = write_crate("out", load_records("out"))
    crate = json.loads(path.read_text())
    graph = {e["@id"]: e for e in crate["@graph"]}
    assert {r["@id"] for r in graph["./"]["conformsTo"]} == set(PROFILES)
    job = graph["#job-other"]
    assert {"@id": "tables/t.csv"} in job["object"] and job["result"] == [{"@id": "tables/u.csv"}]
    assert graph["tables/u.csv"]["sha256"] and graph["#control-job-other"]["object"] == {"@id": "#job-other"}
    # the code as it ran, not as it is now
    assert (root / "out" / "provenance" / "code" / "scripts" / "new.py").read_text() == "print('untracked')\n"
    assert (root / "out" / "provenance" / "code" / "scripts" / "make_table.py").read_text() == "x = 1\ny = 2\n"
    assert validate_crate(root / "out") == []
    # and the validator does catch a broken crate
    crate["@graph"] = [e for e in crate["@graph"] if e["@id"] != "#control-job-other"]
    del graph["./"]["datePublished"]
    path.write_text(json.dumps({**crate, "@graph": [graph["./"] if e["@id"] == "./" else e for e in crate["@graph"]]}))
    assert validate_crate(root / "out")


def test_current_config_reads_study_configs_as_the_snakefile_does(tmp_path, repo_root):
    """audit compares recorded params with the study the workflow would run: extends: is
    followed and null removes a key, exactly as the Snakefile resolves --configfile."""
    from crlmflow.pipeline.audit import current_config

    own = tmp_path / "rfs_only.yaml"
    own.write_text(
        f"extends: {repo_root / 'config' / 'config.yaml'}\nendpoints:\n  os: null\nsplit:\n  stratify: rfs_event\n",
        encoding="utf-8",
    )
    cfg = current_config([str(own)])
    assert list(cfg["endpoints"]) == ["rfs"] and cfg["split"]["stratify"] == "rfs_event"
    assert "outdir" not in cfg and "extends" not in cfg


def test_records_behind_keeps_only_the_lineage_of_the_targets():
    def rec(rule, inputs, outputs):
        return {"rule": rule, "inputs": dict.fromkeys(inputs, "h"), "outputs": dict.fromkeys(outputs, "h")}

    raw = rec("simulate", ["scripts/simulate.py"], ["out/raw.csv"])
    clean = rec("clean", ["out/raw.csv", "src/x.py"], ["out/clean.csv"])
    table = rec("table", ["out/clean.csv"], ["out/table.csv"])
    # a rule of an earlier DAG, and the provenance job's own record of a previous run
    gone = rec("old_exhibit", ["out/clean.csv"], ["out/old.csv"])
    own = rec("provenance", ["out/table.csv"], ["out/provenance.json"])
    kept = records_behind([own, gone, table, clean, raw], ["out/table.csv"])
    assert [r["rule"] for r in kept] == ["table", "clean", "simulate"]
    assert records_behind([table], ["out/unknown.csv"]) == []
