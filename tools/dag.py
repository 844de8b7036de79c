"""`make dag`: the workflow's rule graph, rendered without Graphviz.

Writes ``<dir>/rulegraph.mmd`` (Mermaid, from ``snakemake --rulegraph mermaid-js``),
``<dir>/rulegraph.md`` (the same in a fenced block: GitHub, GitLab and most Markdown
viewers draw it) and, when Graphviz's ``dot`` is installed, ``<dir>/rulegraph.svg``.
Extra arguments go to Snakemake (e.g. ``--configfile my.yaml``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path("results/dag")
    extra = argv[1:]
    smk = str(Path(sys.executable).with_name("snakemake"))
    mermaid = subprocess.run(
        [smk, "--quiet", "all", "--rulegraph", "mermaid-js", *extra], capture_output=True, text=True
    )
    if mermaid.returncode != 0:
        sys.stderr.write(mermaid.stderr)
        return mermaid.returncode
    text = mermaid.stdout[mermaid.stdout.find("flowchart") :] if "flowchart" in mermaid.stdout else mermaid.stdout
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rulegraph.mmd").write_text(text, encoding="utf-8")
    (folder / "rulegraph.md").write_text(f"# Rule graph\n\n```mermaid\n{text.strip()}\n```\n", encoding="utf-8")
    written = ["rulegraph.mmd", "rulegraph.md"]
    if shutil.which("dot"):
        dot = subprocess.run([smk, "--quiet", "all", "--rulegraph", "dot", *extra], capture_output=True, text=True)
        graph = dot.stdout[dot.stdout.find("digraph") :]
        svg = subprocess.run(["dot", "-Tsvg"], input=graph, capture_output=True, text=True)
        if svg.returncode == 0:
            (folder / "rulegraph.svg").write_text(svg.stdout, encoding="utf-8")
            written.append("rulegraph.svg")
    print(f"rule graph: {', '.join(str(folder / w) for w in written)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
