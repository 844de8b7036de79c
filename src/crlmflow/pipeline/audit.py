"""Is this table or figure still current, and if not, why: ``python -m crlmflow audit``.

The audit walks the lineage of an output (its producing job and every upstream job, from
the job records) and checks each kind of cause Snakemake itself reruns a job for:

* **output / input** — a file no longer hashes as recorded (hand-edited, regenerated
  elsewhere, or the raw export was replaced);
* **code** — the job's script or notebook, or one of the package modules the job
  imported, no longer hashes as recorded; the changed lines are shown, the old text taken
  from the record (for code that was not committed) or from the recorded git commit;
* **config** — with ``--configfile``, the current study config differs from the one the
  job saw, and Snakemake (``--list-changes params``) finds that the job's params changed:
  the key is named with its old and new value;
* **failed input** — a later run rejected the cohort's input (data-stage marker).

``--why`` prints, for each cause, the path through the DAG from the changed thing to the
output. The manifest is ``provenance.json`` when the default target wrote one; otherwise
(the simulation study, any separate target) it is built from the job records of the
results folder, so every output a job recorded can be audited.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from crlmflow.data.io import sha256_file
from crlmflow.data.stale import failed_markers
from crlmflow.pipeline.codestate import committed_text
from crlmflow.pipeline.config import study_config
from crlmflow.pipeline.provenance import build_manifest, load_records

__all__ = ["Cause", "audit", "find_results", "stale_causes", "changed_keys"]


@dataclass
class Cause:
    """One reason an output is not current."""

    kind: str  # output | input | code | module | config | failed-input
    what: str  # file, or config key
    step: int  # index of the lineage step it hits (0 = the output's own job)
    detail: str = ""
    lines: list[str] = field(default_factory=list)


def find_results(path: str | Path) -> Path | None:
    """The results folder holding ``path``: the nearest parent with job records or a manifest."""
    p = Path(path).resolve()
    for parent in [p.parent, *p.parents]:
        if (parent / "provenance" / "jobs").is_dir() or (parent / "provenance.json").is_file():
            return parent
    return None


def _load(path: Path, manifest_path: Path | None) -> tuple[dict, Path] | None:
    if manifest_path is not None:
        return json.loads(manifest_path.read_text(encoding="utf-8")), manifest_path.parent
    root = find_results(path)
    if root is None:
        return None
    saved = root / "provenance.json"
    manifest = json.loads(saved.read_text(encoding="utf-8")) if saved.is_file() else {}
    if (root / "provenance" / "jobs").is_dir():
        # the job records cover every target (the simulation study too), not only the
        # default target that the provenance rule gathers
        built = build_manifest(manifest.get("outdir", str(root)), load_records(root))
        built["configfiles"] = manifest.get("configfiles", [])
        manifest = built
    return manifest, root


def _locate(f: str, root: Path) -> Path:
    """A recorded path (relative to the run directory) as it exists now."""
    cand = Path(f)
    if cand.exists():
        return cand
    return root.parent / f


def _flat(obj, prefix="") -> dict:
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: obj}


def changed_keys(old: dict, new: dict) -> list[tuple[str, object, object]]:
    """``(key.path, old, new)`` of every config leaf that differs (absent = None)."""
    a, b = _flat(old), _flat(new)
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def current_config(configfiles: list[str]) -> dict:
    """The study config the workflow would run with now (schema defaults filled), read as
    the Snakefile reads it: ``extends:`` followed and ``null`` removing keys
    (:func:`crlmflow.pipeline.config.resolve_config`)."""
    from crlmflow.pipeline.config import resolve_config, validate_config

    config: dict = {}
    resolve_config(config, list(configfiles))
    return study_config(validate_config(config))


def params_changed(files: list[str], configfiles: list[str], workdir: str | Path = ".") -> set[str] | None:
    """The output files among ``files``' DAG whose params Snakemake finds changed with the
    current config (``snakemake -n --list-changes params``); None if Snakemake cannot say."""
    exe = Path(sys.executable).with_name("snakemake")
    # targets first: --configfile takes every value that follows it
    cmd = [str(exe if exe.exists() else "snakemake"), *files, "-n", "--nolock", "--list-changes", "params"]
    cmd += ["--configfile", *configfiles]
    try:
        res = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if res.returncode != 0:
        return None
    return {ln.strip() for ln in res.stdout.splitlines() if ln.strip()}


def _code_lines(text: str, path: str) -> list[str]:
    """Lines to diff: a notebook's code cells (headed by their number), else the text."""
    if path.endswith(".ipynb"):
        try:
            nb = json.loads(text)
        except json.JSONDecodeError:
            return text.splitlines()
        out = []
        for i, c in enumerate(nb.get("cells", [])):
            src = c.get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            out += [f"# [{c.get('cell_type', 'cell')} {i}]", *src.splitlines()]
        return out
    return text.splitlines()


