"""Provenance: every job records its lineage; a manifest and an audit command read it back.

Each job run through :func:`crlmflow.pipeline.snakeio.logged` writes a record
``<outdir>/provenance/jobs/<rule>[-<wildcards>].json`` on success: the rule, its wildcards,
the script or notebook with its sha256, the config values it used (params) and the seed,
every input and output file with its sha256, the git commit and whether the tree was
dirty, and the versions of the packages that matter. The ``provenance`` rule gathers the
records into ``<outdir>/provenance.json``, with an entry for every table and figure that
chains its inputs back through the DAG to the raw cohort file.

Each step of a chain carries the job's params, the code it ran (script or notebook and
package modules, with hashes) and the study config it saw, so the upstream parameters of
an exhibit are in the manifest itself. ``python -m crlmflow audit FILE`` (see
:mod:`crlmflow.pipeline.audit`) reads it back and names whatever changed since.
No wall-clock time is recorded, so records and manifest are deterministic.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path

from crlmflow.data.io import sha256_file, to_plain, write_json

PACKAGES = [
    "crlmflow",
    "numpy",
    "scipy",
    "pandas",
    "lifelines",
    "scikit-survival",
    "scikit-learn",
    "matplotlib",
    "snakemake",
    "papermill",
]

TABLE_SUFFIXES = {".csv", ".md", ".html"}
FIGURE_SUFFIXES = {".pdf", ".png"}


def git_state(root: str | Path = ".") -> dict:
    """The commit of the working tree and whether tracked files differ from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def package_versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def job_record_path(outdir: str | Path, rule: str, wildcards: dict) -> Path:
    tag = "-".join(f"{k}={v}" for k, v in sorted(wildcards.items()))
    return Path(outdir) / "provenance" / "jobs" / (f"{rule}-{tag}.json" if tag else f"{rule}.json")


def _files(named) -> list[str]:
    out = []
    for f in named:
        if isinstance(f, (list, tuple)):
            out += [str(x) for x in f]
        else:
            out.append(str(f))
    return out


def _executed_notebook(path: str, outdir) -> bool:
    """An executed notebook of this run: it holds execution timestamps, so it is not hashed."""
    return path.endswith(".ipynb") and Path(path).resolve().is_relative_to(Path(outdir).resolve())


def _code_of(smk, outdir) -> str | None:
    """The rule's notebook or script: its ``notebook``/``script`` input, else the first
    .py/.ipynb input that is not an output of this run."""
    for name in ("notebook", "script"):
        if hasattr(smk.input, name):
            return str(getattr(smk.input, name))
    return next(
        (f for f in _files(smk.input) if f.endswith((".py", ".ipynb")) and not _executed_notebook(f, outdir)), None
    )


def record_job(smk, outdir: str | Path, code: str | Path | None = None) -> Path:
    """Write the lineage record of a finished Snakemake job (called by ``logged``).

    Besides inputs and outputs, the record holds every code file the job ran — its script
    or notebook (``code``) and the package modules it imported (``modules``) — each with
    its sha256 and git state (text kept when not clean in git), and the study config the
    job saw, so that :mod:`crlmflow.pipeline.audit` can tell which of them changed since.
    """
    from crlmflow.pipeline.codestate import CLEAN, OUTSIDE, code_snapshot, ran_modules
    from crlmflow.pipeline.config import study_config

    inputs = sorted(set(_files(smk.input)))
    outputs = sorted(set(_files(smk.output)))
    # str: a param of any other type (a function, a custom object) is recorded by its text
    params = {k: to_plain(v, default=str) for k, v in smk.params.items()} if hasattr(smk.params, "items") else {}
    code = code or _code_of(smk, outdir)
    code_files = code_snapshot([str(code)]) if code and Path(code).exists() else {}
    modules = code_snapshot(ran_modules())
    git = git_state()
    if git["dirty"] is not None:
        # untracked or modified code of this job is not in the commit: the tree is dirty
        git["dirty"] = git["dirty"] or any(
            e["git"] not in (CLEAN, OUTSIDE) for e in [*code_files.values(), *modules.values()]
        )
    record = {
        "rule": smk.rule,
        "wildcards": {k: str(v) for k, v in smk.wildcards.items()},
        "code": {"path": str(code), **code_files[str(code)]} if code_files else None,
        "modules": modules,
        "params": params,
        "seed": smk.config.get("seed"),
        "config": to_plain(study_config(dict(smk.config)), default=str),
        "inputs": {f: (None if _executed_notebook(f, outdir) else sha256_file(f)) for f in inputs if Path(f).is_file()},
        "outputs": {
            f: (None if _executed_notebook(f, outdir) else sha256_file(f)) for f in outputs if Path(f).is_file()
        },
        "log": [str(x) for x in smk.log],
        "git": git,
        "packages": package_versions(),
    }
    path = job_record_path(outdir, smk.rule, record["wildcards"])
    write_json(record, path)
    return path


