"""Unity Catalog permissions of the crosswalk table: readable only by the re-identification group."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from deid.config import GrantMode, GrantsConfig
from deid.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_NAME = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+){2}$")


def grant_statements(table: str, group: str) -> list[str]:
    """REVOKE from everyone, GRANT SELECT to ``group`` (three-part table name, group name)."""
    if not _NAME.match(table):
        raise ConfigError("crosswalk.grants.table must be a three-part name catalog.schema.table")
    if not group or "`" in group:
        raise ConfigError("crosswalk.grants.group must name a group (no backticks)")
    return [
        f"REVOKE ALL PRIVILEGES ON TABLE {table} FROM `account users`",
        f"GRANT SELECT ON TABLE {table} TO `{group}`",
    ]


def apply_grants(spark: SparkSession, cfg: GrantsConfig, on_databricks_delta: bool) -> list[str]:
    """Apply or return (to print) the statements per ``cfg.mode``; returns the lines to show."""
    if cfg.mode is GrantMode.OFF:
        return []
    if not cfg.table or not cfg.group:
        raise ConfigError("crosswalk.grants.table and crosswalk.grants.group are required "
                          f"when crosswalk.grants.mode={cfg.mode.value}")
    statements = grant_statements(cfg.table, cfg.group)
    if cfg.mode is GrantMode.PRINT or not on_databricks_delta:
        return [s + ";" for s in statements]
    for s in statements:
        spark.sql(s)
    return [f"applied: {s}" for s in statements]
