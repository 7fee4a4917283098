"""Expectation suites kept as YAML in ``conf/quality/<table>.yaml``, with a severity per expectation.

A suite file is ``{table: NAME, expectations: [{name, type, kwargs, severity}, ...]}``; ``type`` is a
great-expectations expectation type (``expect_column_values_to_be_unique``, ...). String values that
start with ``@`` are placeholders resolved when the suite is built (see :func:`placeholders`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from deid.config import conf_dir
from deid.errors import ConfigError, Reason


class Severity(str, Enum):
    CRITICAL = "critical"  # a failure stops the release
    WARNING = "warning"    # reported only


@dataclass(frozen=True)
class ExpectationSpec:
    name: str
    type: str
    kwargs: dict[str, Any] = field(hash=False)
    severity: Severity


@dataclass(frozen=True)
class Suite:
    table: str
    expectations: tuple[ExpectationSpec, ...]


def placeholders(today: dt.date) -> dict[str, Any]:
    """Values of the ``@`` placeholders for a run on ``today`` (UTC)."""
    from deid.crosswalk import CrosswalkKind
    from deid.header.attest import PixelStatus
    from deid.tables import CROSSWALK

    return {
        "@today": today,
        "@reason_codes": sorted(r.value for r in Reason),
        "@crosswalk_columns": list(CROSSWALK.columns),
        "@crosswalk_kinds": sorted(k.value for k in CrosswalkKind),
        "@burned_in_resolved": sorted(s.value for s in PixelStatus if s is not PixelStatus.UNVERIFIED),
    }


def resolve(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("@"):
        if value not in values:
            raise ConfigError(f"unknown placeholder {value!r}; known: {', '.join(sorted(values))}")
        return values[value]
    if isinstance(value, list):
        return [resolve(v, values) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, values) for k, v in value.items()}
    return value


def parse_suite(data: Any, source: str) -> Suite:
    """A suite from its YAML mapping; malformed entries are a ConfigError naming the entry."""
    if not isinstance(data, dict) or "table" not in data or not isinstance(data.get("expectations"), list):
        raise ConfigError(f"{source}: a suite needs 'table' and a list 'expectations'")
    specs = []
    seen: set[str] = set()
    for i, item in enumerate(data["expectations"]):
        if not isinstance(item, dict) or not {"name", "type"} <= set(item):
            raise ConfigError(f"{source}: expectations[{i}] needs 'name' and 'type'")
        extra = set(item) - {"name", "type", "kwargs", "severity"}
        if extra:
            raise ConfigError(f"{source}: expectations[{i}] has unknown keys {sorted(extra)}")
        try:
            severity = Severity(item.get("severity", "critical"))
        except ValueError:
            raise ConfigError(f"{source}: expectations[{i}].severity must be critical or warning") from None
        if item["name"] in seen:
            raise ConfigError(f"{source}: expectation name {item['name']!r} used twice")
        seen.add(item["name"])
        specs.append(ExpectationSpec(str(item["name"]), str(item["type"]), dict(item.get("kwargs") or {}),
                                     severity))
    return Suite(str(data["table"]), tuple(specs))


def load_suite(table: str, suite_dir: str | Path | None = None) -> Suite:
    p = Path(suite_dir) if suite_dir else conf_dir() / "quality"
    path = p / f"{table}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"suite '{path.name}' cannot be read ({exc.__class__.__name__})") from None
    suite = parse_suite(data, path.name)
    if suite.table != table:
        raise ConfigError(f"{path.name}: table is {suite.table!r}, expected {table!r}")
    return suite
