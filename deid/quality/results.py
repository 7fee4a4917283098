"""Expectation results without values: what is stored, reported and shown.

great-expectations copies offending values into its results (``partial_unexpected_list``,
``partial_unexpected_counts``, ``unexpected_list``, ``details``). Those never leave this module: results
are requested as BASIC without unexpected rows and are then reduced to a whitelist of counts
(defence in depth: the whitelist holds even if a value list is returned anyway).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

from deid.quality.verify import VerificationSummary
from deid.tables import TS, TableSpec

# the result format asked of great-expectations: counts only, no rows, no partial value lists
RESULT_FORMAT: dict[str, Any] = {"result_format": "BASIC", "include_unexpected_rows": False,
                                 "partial_unexpected_count": 0}
_COUNT_KEYS = ("element_count", "unexpected_count", "missing_count")

QUALITY_RESULTS = TableSpec("quality_results", pa.schema([
    ("run_id", pa.string()), ("table_name", pa.string()), ("expectation", pa.string()),
    ("expectation_type", pa.string()), ("severity", pa.string()), ("success", pa.bool_()),
    ("element_count", pa.int64()), ("unexpected_count", pa.int64()), ("observed", pa.string()),
    ("checked_at", TS),
]))


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's outcome for one run; ``observed`` is a count or a number, never a value."""

    table_name: str
    expectation: str
    expectation_type: str
    severity: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    observed: str = ""

    @property
    def critical_failure(self) -> bool:
        return not self.success and self.severity == "critical"

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def safe_counts(result: dict[str, Any] | None) -> dict[str, int]:
    """Only the whitelisted integer counts of a GE result dict (value lists are dropped)."""
    out: dict[str, int] = {}
    for key in _COUNT_KEYS:
        n = _number((result or {}).get(key))
        if n is not None:
            out[key] = int(n)
    return out


def observed_summary(result: dict[str, Any] | None) -> str:
    """A value-free description: the unexpected share, a numeric observed value, or a list's length."""
    result = result or {}
    counts = safe_counts(result)
    if "unexpected_count" in counts and "element_count" in counts:
        return f"{counts['unexpected_count']} of {counts['element_count']} unexpected"
    observed = result.get("observed_value")
    n = _number(observed)
    if n is not None:
        return f"observed {n:g}" if isinstance(n, float) else f"observed {n}"
    if isinstance(observed, (list, tuple, set, dict)):
        return f"observed {len(observed)} items"
    return ""


def from_ge(table_name: str, name: str, type_: str, severity: str, success: bool,
            result: dict[str, Any] | None, raised: bool = False) -> ExpectationResult:
    counts = safe_counts(result)
    observed = "the expectation raised an error" if raised else observed_summary(result)
    return ExpectationResult(table_name, name, type_, severity, bool(success) and not raised,
                             counts.get("element_count"), counts.get("unexpected_count"), observed)


def results_table(run_id: str, results: list[ExpectationResult], checked_at: Any) -> pa.Table:
    rows = [{**r.as_row(), "run_id": run_id, "checked_at": checked_at} for r in results]
    return pa.Table.from_pylist(rows, schema=QUALITY_RESULTS.schema)


@dataclass
class GateReport:
    """What one gate call found (value-free): stored as quality.json and shown in the run report."""

    run_id: str
    passed: bool
    checked_at: str
    results: list[ExpectationResult] = field(default_factory=list)
    verification: VerificationSummary | None = None
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "passed": self.passed, "checked_at": self.checked_at,
                "results": [r.as_row() for r in self.results],
                "verification": asdict(self.verification) if self.verification else None,
                "failures": self.failures, "warnings": self.warnings}
