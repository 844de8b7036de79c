"""README gallery: downscaled copies of the main figures of a finished run.

    .venv/bin/python tools/gallery.py [--results results] [--out docs/gallery] [--width 800]

Reads the PNGs named in GALLERY from ``<results>/figures/`` (a run of the default config:
`make run`), writes each one ``--width`` pixels wide (aspect kept, Lanczos resampling, no
metadata) to ``--out``, and lists the source files with their sha256 in
``<out>/SOURCES.txt`` so the gallery says which run it shows. Figures only: aggregates,
never patient rows. Re-run it after a change to a figure and commit the result.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from PIL import Image

# the README's gallery, in the paper's order: (file under figures/, what it shows)
GALLERY = [
    ("figure1_flowchart.png", "Figure 1. Patient flow"),
    ("figure_model_os.png", "Figure 2 A-B. OS model: forest plot and nomogram"),
    ("figure_model_os_CF_roc_dca.png", "Figure 2 C-F. OS model: time-dependent ROC and decision curves"),
    ("figure4_km.png", "Figure 4. Kaplan-Meier curves by chemotherapy and by nomogram risk group"),
    ("suppl_calibration_os.png", "Supplementary Figure 1. Calibration of the OS model"),
]


def downscale(src: Path, dest: Path, width: int) -> tuple[int, int]:
    """Write ``src`` ``width`` pixels wide (never enlarged) to ``dest`` as a palette PNG."""
    with Image.open(src) as im:
        im = im.convert("RGB")
        if im.width > width:
            im = im.resize((width, round(im.height * width / im.width)), Image.Resampling.LANCZOS)
        # a 256-colour palette: figures are flat colours, and the README stays light
        im.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(dest, format="PNG", optimize=True)
        return im.size


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default="results", help="the run's output folder (default: results)")
    ap.add_argument("--out", default="docs/gallery", help="where the gallery goes (default: docs/gallery)")
    ap.add_argument("--width", type=int, default=800, help="width in pixels (default: 800)")
    args = ap.parse_args(argv)
    figures = Path(args.results) / "figures"
    missing = [name for name, _ in GALLERY if not (figures / name).is_file()]
    if missing:
        raise SystemExit(f"{figures}: missing {', '.join(missing)}; run `make run` first (the default config)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# each gallery image: its source under <results>/figures/, the sha256 of that PNG, what it shows"]
    for name, what in GALLERY:
        size = downscale(figures / name, out / name, args.width)
        digest = hashlib.sha256((figures / name).read_bytes()).hexdigest()
        lines.append(f"{name}  {digest}  {what}")
        print(f"{out / name}: {size[0]} x {size[1]} px  ({what})")
    (out / "SOURCES.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