def _diff(path: str, entry: dict, commit: str | None, root: Path) -> list[str]:
    """Changed lines of a code file since the job ran (unified diff, no context)."""
    old = entry.get("text") or committed_text(path, commit)
    if old is None:
        return ["(the recorded text is not recoverable: not in the record nor in the commit)"]
    now = _locate(path, root)
    new = now.read_text(encoding="utf-8", errors="replace") if now.exists() else ""
    diff = difflib.unified_diff(
        _code_lines(old, path), _code_lines(new, path), f"{path} (as run)", f"{path} (now)", n=0, lineterm=""
    )
    return list(diff)[:40]


def stale_causes(entry: dict, target: str, root: Path, configfiles: list[str] | None = None) -> list[Cause]:
    """Every reason the output ``target`` (its manifest ``entry``) is not current, beyond
    its own bytes; empty when it is current."""
    causes: list[Cause] = []
    commit = (entry.get("git") or {}).get("commit")
    for i, step in enumerate(entry["lineage"]):
        code = step.get("code")
        code_files = {code["path"]: code} if code else {}
        # the code the rule declares as inputs (what Snakemake reruns for) and the modules
        # the job imported (what actually ran) are both checked
        declared = {
            f: {"sha256": d}
            for f, d in step["inputs"].items()
            if f.endswith((".py", ".ipynb")) and d is not None and f not in code_files
        }
        for f, e in {**declared, **(step.get("modules") or {}), **code_files}.items():
            now = _locate(f, root)
            if not now.exists():
                causes.append(Cause("code", f, i, "missing"))
            elif sha256_file(now) != e["sha256"]:
                causes.append(Cause("code", f, i, "changed", _diff(f, e, commit, root)))
        for f, digest in sorted(step["inputs"].items()):
            if f.endswith((".py", ".ipynb")) or digest is None:
                continue
            now = _locate(f, root)
            if not now.exists():
                causes.append(Cause("input", f, i, "missing"))
            elif sha256_file(now) != digest:
                causes.append(Cause("input", f, i, f"changed (recorded {digest[:12]}, now {sha256_file(now)[:12]})"))
    if configfiles:
        causes += _config_causes(entry, target, configfiles)
    for m in failed_markers(root):  # a later run rejected its input: these results are not of it
        causes.append(
            Cause(
                "failed-input",
                str(m.get("input")),
                len(entry["lineage"]) - 1,
                f"STALE the data stage failed on {m.get('input')} (cohort {m.get('cohort')}, "
                f"{m.get('error')}) after these results were made; they are not results of that input",
            )
        )
    return causes


def _config_causes(entry: dict, target: str, configfiles: list[str]) -> list[Cause]:
    missing = [f for f in configfiles if not Path(f).is_file()]
    if missing:
        return [Cause("config", ", ".join(missing), 0, "config file(s) not found: the params could not be compared")]
    now = current_config(configfiles)
    steps = entry["lineage"]
    diffs = {i: changed_keys(s.get("config") or {}, now) for i, s in enumerate(steps)}
    if not any(diffs.values()):
        return []
    # a key the job does not use changes nothing: ask Snakemake whose params it changes
    changed = params_changed([target], configfiles)
    note = "" if changed is not None else " (Snakemake could not say whether the job uses it)"
    # one cause per key, at the most upstream job whose params it changes
    hits: dict[tuple, list[int]] = {}
    for i, keys in diffs.items():
        if keys and (changed is None or any(o in changed for o in steps[i]["outputs"])):
            for key, old, new in keys:
                hits.setdefault((key, json.dumps(old, default=str), json.dumps(new, default=str)), []).append(i)
    causes = []
    for (key, old, new), at in hits.items():
        rules = ", ".join(dict.fromkeys(steps[i]["rule"] for i in sorted(at, reverse=True)))
        causes.append(Cause("config", key, max(at), f"{old} -> {new}{note}; params changed in rule(s) {rules}"))
    return causes


