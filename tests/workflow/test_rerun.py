"""What Snakemake reruns: params carry only the keys a rule uses, code inputs follow the
imports, and ``validation.bootstrap_B: 0`` runs the whole default DAG without a bootstrap.

Runs the default target on the small config of tests/workflow/test_workflow.py (150
patients, few replicates), then asks ``snakemake -n`` what a change would rerun.
"""

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from project_copy import copy_project, project_env

from crlmflow.pipeline.codedeps import code_dependencies

pytestmark = pytest.mark.workflow

BIN = Path(sys.executable).parent


def _small_config(repo_root, out, **validation):
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg["outdir"] = str(out)
    cfg["data"]["synthetic"]["n_eligible"] = 150
    cfg["validation"].update(bootstrap_B=8, bootstrap_chunks=2, calibration_B=4, cutpoint_permutations=10)
    cfg["validation"].update(validation)
    return cfg


def _snakemake(repo_root, cfg, path, *args):
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return subprocess.run(
        [str(BIN / "snakemake"), "--configfile", str(path), *args],
        cwd=repo_root,
        env=project_env(repo_root),
        capture_output=True,
        text=True,
    )


def _planned(res) -> dict[str, list[str]]:
    """rule -> the reasons `snakemake -n` gives for each of its planned jobs."""
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    plan: dict[str, list[str]] = {}
    rule = None
    for line in (res.stdout + res.stderr).splitlines():
        m = re.match(r"^(?:local)?rule (\w+):$", line.strip())
        if m:
            rule = m.group(1)
        elif rule and line.strip().startswith("reason:"):
            plan.setdefault(rule, []).append(line.strip()[len("reason:") :].strip())
    return plan


@pytest.fixture(scope="module")
def project(repo_root, tmp_path_factory):
    """A copy of the project: the module-edit tests must not edit the checkout (see project_copy)."""
    return copy_project(repo_root, tmp_path_factory.mktemp("rerun_project"))


@pytest.fixture(scope="module")
def complete_run(project, tmp_path_factory):
    base = tmp_path_factory.mktemp("rerun")
    cfg = _small_config(project, base / "out")
    res = _snakemake(project, cfg, base / "run.yaml", "--cores", "2", "-q")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert (base / "out" / "provenance.json").exists()
    return base, cfg


def test_complete_run_plans_nothing(project, complete_run):
    base, cfg = complete_run
    # the same config file: the provenance manifest records which files the run was given
    assert _planned(_snakemake(project, cfg, base / "run.yaml", "-n")) == {}


def test_simulation_study_settings_rerun_nothing_of_the_default_target(project, complete_run):
    base, cfg = complete_run
    changed = copy.deepcopy(cfg)
    changed["simulation_study"]["replicates"] += 7
    changed["simulation_study"]["truth_n"] += 1000
    assert _planned(_snakemake(project, changed, base / "run.yaml", "-n")) == {}


def test_a_setting_reruns_the_rules_that_use_it(project, complete_run):
    """The control: a key a rule does use is seen (cut-off permutations -> risk_groups on)."""
    base, cfg = complete_run
    changed = copy.deepcopy(cfg)
    changed["validation"]["cutpoint_permutations"] += 1
    plan = _planned(_snakemake(project, changed, base / "perm.yaml", "-n"))
    changed_params = {rule for rule, reasons in plan.items() if any("params" in r.lower() for r in reasons)}
    # Snakemake compares params only of jobs whose inputs are unchanged: model_file (whose
    # settings hash the permutations too) is planned because risk_groups' output changes
    assert changed_params == {"risk_groups"} and "model_file" in plan
    assert "cox_models" not in plan and "validate_model" not in plan and "bootstrap_chunk" not in plan


