"""`make outdated`: what Snakemake would rerun, and why, one line per job.

Runs ``snakemake -n`` (extra arguments are passed on, e.g. ``--configfile my.yaml``) and
prints each planned job with its wildcards and Snakemake's reason. For the exact cause
behind one table or figure (config key with old and new value, changed code lines, the
path through the DAG), use ``python -m crlmflow audit --why FILE``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def planned_jobs(text: str) -> list[dict]:
    """Jobs of a ``snakemake -n`` printout: rule, wildcards, outputs and reason."""
    jobs: list[dict] = []
    for line in text.splitlines():
        s = line.strip()
        m = re.match(r"^(?:local)?rule (\w+):$", s)
        if m:
            jobs.append({"rule": m.group(1), "wildcards": "", "output": "", "reason": ""})
        elif jobs and ":" in s:
            key, _, value = s.partition(":")
            if key in ("wildcards", "output", "reason"):
                jobs[-1][key] = value.strip()
    return jobs


def main(argv: list[str]) -> int:
    smk = str(Path(sys.executable).with_name("snakemake"))
    res = subprocess.run([smk, "-n", "--nolock", *argv], capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stderr[-3000:])
        return res.returncode
    jobs = [j for j in planned_jobs(res.stdout + res.stderr) if j["rule"] != "all"]
    if not jobs:
        print("up to date: nothing would rerun")
        return 0
    print(f"{len(jobs)} job(s) would rerun:")
    for j in jobs:
        wc = f" [{j['wildcards']}]" if j["wildcards"] else ""
        print(f"  {j['rule']}{wc}: {j['reason']}")
    print("for the cause behind one output: python -m crlmflow audit --why FILE")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