def _path_to_output(lineage: list[dict], step: int) -> list[str]:
    """Rules and files from lineage step ``step`` down to the output (step 0)."""
    made_by = {o: j for j, s in enumerate(lineage) for o in s["outputs"]}
    parent: dict[int, tuple[int, str]] = {}
    queue, seen = [0], {0}
    while queue:
        j = queue.pop(0)
        for f in lineage[j]["inputs"]:
            k = made_by.get(f)
            if k is not None and k not in seen:
                seen.add(k)
                parent[k] = (j, f)
                queue.append(k)
    chain, j = [], step
    while j in parent:
        nxt, via = parent[j]
        chain.append(f"rule {lineage[j]['rule']} {lineage[j]['wildcards'] or ''}-> {via}")
        j = nxt
    chain.append(f"rule {lineage[0]['rule']} {lineage[0]['wildcards'] or ''}-> the output")
    return chain


def _match(manifest: dict, path: Path) -> str | None:
    """The entry of ``path``: the same file, else (a moved or copied results folder) the
    one entry with the same name in a folder of the same name."""
    entries = manifest.get("entries", {})
    exact = [k for k in entries if Path(k).resolve() == path.resolve()]
    if exact:
        return exact[0]
    tail = path.resolve().parts[-2:]
    similar = [k for k in entries if Path(k).parts[-2:] == tail]
    return similar[0] if len(similar) == 1 else None


def audit(
    path: str | Path,
    manifest_path: str | Path | None = None,
    out=print,
    *,
    configfiles: list[str] | None = None,
    why: bool = False,
) -> int:
    """Print the lineage of ``path`` and every reason it is not current; 0 = current,
    1 = stale or changed, 2 = no lineage found."""
    from crlmflow.pipeline.provenance import embedded_metadata

    path = Path(path)
    loaded = _load(path, Path(manifest_path) if manifest_path else None)
    if loaded is None:
        out(
            f"{path}: no provenance.json or job records found above it; embedded lineage: "
            f"{embedded_metadata(path) or 'none'}"
        )
        return 2
    manifest, root = loaded
    key = _match(manifest, path)
    if key is None:
        out(f"{path}: no job of the run under {root} recorded it")
        return 2
    entry = manifest["entries"][key]
    if configfiles is None:
        # the run's own config files, where they still exist (a moved or copied run may
        # have left them behind: then params are not compared, and the audit says so)
        configfiles = [f for f in manifest.get("configfiles") or [] if Path(f).is_file()]
        if len(configfiles) < len(manifest.get("configfiles") or []):
            configfiles = []
    causes = stale_causes(entry, key, root, configfiles)
    actual = sha256_file(path) if path.exists() else None
    if actual != entry["sha256"]:
        causes.insert(0, Cause("output", key, 0, "missing" if actual is None else "changed since the job wrote it"))
    git = entry["git"]
    out(f"{key}: {entry['kind']} made by rule '{entry['rule']}' {entry['wildcards'] or ''}")
    out(f"  commit {git['commit']} (dirty tree: {git['dirty']}), seed {entry['seed']}")
    bad = {(c.step, c.what) for c in causes}
    for i, step in enumerate(entry["lineage"]):
        code = step["code"]
        status = "CHANGED" if code and (i, code["path"]) in bad else "ok" if code else "-"
        kept = " (text kept in the record)" if code and code.get("text") else ""
        out(
            f"  <- rule {step['rule']} {step['wildcards'] or ''}  code {code['path'] if code else '-'} [{status}]{kept}"
        )
        for f in sorted(step["inputs"]):
            if not f.endswith((".py", ".ipynb")):
                out(f"       input {f} [{'CHANGED' if (i, f) in bad else 'ok'}]")
    if not configfiles:
        out("  (config not compared: pass --configfile to compare the recorded params with a config)")
    if not causes:
        out("AUDIT OK: the file, its code, its params and every input along its lineage are as recorded.")
        return 0
    out("AUDIT FAILED:")
    for c in causes:
        where = entry["lineage"][c.step]
        label = {"failed-input": ""}.get(c.kind, f"{c.kind.upper():8s} ")
        out(f"  {label}{c.what}: {c.detail}" if label else f"  {c.detail}")
        if c.kind != "output" or c.step:
            out(f"           hits rule {where['rule']} {where['wildcards'] or ''}")
        if why:
            for ln in c.lines:
                out(f"           | {ln}")
            for hop in _path_to_output(entry["lineage"], c.step):
                out(f"           => {hop}")
    return 1
