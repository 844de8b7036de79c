"""The run as a Workflow Run RO-Crate (Provenance Run Crate profile 0.5).

Other tools (WorkflowHub, runcrate, RO-Crate viewers and validators) read provenance in
this standard form; ``provenance.json`` is ours. The results folder is the crate: its
``ro-crate-metadata.json`` describes

* the workflow (the ``Snakefile``, a ``ComputationalWorkflow`` in the Snakemake language)
  with one ``HowToStep`` per rule, each carried out by a tool (``SoftwareApplication``)
  whose code is the rule's script or notebook and the package modules it ran;
* the run (a ``CreateAction`` with the workflow as instrument), the Snakemake engine run
  (an ``OrganizeAction``) and, per job, a ``ControlAction`` (the step) and a
  ``CreateAction`` (the tool, its input files as ``object`` and output files as
  ``result``), with the job's params as ``PropertyValue``\\ s;
* every file with its sha256. Code files are copied into ``provenance/code/`` exactly as
  they ran (from the job record, else the current file if it still hashes as recorded,
  else the recorded git commit), so the crate is self-contained.

Profiles: Soiland-Reyes et al. (2024), "Recording provenance of workflow runs with
RO-Crate", PLOS ONE 19(9): e0309210; https://w3id.org/ro/wfrun/provenance/0.5.
Deterministic: no wall-clock time is written, so the same run gives the same crate.
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path

from crlmflow.data.io import sha256_file, write_json
from crlmflow.pipeline.codestate import committed_text

__all__ = ["build_crate", "write_crate", "PROFILES"]

PROFILES = {
    "https://w3id.org/ro/wfrun/process/0.5": "Process Run Crate",
    "https://w3id.org/ro/wfrun/workflow/0.5": "Workflow Run Crate",
    "https://w3id.org/ro/wfrun/provenance/0.5": "Provenance Run Crate",
    "https://w3id.org/workflowhub/workflow-ro-crate/1.0": "Workflow RO-Crate",
}
CONTEXT = "https://w3id.org/ro/crate/1.1/context"
CODE_DIR = "provenance/code"


def _ref(i: str) -> dict:
    return {"@id": i}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text)


def _job_id(rec: dict) -> str:
    tag = "-".join(f"{k}={v}" for k, v in sorted(rec["wildcards"].items()))
    return f"#job-{_slug(rec['rule'] + ('-' + tag if tag else ''))}"


class _Files:
    """The crate's data entities: files of the results folder, and code copied into it."""

    def __init__(self, outdir: Path, project: Path):
        self.outdir, self.project = outdir.resolve(), project
        self.entities: dict[str, dict] = {}
        self.copies: dict[str, str] = {}

    def data(self, path: str, digest: str | None) -> str | None:
        p = Path(path) if Path(path).is_absolute() else self.project / path
        try:
            rel = p.resolve().relative_to(self.outdir).as_posix()
        except ValueError:
            return None  # outside the results folder: a code file (copied) or a user input (by hash)
        if rel not in self.entities and p.is_file():
            entity = {"@id": rel, "@type": "File", "name": p.name}
            if digest:
                entity["sha256"] = digest
            self.entities[rel] = entity
        return rel if rel in self.entities else None

    def external(self, path: str, digest: str | None) -> str:
        """A file read from outside the results folder (the user's export): named and hashed,
        not copied (it may hold patient rows)."""
        i = f"#input-{_slug(path)}"
        self.entities.setdefault(
            i, {"@id": i, "@type": "PropertyValue", "name": Path(path).name, "value": digest or "", "url": path}
        )
        return i

    def code(self, path: str, entry: dict, commit: str | None) -> str:
        """The code file as it ran, copied under provenance/code/."""
        rel = f"{CODE_DIR}/{path}"
        if rel in self.entities:
            return rel
        text = entry.get("text")
        current = self.project / path
        if text is None and current.is_file() and sha256_file(current) == entry.get("sha256"):
            text = current.read_text(encoding="utf-8", errors="replace")
        if text is None:
            text = committed_text(path, commit, self.project)
        entity = {"@id": rel, "@type": ["File", "SoftwareSourceCode"], "name": path, "sha256": entry.get("sha256")}
        if text is None:
            entity["description"] = "not recoverable: neither recorded nor in the commit"
        else:
            self.copies[rel] = text
        self.entities[rel] = entity
        return rel