def _rules_running(repo_root, module: str) -> set[str]:
    """Rules whose declared code (script or notebook) imports `module`, per codedeps."""
    out = set()
    for path in sorted((repo_root / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=rule \w+:)", path.read_text(encoding="utf-8"))[1:]:
            name = re.match(r"rule (\w+):", block).group(1)
            for helper, source in re.findall(r'code=(code_of|notebook_code)\("([^"]+)"\)', block):
                sources = [source] + (["scripts/run_notebook.py"] if helper == "notebook_code" else [])
                if module in code_dependencies(*sources, root=repo_root):
                    out.add(name)
    return out


@pytest.fixture(scope="module")
def default_rules(project, complete_run) -> set[str]:
    """Every rule of the default target (a forced dry run)."""
    base, cfg = complete_run
    return set(_planned(_snakemake(project, cfg, base / "all.yaml", "-n", "--forceall")))


@pytest.mark.parametrize(
    "module",
    ["src/crlmflow/app/calculator.py", "src/crlmflow/model/riskgroups.py", "src/crlmflow/report/plots/calibration.py"],
)
def test_an_edited_module_reruns_exactly_the_rules_importing_it(
    repo_root, project, complete_run, default_rules, module
):
    base, cfg = complete_run
    # the copy's files are the checkout's; this process imports crlmflow from the checkout
    expected = _rules_running(repo_root, module) & default_rules
    assert expected and expected != default_rules - {"all"}
    path = project / module
    original, stat = path.read_bytes(), path.stat()
    try:
        # an edit (Snakemake skips a newer input whose checksum is unchanged), undone below
        path.write_bytes(original + b"\n# edited by tests/workflow/test_rerun.py\n")
        plan = _planned(_snakemake(project, cfg, base / "code.yaml", "-n"))
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    # Snakemake names the module as the reason only for jobs not already downstream of a
    # rerun job; every other planned job is downstream of one that imports the module.
    direct = {rule for rule, reasons in plan.items() if any(module in r for r in reasons)}
    assert direct and direct <= expected <= set(plan)
    downstream = set(plan) - direct
    assert all(r.lower().startswith("input files updated by another job") for rule in downstream for r in plan[rule]), {
        rule: plan[rule] for rule in downstream
    }
    assert set(plan) < default_rules


def test_bootstrap_B_zero_runs_the_whole_default_dag(repo_root, tmp_path):
    out = tmp_path / "out"
    cfg = _small_config(repo_root, out, bootstrap_B=0)
    plan = _planned(_snakemake(repo_root, cfg, tmp_path / "b0.yaml", "-n"))
    assert not {"bootstrap_chunk", "bootstrap_gather"} & set(plan)
    res = _snakemake(repo_root, cfg, tmp_path / "b0.yaml", "--cores", "2", "-q")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert (out / "provenance.json").exists() and (out / "app" / "nomogram.html").exists()
    assert not list(out.glob("validation/*/bootstrap*")) and not list(out.glob("validation/*/optimism.csv"))
    comparison = (out / "tables" / "performance_comparison.md").read_text(encoding="utf-8")
    assert "Optimism correction not computed in this run (validation.bootstrap_B = 0)" in comparison
    stability = pd.read_csv(out / "tables" / "selection_stability.csv")
    assert stability["Variable"].str.contains("not computed: validation.bootstrap_B = 0").all()
    perf = pd.read_csv(out / "validation" / "os" / "performance.csv")
    assert len(perf) and (out / "figures" / "figure_model_os.png").exists()
    assert_figures_fit_a_journal_page(out / "figures")
    # one source per panel: the forest plot and nomogram exist only as Figure 2/3 panels
    assert not list((out / "figures").glob("forest_*")) and not list((out / "figures").glob("nomogram_*"))
    pairs = pd.read_csv(out / "survival" / "km_pairwise.csv")
    assert len(pairs[(pairs["panel"] == "chemo_group")]) == 3 * len(cfg["endpoints"])


def assert_figures_fit_a_journal_page(folder):
    """Every figure PNG (300 dpi) is at most 170 x 225 mm, the printed page of a journal."""
    from PIL import Image

    for png in sorted(folder.glob("*.png")):
        with Image.open(png) as im:
            w_mm, h_mm = (px / 300 * 25.4 for px in im.size)
        assert w_mm <= 170.5 and h_mm <= 225.5, f"{png.name}: {w_mm:.0f} x {h_mm:.0f} mm"
