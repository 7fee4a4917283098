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
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from deid.config import DeidConfig

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
VIEWS = ("deid_metadata", "deid_runs", "deid_redactions")


class SqlFileError(Exception):
    """A SQL file or its variables cannot be used (the message names no data)."""


def parse_vars(items: list[str]) -> dict[str, str]:
    """``name=value`` pairs; names and values must be identifiers (they end up in DDL unquoted)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not _IDENT.match(name) or not _IDENT.match(value):
            raise SqlFileError(f"--var expects name=identifier, got {item.split('=')[0]!r}=...")
        out[name] = value
    return out


def render(sql: str, variables: dict[str, str]) -> str:
    """Replace ``${name}``; a variable the file uses but nobody gave is an error."""
    missing = sorted({m for m in _VAR.findall(sql) if m not in variables})
    if missing:
        raise SqlFileError("variables not given: " + ", ".join(missing))
    return _VAR.sub(lambda m: variables[m.group(1)], sql)


def split_statements(sql: str) -> list[str]:
    """Statements separated by ``;`` outside quotes, ``--`` comments removed."""
    statements: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(sql):
        c = sql[i]
        if quote:
            buf.append(c)
            if c == quote:
                quote = None
        elif c in ("'", '"', "`"):
            quote = c
            buf.append(c)
        elif c == "-" and sql.startswith("--", i):
            nl = sql.find("\n", i)
            i = len(sql) if nl < 0 else nl
            continue
        elif c == ";":
            statements.append("".join(buf).strip())
            buf = []
        else:
            buf.append(c)
        i += 1
    statements.append("".join(buf).strip())
    return [s for s in statements if s]


def register_views(spark: SparkSession, cfg: DeidConfig) -> None:
    """The de-identified zone's tables as temporary views (empty, with their schema, when absent)."""
    from deid.pipeline.runner import resolve_zones
    from deid.tables import METADATA, REDACTIONS, RUNS, Tables

    zs = resolve_zones(cfg, need_input=False)
    tables = Tables(spark, cfg.spark.backend)
    tables.read(zs.metadata, METADATA).createOrReplaceTempView("deid_metadata")
    tables.read(zs.runs, RUNS).createOrReplaceTempView("deid_runs")
    red = tables.read_any(zs.redactions)
    if red is None:
        red = spark.createDataFrame([], REDACTIONS.spark_schema())
    red.createOrReplaceTempView("deid_redactions")


def run_file(spark: SparkSession, path: Path, variables: dict[str, str]) -> int:
    """Run every statement; returns how many ran."""
    statements = split_statements(render(path.read_text(encoding="utf-8"), variables))
    for n, stmt in enumerate(statements, 1):
        df = spark.sql(stmt)
        if stmt.lstrip().upper().startswith(("SELECT", "WITH")):
            df.collect()  # assertions are evaluated only when rows are computed
        print(f"{path.name}: statement {n}/{len(statements)} done", flush=True)
    return len(statements)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--config", required=True)
    p.add_argument("--output", help="the de-identified zone (default: zones.output of the config)")
    p.add_argument("--raw", help="the PHI zone (default: zones.raw; only checked, never read)")
    p.add_argument("--crosswalk", help="the crosswalk zone (default: zones.crosswalk; never read)")
    p.add_argument("--file", required=True, help="SQL file to run")
    p.add_argument("--var", action="append", default=[], help="name=identifier, for ${name}")
    args = p.parse_args(argv)

    from deid.config import load_config
    from deid.errors import DeidError
    from deid.spark_session import get_spark

    try:
        variables = parse_vars(args.var)
        cfg = load_config(args.config).with_overrides(output=args.output, raw=args.raw,
                                                      crosswalk=args.crosswalk)
        spark = get_spark(cfg.spark)
        register_views(spark, cfg)
        run_file(spark, Path(args.file), variables)
    except (DeidError, SqlFileError) as err:
        print(f"run_sql: error: {err}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - Spark's analysis/assertion errors: report the class only
        cond = exc.getCondition() if hasattr(exc, "getCondition") else None  # type: ignore[attr-defined]
        print(f"run_sql: {Path(args.file).name} failed ({cond or exc.__class__.__name__}): "
              f"{str(exc).splitlines()[0][:300] if str(exc) else ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
