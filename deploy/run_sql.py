"""Job task: run a SQL file over the de-identified zone's tables (gate check, researchers' views).

    spark-submit deploy/run_sql.py --config conf/databricks.yaml [--output/--raw/--crosswalk LOC] \
        --file resources/sql/quality_gate.sql [--var catalog=main --var schema=deid_output]

The zone's Delta tables are registered as temporary views ``deid_metadata``, ``deid_runs`` and
``deid_redactions`` through :class:`deid.tables.Tables` (Spark Delta on Databricks and EMR, the
delta-rs fallback elsewhere). ``${name}`` in the file is replaced by ``--var name=value``; values
must be plain identifiers. Statements run in order; a failing one (e.g. ``assert_true``) fails the
task with exit code 1. Only the de-identified zone is read: the crosswalk is never registered.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from deid.entry import Entry, prepare, run, zone_args
from deid.errors import SqlFileError, SqlStatementError
from deid.sqlfile import parse_vars, render, split_statements

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["SqlFileError", "main", "parse_vars", "register_views", "render", "run_file", "split_statements"]
VIEWS = ("deid_metadata", "deid_runs", "deid_redactions")


def register_views(entry: Entry) -> None:
    """The de-identified zone's tables as temporary views (empty, with their schema, when absent)."""
    from deid.tables import METADATA, REDACTIONS, RUNS

    zs, tables = entry.zones, entry.tables
    tables.read(zs.metadata, METADATA).createOrReplaceTempView("deid_metadata")
    tables.read(zs.runs, RUNS).createOrReplaceTempView("deid_runs")
    red = tables.read_any(zs.redactions)
    if red is None:
        red = entry.spark.createDataFrame([], REDACTIONS.spark_schema())
    red.createOrReplaceTempView("deid_redactions")


def _statement(spark: SparkSession, name: str, stmt: str) -> None:
    """Run one statement; Spark's analysis and assertion errors fail it (condition and first line only)."""
    try:
        df = spark.sql(stmt)
        if stmt.lstrip().upper().startswith(("SELECT", "WITH")):
            df.collect()  # assertions are evaluated only when rows are computed
    except Exception as exc:  # noqa: BLE001 - Spark raises its own types; the class and condition are kept
        cond = exc.getCondition() if hasattr(exc, "getCondition") else None
        first = str(exc).splitlines()[0][:300] if str(exc) else ""
        raise SqlStatementError(f"{name} failed ({cond or exc.__class__.__name__}): {first}") from None


def run_file(spark: SparkSession, path: Path, variables: dict[str, str]) -> int:
    """Run every statement; returns how many ran."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise SqlFileError(f"the SQL file {path.name} cannot be read ({exc.__class__.__name__})") from None
    statements = split_statements(render(text, variables))
    for n, stmt in enumerate(statements, 1):
        _statement(spark, path.name, stmt)
        print(f"{path.name}: statement {n}/{len(statements)} done", flush=True)
    return len(statements)


def _run_sql(args: argparse.Namespace) -> int:
    variables = parse_vars(args.var)
    entry = prepare(args)
    register_views(entry)
    run_file(entry.spark, Path(args.file), variables)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    zone_args(p, config_required=True)
    p.add_argument("--file", required=True, help="SQL file to run")
    p.add_argument("--var", action="append", default=[], help="name=identifier, for ${name}")
    args = p.parse_args(argv)
    return run("run_sql", lambda: _run_sql(args))


if __name__ == "__main__":
    sys.exit(main())