def data_source(config: dict) -> str:
    """``synthetic`` when any analysed cohort is simulated, else ``file``."""
    sources = [config.get("data", {}).get("source", "synthetic")]
    if config.get("split", {}).get("method") == "external":
        sources.append(config.get("external", {}).get("source", "synthetic"))
    return "synthetic" if "synthetic" in sources else "file"


def figure_lineage(smk, code: str | Path | None = None) -> dict:
    """Key lineage fields to embed in a figure's own metadata (PNG text, PDF info)."""
    from crlmflow.pipeline.config import study_hash

    inputs = [f for f in sorted(set(_files(smk.input))) if not f.endswith((".py", ".ipynb"))]
    data = hashlib.sha256("".join(sha256_file(f) for f in inputs if Path(f).is_file()).encode()).hexdigest()
    code = code or _code_of(smk, smk.config.get("outdir", "results"))
    return {
        "crlmflow:data_source": data_source(smk.config),
        "crlmflow:rule": smk.rule,
        "crlmflow:code": str(code),
        "crlmflow:code_sha256": sha256_file(code) if code else "",
        "crlmflow:commit": git_state().get("commit") or "",
        "crlmflow:config_sha256": study_hash(dict(smk.config)),
        "crlmflow:inputs_sha256": data,
    }


def load_records(outdir: str | Path) -> list[dict]:
    folder = Path(outdir) / "provenance" / "jobs"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def records_behind(records: list[dict], targets) -> list[dict]:
    """The records of the jobs that made ``targets`` and every job upstream of them.

    The jobs folder can hold records that are not of this run: a job of an earlier run
    whose rule has since left the DAG, or the provenance job's own record from a previous
    run in the same folder. Keeping only what the targets' lineage reaches makes the
    manifest and the crate a function of this run alone, whatever the folder held before.
    """
    producer = {f: i for i, rec in enumerate(records) for f in rec["outputs"]}
    keep, queue = set(), [str(t) for t in targets]
    while queue:
        i = producer.get(queue.pop())
        if i is None or i in keep:
            continue
        keep.add(i)
        queue += [f for f in records[i]["inputs"] if not f.endswith((".py", ".ipynb"))]
    return [rec for i, rec in enumerate(records) if i in keep]


def build_manifest(outdir: str | Path, records: list[dict]) -> dict:
    """One entry per table and figure, each with its full input chain."""
    producer = {}
    for rec in records:
        for f in rec["outputs"]:
            producer[f] = rec
    entries = {}
    for f, rec in sorted(producer.items()):
        suffix = Path(f).suffix
        kind = "figure" if suffix in FIGURE_SUFFIXES else "table" if suffix in TABLE_SUFFIXES else None
        if kind is None or "/notebooks/" in f:
            continue
        entries[f] = {
            "kind": kind,
            "sha256": rec["outputs"][f],
            "rule": rec["rule"],
            "wildcards": rec["wildcards"],
            "code": rec["code"],
            "modules": rec.get("modules", {}),
            "params": rec["params"],
            "seed": rec["seed"],
            "git": rec["git"],
            "packages": rec["packages"],
            "executed_notebook": next((o for o in rec["outputs"] if o.endswith(".ipynb")), None),
            "lineage": _chain(f, producer),
        }
    return {"outdir": str(outdir), "entries": entries}


def _chain(target: str, producer: dict) -> list[dict]:
    """Every upstream job of ``target``, nearest first, each with its inputs' hashes."""
    seen, order, queue = set(), [], [target]
    while queue:
        f = queue.pop(0)
        rec = producer.get(f)
        if rec is None:
            continue
        key = (rec["rule"], json.dumps(rec["wildcards"], sort_keys=True))
        if key in seen:
            continue
        seen.add(key)
        order.append(
            {
                "rule": rec["rule"],
                "wildcards": rec["wildcards"],
                "code": rec["code"],
                "modules": rec.get("modules", {}),
                "params": rec["params"],
                "config": rec.get("config"),
                "inputs": rec["inputs"],
                "outputs": rec["outputs"],
            }
        )
        queue += [i for i in rec["inputs"] if not i.endswith((".py", ".ipynb"))]
    return order


def embedded_metadata(path: str | Path) -> dict:
    """Lineage fields embedded in a PNG (text chunks) or PDF (info dictionary)."""
    path = Path(path)
    if path.suffix == ".png":
        from PIL import Image

        with Image.open(path) as im:
            return {k: v for k, v in im.text.items() if k.startswith("crlmflow:")}
    if path.suffix == ".pdf":
        import re

        raw = path.read_bytes()
        return {
            m.group(1).decode(): m.group(2).decode("latin-1")
            for m in re.finditer(rb"/(crlmflow:[A-Za-z0-9_]+) \((.*?)\)", raw)
        }
    return {}
