"""The ``deid`` console command: the pipeline's jobs on an embedded local Spark, SQL, keys, crosswalk.

Configuration, overrides, zones and exit codes go through :mod:`deid.entry`, as for the jobs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from deid import __version__
from deid.entry import EXIT_FAILED_RUN, Entry, prepare, run, zone_args
from deid.errors import DeidError


def _entry(args: argparse.Namespace, *, need_input: bool = False) -> Entry:
    """``deid``'s commands put PHI zones that are given nowhere beside the output."""
    return prepare(args, need_input=need_input, phi_beside_output=True)


def _progress(stage: str, done: int, total: int) -> None:
    print(f"[{stage}] {done}/{total} files", file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    from deid.header.profile import load_profile
    from deid.pipeline.runner import PipelineRun

    entry = _entry(args, need_input=True)
    keyring = entry.keyring  # fail fast: before Spark starts
    profile = load_profile(entry.cfg.profile)
    zs = entry.zones
    run = PipelineRun(entry.spark, entry.cfg, zs, keyring=keyring, profile=profile, progress=_progress)
    print(f"run {run.run_id}: profile {profile.name}, key {keyring.version}", file=sys.stderr)
    summary = run.run(do_ingest=True, do_deidentify=True)
    ing, de = summary.ingest, summary.deid
    if ing:
        print(f"ingest: {ing.n_listed} files, {ing.n_ingested} new, {ing.n_quarantined} quarantined, "
              f"{ing.n_skipped} already known")
    if de:
        print(f"de-identify: {de.n_inputs} inputs, {de.n_deidentified} de-identified, "
              f"{de.n_quarantined} quarantined, released={'yes' if de.released else 'no'}")
    for m in summary.messages:
        print(m)
    if de:
        from deid.report import build_report

        print(f"report: {build_report(run.tables, zs, run.run_id, keyring=keyring)}")
    print(f"status: {summary.status}")
    return 0 if summary.ok else EXIT_FAILED_RUN


def cmd_report(args: argparse.Namespace) -> int:
    from deid.errors import KeyMaterialError
    from deid.report import build_report

    entry = _entry(args)
    zs = entry.zones
    keyring = None
    if args.before_after:
        try:
            keyring = entry.keyring
        except KeyMaterialError:
            raise DeidError("--before-after needs the key (it finds the inputs by their keyed digest)") from None
    print(build_report(entry.tables, zs, args.run_id, keyring=keyring))
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from deid.tables import CROSSWALK, METADATA, RUNS

    entry = _entry(args)
    zs = entry.zones
    spark, tables = entry.spark, entry.tables
    views = [("metadata", zs.metadata, METADATA), ("runs", zs.runs, RUNS)]
    if args.include_crosswalk:
        views.append(("crosswalk", zs.crosswalk_table, CROSSWALK))
    for name, loc, spec in views:
        tables.read(loc, spec).createOrReplaceTempView(name)
    redactions = tables.read_any(zs.redactions)
    if redactions is not None:
        redactions.createOrReplaceTempView("redactions")
    from pyspark.errors import AnalysisException, ParseException

    try:
        df = spark.sql(args.query)
    except (AnalysisException, ParseException) as exc:
        cls = exc.getCondition() if hasattr(exc, "getCondition") else exc.__class__.__name__
        raise DeidError(f"the query failed ({cls}); views: {', '.join(v[0] for v in views)}") from None
    df.show(n=args.limit, truncate=args.truncate)
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from deid.keys import new_master_key

    print(new_master_key())
    return 0


def cmd_crosswalk(args: argparse.Namespace) -> int:
    from deid.pipeline.export import export_crosswalk, lookup

    entry = _entry(args)
    keyring = entry.keyring
    zs = entry.zones
    if args.action == "export":
        if not args.dest:
            raise DeidError("crosswalk export needs --dest DIR (outside the de-identified output)")
        for name, n in export_crosswalk(entry.tables, zs, keyring, args.dest).items():
            print(f"{name}: {n} rows")
        return 0
    if not args.pseudonym:
        raise DeidError("crosswalk lookup needs a pseudonym")
    found = lookup(entry.tables, zs, keyring, args.pseudonym)
    for kind, original in found:
        print(f"{kind}\t{original}")
    return 0 if found else EXIT_FAILED_RUN


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deid", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"deid {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="ingest + de-identify an export on local Spark")
    zone_args(p, need_input=True, phi_beside_output=True)
    p.add_argument("--profile", help="profile name or YAML path (default from config)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("sql", help="Spark SQL over the de-identified tables (metadata, runs)")
    zone_args(p, phi_beside_output=True)
    p.add_argument("--include-crosswalk", action="store_true",
                   help="also register the crosswalk table as view 'crosswalk' (PHI zone)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--truncate", type=int, default=60)
    p.add_argument("query")
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser("report", help="write the run report (OUTPUT/reports/RUN_ID/index.html)")
    p.add_argument("run_id")
    zone_args(p, phi_beside_output=True)
    p.add_argument("--before-after", action="store_true",
                   help="also write before/after pairs into the PHI zone (RAW/reports/RUN_ID; needs the key)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("keygen", help="print a new master key (64 hex digits)")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("crosswalk", help="export the crosswalk (needs the key) or look one value up")
    p.add_argument("action", choices=["export", "lookup"])
    p.add_argument("pseudonym", nargs="?")
    zone_args(p, phi_beside_output=True)
    p.add_argument("--dest", help="export folder for the CSVs (PHI: keep outside OUTPUT)")
    p.set_defaults(func=cmd_crosswalk)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run("deid", lambda: args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
