"""Command line of crlmflow: ``score`` new patients with a model file alone, ``template``
writes the input CSV a model needs, ``audit`` checks a table's or figure's lineage."""

from __future__ import annotations

import argparse
import sys
import warnings


def _score(args) -> int:
    from crlmflow.data.errors import InputError
    from crlmflow.model.modelfile import load_model, score_file

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            scored = score_file(args.model, args.input, args.output)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    print(f"scored {len(scored)} patients -> {args.output}", file=sys.stderr)
    conf = load_model(args.model).get("survival_conf")
    if conf and any(c.startswith("surv_lower_") for c in scored.columns):  # say which limits these are
        print(
            f"surv_lower_/surv_upper_: {conf['level']:.0%} confidence limits of R survfit(coxph, newdata) "
            f'with conf.type = "{conf["type"]}"',
            file=sys.stderr,
        )
    return 0


def _template(args) -> int:
    from crlmflow.data.io import atomic_write_csv
    from crlmflow.model.modelfile import input_template, load_model

    atomic_write_csv(input_template(load_model(args.model)), args.output)
    print(f"input template -> {args.output}", file=sys.stderr)
    return 0


def _audit(args) -> int:
    from crlmflow.pipeline.audit import audit, find_results
    from crlmflow.report.results_text import audit_results_text, is_results_text

    if is_results_text(args.file):
        # the text's numbers against their sources; its lineage too when a manifest exists
        rc = audit_results_text(args.file)
        if args.manifest or find_results(args.file):
            rc = max(rc, audit(args.file, args.manifest, configfiles=args.configfile, why=args.why))
        return rc
    return audit(args.file, args.manifest, configfiles=args.configfile, why=args.why)


def _new_exhibit(args) -> int:
    from crlmflow.pipeline.scaffold import new_exhibit

    try:
        files = new_exhibit(args.name, args.kind, args.root)
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for f in files:
        print(f"wrote {f}")
    print("run: snakemake --cores 2  (the new outputs join the default target, provenance and the report)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crlmflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sc = sub.add_parser("score", help="score new patients with a model.json alone")
    sc.add_argument("--model", required=True, help="results/models/<endpoint>/model.json")
    sc.add_argument("--input", required=True, help="CSV or .xlsx, one row per patient, the model's predictor columns")
    sc.add_argument(
        "--output",
        required=True,
        help="CSV to write: points and total points (0.1), lp and survival (1e-4), risk group",
    )
    sc.set_defaults(func=_score)
    te = sub.add_parser("template", help="write the input CSV a model needs (its columns and an example row)")
    te.add_argument("--model", required=True, help="results/models/<endpoint>/model.json")
    te.add_argument("--output", required=True, help="CSV to write")
    te.set_defaults(func=_template)
    au = sub.add_parser(
        "audit",
        help="print a table's or figure's lineage and verify every recorded hash; for the results "
        "text, also re-read every number's source and name each stale sentence",
    )
    au.add_argument("file", help="a table or figure under the results folder (or a copy of a figure)")
    au.add_argument("--manifest", help="provenance.json (default: found by walking up from the file)")
    au.add_argument(
        "--configfile",
        action="append",
        help="compare the recorded params with this config (repeatable, as for snakemake; "
        "default: the config files the run recorded)",
    )
    au.add_argument(
        "--why", action="store_true", help="for each cause: the changed lines and the path from it to the file"
    )
    au.set_defaults(func=_audit)
    ne = sub.add_parser("new-exhibit", help="create a new table or figure: rule, notebook, caption, include line")
    ne.add_argument("name", help="lower-case name, e.g. site_table")
    ne.add_argument("--kind", choices=["table", "figure"], default="table")
    ne.add_argument("--root", default=".", help="the workflow folder (default: here)")
    ne.set_defaults(func=_new_exhibit)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