def build_crate(outdir: str | Path, records: list[dict], *, project: str | Path = ".", name: str = "crlmflow run"):
    """The crate's metadata (a JSON-LD dict) and ``{path: text}`` of the code to copy."""
    outdir, project = Path(outdir), Path(project)
    files = _Files(outdir, project)
    graph: list[dict] = []
    steps, tools, controls = {}, {}, []
    snakefile = files.code("Snakefile", {"sha256": sha256_file(project / "Snakefile")}, None)
    commit = next((r["git"].get("commit") for r in records if r.get("git")), None)
    run_inputs, run_outputs = set(), set()
    for rec in sorted(records, key=lambda r: (r["rule"], json.dumps(r["wildcards"], sort_keys=True))):
        rule, job = rec["rule"], _job_id(rec)
        code_ids = []
        if rec.get("code"):
            code_ids.append(files.code(rec["code"]["path"], rec["code"], commit))
        code_ids += [files.code(f, e, commit) for f, e in sorted((rec.get("modules") or {}).items())]
        tool = f"#tool-{rule}"
        tools.setdefault(tool, {"@id": tool, "@type": "SoftwareApplication", "name": f"rule {rule}", "hasPart": {}})
        tools[tool]["hasPart"].update({c: _ref(c) for c in code_ids})
        steps.setdefault(rule, {"@id": f"#step-{rule}", "@type": "HowToStep", "name": rule, "workExample": _ref(tool)})
        objects, results = [], []
        for f, digest in sorted(rec["inputs"].items()):
            if f.endswith((".py", ".ipynb")) and (rid := files.data(f, digest)) is None:
                continue  # code: part of the tool
            rid = files.data(f, digest) or files.external(f, digest)
            objects.append(_ref(rid))
            if rid.startswith("#input-"):
                run_inputs.add(rid)
        for f, digest in sorted(rec["outputs"].items()):
            rid = files.data(f, digest)
            if rid:
                results.append(_ref(rid))
                run_outputs.add(rid)
        params = []
        for key, value in sorted(rec.get("params", {}).items()):
            pid = f"{job}-param-{_slug(key)}"
            graph.append(
                {
                    "@id": pid,
                    "@type": "PropertyValue",
                    "name": key,
                    "value": json.dumps(value, sort_keys=True, default=str),
                }
            )
            params.append(_ref(pid))
        graph.append(
            {
                "@id": job,
                "@type": "CreateAction",
                "name": f"{rule} {json.dumps(rec['wildcards'], sort_keys=True)}",
                "instrument": _ref(tool),
                "object": objects + params,
                "result": results,
                "actionStatus": "http://schema.org/CompletedActionStatus",
            }
        )
        control = f"#control-{job[1:]}"
        graph.append(
            {"@id": control, "@type": "ControlAction", "instrument": _ref(f"#step-{rule}"), "object": _ref(job)}
        )
        controls.append(_ref(control))
    for i, step in enumerate(steps.values()):
        step["position"] = str(i)
    version = _version("snakemake")
    root_parts = sorted(set(files.entities) - {k for k in files.entities if k.startswith("#")})
    graph = [
        {
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "about": _ref("./"),
            "conformsTo": [
                _ref("https://w3id.org/ro/crate/1.1"),
                _ref("https://w3id.org/workflowhub/workflow-ro-crate/1.0"),
            ],
        },
        {
            "@id": "./",
            "@type": "Dataset",
            "name": name,
            "description": "Results of the crlmflow workflow (Xue et al., BMC Cancer 2025 reproduction) with the "
            "provenance of every table and figure.",
            "license": "https://spdx.org/licenses/MIT",
            "datePublished": _commit_date(commit, project),
            "conformsTo": [_ref(p) for p in PROFILES],
            "mainEntity": _ref(snakefile),
            "hasPart": [_ref(p) for p in root_parts],
            "mentions": [_ref("#run")],
        },
        *({"@id": p, "@type": "CreativeWork", "name": n, "version": p.rsplit("/", 1)[-1]} for p, n in PROFILES.items()),
        {
            **files.entities.pop(snakefile),
            "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"],
            "name": "crlmflow Snakefile",
            "programmingLanguage": _ref("#snakemake-language"),
            "step": [_ref(s["@id"]) for s in steps.values()],
            "hasPart": [_ref(t) for t in tools],
            "input": [],
            "output": [],
        },
        {
            "@id": "#snakemake-language",
            "@type": "ComputerLanguage",
            "name": "Snakemake",
            "url": _ref("https://snakemake.readthedocs.io"),
            "version": version,
        },
        {"@id": "#snakemake", "@type": "SoftwareApplication", "name": "Snakemake", "softwareVersion": version},
        {
            "@id": "#engine-run",
            "@type": "OrganizeAction",
            "name": "Snakemake run of crlmflow",
            "instrument": _ref("#snakemake"),
            "object": controls,
            "result": _ref("#run"),
        },
        {
            "@id": "#run",
            "@type": "CreateAction",
            "name": name,
            "instrument": _ref(snakefile),
            "object": [_ref(i) for i in sorted(run_inputs)],
            "result": [_ref(o) for o in sorted(run_outputs)],
            "actionStatus": "http://schema.org/CompletedActionStatus",
        },
        *steps.values(),
        *({**t, "hasPart": list(t["hasPart"].values())} for t in tools.values()),
        *graph,
        *files.entities.values(),
    ]
    return {"@context": CONTEXT, "@graph": graph}, files.copies


def _commit_date(commit: str | None, project: Path) -> str:
    """ISO date of the code's commit: a date that the same run always gives."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "show", "-s", "--format=%cs", commit or "HEAD"], cwd=project, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        out = ""
    return out or "1970-01-01"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def write_crate(outdir: str | Path, records: list[dict], *, project: str | Path = ".") -> Path:
    """Write ``<outdir>/ro-crate-metadata.json`` and the code it names; returns its path."""
    crate, copies = build_crate(outdir, records, project=project)
    for rel, text in copies.items():
        dest = Path(outdir, rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
    path = Path(outdir, "ro-crate-metadata.json")
    write_json(crate, path)
    return path
