"""The ``deid`` console command: the pipeline's jobs on an embedded local Spark, SQL, keys, crosswalk.

Only :func:`main` turns a :class:`deid.errors.DeidError` into an exit code and a one-line message
(PHI-free by construction of the error tree).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from deid import __version__
from deid.config import DeidConfig, load_config
from deid.errors import DeidError

EXIT_FAILED_RUN = 1
EXIT_ERROR = 2


def _common_zone_args(p: argparse.ArgumentParser, *, need_input: bool) -> None:
    if need_input:
        p.add_argument("--input", help="the export folder (DICOM files, any depth)")
    p.add_argument("--output", help="the de-identified zone")
    p.add_argument("--raw", help="the PHI zone (default: OUTPUT.phi-raw, beside OUTPUT)")
    p.add_argument("--crosswalk", help="the crosswalk zone (default: OUTPUT.crosswalk)")
    p.add_argument("--config", help="configuration YAML (default: conf/local.yaml)")


def _config(args: argparse.Namespace) -> DeidConfig:
    from deid.zones import default_phi_zones

    cfg = load_config(getattr(args, "config", None))
    output = getattr(args, "output", None) or cfg.zones.output
    raw, xw = getattr(args, "raw", None), getattr(args, "crosswalk", None)
    if output:
        d_raw, d_xw = default_phi_zones(output)
        raw = raw or cfg.zones.raw or d_raw
        xw = xw or cfg.zones.crosswalk or d_xw
    cfg = cfg.with_overrides(input=getattr(args, "input", None), output=output, raw=raw, crosswalk=xw)
    if getattr(args, "profile", None):
        cfg = cfg.model_copy(update={"profile": args.profile})
    return cfg


def _progress(stage: str, done: int, total: int) -> None:
    print(f"[{stage}] {done}/{total} files", file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    from deid.pipeline.runner import PipelineRun
    from deid.spark_session import get_spark

    cfg = _config(args)
    keyring = cfg.load_keyring()  # fail fast: before Spark starts
    from deid.header.profile import load_profile

    profile = load_profile(cfg.profile)
    from deid.pipeline.runner import resolve_zones

    resolve_zones(cfg, need_input=True)
    spark = get_spark(cfg.spark)
    run = PipelineRun(spark, cfg, keyring=keyring, profile=profile, progress=_progress)
    print(f"run {run.run_id}: profile {profile.name}, key {keyring.version}", file=sys.stderr)
    summary = run.run(do_ingest=True, do_deidentify=True)
    ing, de = summary.ingest, summary.deid
    if ing:
        print("\n".join(ing.summary_lines()))
    if de:
        print(f"de-identify: {de.n_inputs} inputs, {de.n_deidentified} de-identified, "
              f"{de.n_quarantined} quarantined, released={'yes' if de.released else 'no'}")
    for m in summary.messages:
        print(m)
    if de:
        from deid.report import build_report

        print(f"report: {build_report(run.tables, resolve_zones(cfg, need_input=False), run.run_id, keyring=keyring)}")
    print(f"status: {summary.status}")
    return 0 if summary.ok else EXIT_FAILED_RUN


def cmd_report(args: argparse.Namespace) -> int:
    from deid.errors import KeyMaterialError
    from deid.pipeline.runner import resolve_zones
    from deid.report import build_report
    from deid.spark_session import get_spark
    from deid.tables import Tables

    cfg = _config(args)
    zs = resolve_zones(cfg, need_input=False)
    keyring = None
    if args.before_after:
        try:
            keyring = cfg.load_keyring()
        except KeyMaterialError:
            raise DeidError("--before-after needs the key (it finds the inputs by their keyed digest)") from None
    tables = Tables(get_spark(cfg.spark), cfg.spark.backend)
    print(build_report(tables, zs, args.run_id, keyring=keyring))
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from deid.pipeline.runner import resolve_zones
    from deid.spark_session import get_spark
    from deid.sqlguard import READ_ONLY_CONF, check_read_only
    from deid.tables import CROSSWALK, METADATA, RUNS, Tables

    cfg = _config(args)
    zs = resolve_zones(cfg, need_input=False)
    names = ["metadata", "runs", "redactions"] + (["crosswalk"] if args.include_crosswalk else [])
    query = check_read_only(args.query, names)  # before Spark starts
    if args.include_crosswalk:
        _check_crosswalk_access(cfg, zs)
    spark = get_spark(cfg.spark)
    for key, value in READ_ONLY_CONF.items():
        spark.conf.set(key, value)
    tables = Tables(spark, cfg.spark.backend)
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
        df = spark.sql(query)
    except (AnalysisException, ParseException) as exc:
        cls = exc.getCondition() if hasattr(exc, "getCondition") else exc.__class__.__name__
        raise DeidError(f"the query failed ({cls}); views: {', '.join(v[0] for v in views)}") from None
    df.show(n=args.limit, truncate=args.truncate)
    return 0


def _check_crosswalk_access(cfg: DeidConfig, zs: object) -> None:
    """--include-crosswalk: the crosswalk zone must be there and the key (of this output) given."""
    from deid.pipeline.runlock import output_key_version
    from deid.zones import Zones, arrow_fs

    assert isinstance(zs, Zones)
    fs, inner = arrow_fs(zs.crosswalk_table)
    if fs.get_file_info(inner).type.name == "NotFound":
        raise DeidError("--include-crosswalk: the crosswalk zone has no crosswalk table (give --crosswalk)")
    keyring = cfg.load_keyring()
    recorded = output_key_version(zs.output)
    if recorded is not None and recorded != keyring.version:
        raise DeidError("--include-crosswalk needs the key this output was written with "
                        f"(key version {recorded})")


def cmd_keygen(args: argparse.Namespace) -> int:
    from deid.keys import new_master_key

    print(new_master_key())
    return 0


def cmd_crosswalk(args: argparse.Namespace) -> int:
    from deid.pipeline.export import export_crosswalk, lookup
    from deid.pipeline.runner import resolve_zones
    from deid.spark_session import get_spark
    from deid.tables import Tables

    cfg = _config(args)
    keyring = cfg.load_keyring()
    zs = resolve_zones(cfg, need_input=False)
    tables = Tables(get_spark(cfg.spark), cfg.spark.backend)
    if args.action == "export":
        if not args.dest:
            raise DeidError("crosswalk export needs --dest DIR (outside the de-identified output)")
        for name, n in export_crosswalk(tables, zs, keyring, args.dest).items():
            print(f"{name}: {n} rows")
        return 0
    if not args.pseudonym:
        raise DeidError("crosswalk lookup needs a pseudonym")
    found = lookup(tables, zs, keyring, args.pseudonym)
    for kind, original in found:
        print(f"{kind}\t{original}")
    return 0 if found else EXIT_FAILED_RUN


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deid", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"deid {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="ingest + de-identify an export on local Spark")
    _common_zone_args(p, need_input=True)
    p.add_argument("--profile", help="profile name or YAML path (default from config)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("sql", help="Spark SQL over the de-identified tables (metadata, runs)")
    _common_zone_args(p, need_input=False)
    p.add_argument("--include-crosswalk", action="store_true",
                   help="also register the crosswalk table as view 'crosswalk' (PHI zone)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--truncate", type=int, default=60)
    p.add_argument("query")
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser("report", help="write the run report (OUTPUT/reports/RUN_ID/index.html)")
    p.add_argument("run_id")
    _common_zone_args(p, need_input=False)
    p.add_argument("--before-after", action="store_true",
                   help="also write before/after pairs into the PHI zone (RAW/reports/RUN_ID; needs the key)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("keygen", help="print a new master key (64 hex digits)")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("crosswalk", help="export the crosswalk (needs the key) or look one value up")
    p.add_argument("action", choices=["export", "lookup"])
    p.add_argument("pseudonym", nargs="?")
    _common_zone_args(p, need_input=False)
    p.add_argument("--dest", help="export folder for the CSVs (PHI: keep outside OUTPUT)")
    p.set_defaults(func=cmd_crosswalk)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import os

    from deid.sparkerrors import CLI_LOG_LEVEL, LOG_LEVEL_ENV, as_deid_error

    args = build_parser().parse_args(argv)
    os.environ.setdefault(LOG_LEVEL_ENV, CLI_LOG_LEVEL)  # Spark's console logs can carry paths
    try:
        return int(args.func(args))
    except Exception as exc:  # noqa: BLE001 - Java/py4j errors become one PHI-free line
        err = as_deid_error(exc)
        if err is None:
            raise
        print(f"deid: error [{err.code}]: {err.message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
